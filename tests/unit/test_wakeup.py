"""The pollers' wake-up: notified now, or at a time; a wake-up between two reads is never missed."""

from __future__ import annotations

import threading
import time

from demo.localcloud.pollers import Wakeup


def test_a_notify_wakes_a_waiting_poller_at_once():
    wakeup = Wakeup()
    seen = wakeup.generation
    threading.Timer(0.05, wakeup.notify).start()
    assert wakeup.wait(seen, timeout=30) == seen + 1  # woken, not timed out


def test_a_notify_before_the_wait_is_not_missed():
    wakeup = Wakeup()
    seen = wakeup.generation  # read before the poll...
    wakeup.notify()  # ...a message is sent during it...
    started = time.monotonic()
    assert wakeup.wait(seen, timeout=30) == seen + 1  # ...and the wait returns at once
    assert time.monotonic() - started < 30


def test_a_scheduled_wake_up_fires_when_it_falls_due_not_before():
    wakeup = Wakeup()
    seen = wakeup.generation
    started = time.monotonic()
    wakeup.notify(after=0.3)
    assert wakeup.wait(seen, timeout=30) == seen + 1
    assert time.monotonic() - started >= 0.3


def test_without_a_wake_up_the_wait_times_out_on_the_same_generation():
    wakeup = Wakeup()
    seen = wakeup.generation
    wakeup.notify(after=60)  # due long after the timeout
    assert wakeup.wait(seen, timeout=0.05) == seen
