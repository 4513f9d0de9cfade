"""Running the monolith and its client for a test, and waiting on them with deadlines."""

from __future__ import annotations

from polling import poll_until


def drained(monolith) -> bool:
    status = monolith.status()
    return status["queue_depth"] == 0 and not status["worker_busy"] and not status["pending_by_wallet"]


def wait_until_drained(monolith, timeout: float = 60.0) -> None:
    poll_until(lambda: drained(monolith), timeout=timeout)
