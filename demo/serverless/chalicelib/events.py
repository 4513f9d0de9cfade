"""The EventBridge adapter: publishes domain events on the custom bus.

The worker publishes the events of a whole SQS batch at once (:meth:`EventBridgePublisher.batch`):
PutEvents takes up to 10 entries per call, and is billed per entry, not per call, so ten
notifications' events cost two or three calls instead of ten. A record whose events did not all
get published fails, and its redelivery publishes them again (consumers deduplicate by event id:
ADR 0001).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from demo.bank.events import SOURCE, DomainEvent

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_events.type_defs import PutEventsRequestEntryTypeDef

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call...
MAX_BYTES = 256 * 1024  # ...of 256 KB in all


class PublishFailed(RuntimeError):
    """EventBridge refused some entries. When its ``error_code`` says EventBridge itself failed
    (throttled, an internal failure), it is an outage: the record is put back for later, its
    receives kept (chalicelib.outages); otherwise the record fails and SQS redelivers it."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_code = error_code


class EventBridgePublisher:
    """A :class:`demo.bank.ports.EventPublisher` on one EventBridge bus."""

    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, events: list[DomainEvent]) -> None:
        errors = self.batch().publish_all(("-", event) for event in events)
        if errors:
            raise next(iter(errors.values()))

    def batch(self) -> EventBatch:
        """A publisher for one SQS batch: it keeps each record's events until :meth:`EventBatch.flush`."""
        return EventBatch(self)

    def _entry(self, event: DomainEvent) -> dict[str, str]:
        return {
            "Source": SOURCE,
            "DetailType": event.type,
            "Detail": json.dumps(event.to_detail()),
            "EventBusName": self._bus,
        }

    def _put(self, entries: list[dict[str, str]]) -> list[str | None]:
        """One PutEvents; the error code of each entry (None: published)."""
        # the entries are _entry's: Source, DetailType, Detail and EventBusName, each a str
        response = self._client.put_events(Entries=cast("list[PutEventsRequestEntryTypeDef]", entries))
        if not response.get("FailedEntryCount"):
            return [None] * len(entries)
        return [None if "EventId" in e else e.get("ErrorCode", "Unknown") for e in response["Entries"]]


class EventBatch:
    """The events of one SQS batch, by record, published together at the end of the batch."""

    def __init__(self, publisher: EventBridgePublisher) -> None:
        self._publisher = publisher
        self._events: list[tuple[str, DomainEvent]] = []

    def of(self, record_id: str) -> _RecordEvents:
        """The :class:`demo.bank.ports.EventPublisher` of one record: it publishes at :meth:`flush`."""
        return _RecordEvents(self, record_id)

    def flush(self) -> dict[str, BaseException]:
        """Publish every record's events; the records whose events were not all published, with why."""
        events, self._events = self._events, []
        return self.publish_all(events)

    def publish_all(self, events: Iterable[tuple[str, DomainEvent]]) -> dict[str, BaseException]:
        failed: dict[str, BaseException] = {}
        for chunk in _chunks([(record, self._publisher._entry(event)) for record, event in events]):
            try:
                codes = self._publisher._put([entry for _, entry in chunk])
            except Exception as error:  # EventBridge down (an outage), or unreachable
                failed.update({record: error for record, _ in chunk})
                continue
            for (record, _), code in zip(chunk, codes, strict=True):
                if code is not None:
                    failed.setdefault(record, PublishFailed(f"event(s) not published: {code}", code))
        return failed


class _RecordEvents:
    def __init__(self, batch: EventBatch, record_id: str) -> None:
        self._batch = batch
        self._record = record_id

    def publish(self, events: list[DomainEvent]) -> None:
        self._batch._events.extend((self._record, event) for event in events)


def _chunks(entries: list[tuple[str, dict[str, str]]]) -> list[list[tuple[str, dict[str, str]]]]:
    """Entries in PutEvents-sized groups: at most 10 entries and 256 KB each."""
    chunks: list[list[tuple[str, dict[str, str]]]] = []
    size = 0
    for record, entry in entries:
        entry_size = sum(len(value.encode()) for value in entry.values())
        if not chunks or len(chunks[-1]) == MAX_ENTRIES or size + entry_size > MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append((record, entry))
        size += entry_size
    return chunks
