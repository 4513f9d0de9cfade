"""Helpers for tests on the session's one local cloud, which earlier tests on the worker have used."""

from __future__ import annotations

from typing import Any


def dead_letters(cloud: Any) -> dict[str, int]:
    """Messages waiting in each dead-letter queue (scenario tests leave their poison there, on purpose)."""
    return {q: d["visible"] + d["in_flight"] for q, d in cloud.queue_depths().items() if q.endswith("-dlq")}
