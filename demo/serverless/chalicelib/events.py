"""The EventBridge adapter: publishes domain events on the custom bus."""

from __future__ import annotations

import json
from typing import Any

from demo.bank.events import SOURCE, DomainEvent

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


class PublishFailed(RuntimeError):
    """EventBridge refused some entries: the caller fails the record and SQS redelivers it."""


class EventBridgePublisher:
    """A :class:`demo.bank.ports.EventPublisher` on one EventBridge bus."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, events: list[DomainEvent]) -> None:
        for start in range(0, len(events), MAX_ENTRIES):
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": event.type,
                    "Detail": json.dumps(event.to_detail()),
                    "EventBusName": self._bus,
                }
                for event in events[start : start + MAX_ENTRIES]
            ]
            response = self._client.put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                errors = {e.get("ErrorCode") for e in response.get("Entries", []) if e.get("ErrorCode")}
                raise PublishFailed(f"{response['FailedEntryCount']} event(s) not published: {errors}")
