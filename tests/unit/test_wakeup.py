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


def test_a_burst_of_messages_wakes_a_poller_per_batch_of_ten_not_one_per_message():
    from demo.localcloud.emulator import coalesce

    burst = ["webhooks\t0.0"] * 20 + ["audit\t0.0"] * 3 + ["webhooks\t2.05"] * 2 + ["*\t0"] * 2
    assert coalesce(burst) == ["webhooks\t0.0", "webhooks\t0.0", "audit\t0.0", "webhooks\t2.05", "*\t0"]
    assert coalesce(["webhooks\t0.0"] * 21) == ["webhooks\t0.0"] * 3
    assert coalesce(['{"port": 4566}']) == ['{"port": 4566}']  # the ready line passes as it is


def test_one_message_wakes_one_of_two_waiting_pollers_and_the_other_sleeps_on():
    wakeup = Wakeup()
    wakeup.serves(2)
    seen = wakeup.generation
    woken = []
    waiters = [
        threading.Thread(target=lambda: woken.append(wakeup.wait(seen, timeout=1.0))) for _ in range(2)
    ]
    for waiter in waiters:
        waiter.start()
    wakeup.notify()
    for waiter in waiters:
        waiter.join()
    assert sorted(woken) == [seen, seen + 1]  # one woken, the other timed out


def test_a_poller_busy_during_a_wake_up_taken_by_another_does_not_poll_again_for_it():
    wakeup = Wakeup()
    wakeup.serves(2)
    busy = wakeup.generation  # one poller reads the generation, then polls...
    wakeup.notify()  # ...a message comes...
    assert wakeup.wait(wakeup.generation - 1, timeout=30) == busy + 1  # ...the other poller takes it
    assert wakeup.wait(busy, timeout=0.05) == busy  # the first, done, sleeps: nothing is left for it


def test_wake_ups_while_every_poller_is_busy_are_kept_one_per_poller():
    wakeup = Wakeup()
    wakeup.serves(2)
    seen = wakeup.generation
    for _ in range(5):
        wakeup.notify()
    assert wakeup.wait(seen, timeout=30) == seen + 5
    assert wakeup.wait(seen, timeout=30) == seen + 5
    assert wakeup.wait(seen, timeout=0.05) == seen  # the third poll would find nothing: not woken


def test_notify_all_wakes_every_waiting_poller():
    wakeup = Wakeup()
    seen = wakeup.generation
    wakeup.notify_all()
    assert wakeup.wait(seen, timeout=30) == seen + 1
    assert wakeup.wait(seen, timeout=30) == seen + 1
