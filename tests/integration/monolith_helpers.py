"""Running the monolith and its client for a test, and waiting on them with deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def poll_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def drained(monolith) -> bool:
    status = monolith.status()
    return status["queue_depth"] == 0 and not status["pending_by_wallet"]


def wait_until_drained(monolith, timeout: float = 60.0) -> None:
    poll_until(lambda: drained(monolith), timeout=timeout)
