"""The audit trail (its own table, append-only) and the bank's running counters (in the ledger table).

| table  | item     | pk                    | sk             | attributes                                  |
|--------|----------|-----------------------|----------------|---------------------------------------------|
| audit  | event    | ``AUDIT#<wallet_id>`` | ``EVENT#<id>`` | type, occurred_at, notification_id, detail  |
| ledger | counters | ``STATS``             | ``COUNTERS``   | webhooks_delivered, replays_refused         |

The audit writer records a whole SQS batch of events in one BatchWriteItem (25 items a call, one
write unit each, as many as PutItems). An event id always names the same event: the worker
publishes a redelivered notification's events from what the ledger kept with it (its balance,
its time), so an entry written again is written identical, and the history stays append-only
without a condition on each write (which BatchWriteItem cannot carry).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from demo.bank.events import DomainEvent

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

MAX_ITEMS = 25  # BatchWriteItem takes at most 25 put requests


class NotRecorded(RuntimeError):
    """DynamoDB left entries unprocessed (throttled) after every retry: their records fail."""


class AuditTrail:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def item(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "pk": {"S": f"AUDIT#{event.wallet_id}"},
            "sk": {"S": f"EVENT#{event.event_id}"},
            "type": {"S": event.type},
            "occurred_at": {"N": str(event.occurred_at)},
            "notification_id": {"S": event.notification_id},
            "detail": {"S": json.dumps(event.to_detail())},
        }

    def batch(self) -> AuditBatch:
        """The entries of one SQS batch, written together by :meth:`AuditBatch.flush`."""
        return AuditBatch(self)

    def write(self, entries: list[tuple[str, DomainEvent]], retries: int = 5) -> dict[str, BaseException]:
        """Write the events (each named by its SQS record); the records whose entries were not written."""
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        records: dict[tuple[str, str], list[str]] = {}
        for record, event in entries:  # an event twice in one batch: one write (BatchWriteItem refuses twins)
            item = self.item(event)
            key = (item["pk"]["S"], item["sk"]["S"])
            by_key[key] = item
            records.setdefault(key, []).append(record)
        failed: dict[str, BaseException] = {}
        keys = list(by_key)
        for start in range(0, len(keys), MAX_ITEMS):
            chunk = keys[start : start + MAX_ITEMS]
            try:
                left = self._write([by_key[k] for k in chunk], retries)
            except Exception as error:  # DynamoDB down (an outage), or unreachable
                failed.update({r: error for k in chunk for r in records[k]})
                continue
            for unwritten in left:
                refused = NotRecorded(f"{unwritten['sk']['S']}: DynamoDB left it unprocessed (throttled)")
                failed.update({r: refused for r in records[(unwritten["pk"]["S"], unwritten["sk"]["S"])]})
        return failed

    def _write(self, items: list[dict[str, Any]], retries: int) -> list[Mapping[str, Any]]:
        """One BatchWriteItem, its unprocessed items retried with backoff; what is still left."""
        requests: Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef] = [
            {"PutRequest": {"Item": item}} for item in items
        ]
        for attempt in range(retries + 1):
            response = self._client.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table, [])
            if not requests or attempt == retries:
                break
            time.sleep(0.05 * 2**attempt)  # throttled: DynamoDB asks to back off before trying again
        return [request["PutRequest"]["Item"] for request in requests]

    def count(self) -> int:
        """Distinct events recorded, all wallets (a scan: for the demo's status, not a hot path)."""
        total = 0
        kwargs: dict[str, Any] = {"TableName": self._table, "Select": "COUNT"}
        while True:
            page = self._client.scan(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def history(self, wallet_id: str) -> list[dict[str, Any]]:
        """The wallet's events, oldest first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"AUDIT#{wallet_id}"}},
        }
        while True:
            page = self._client.query(**kwargs)
            items += [json.loads(item["detail"]["S"]) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(items, key=lambda d: (d["occurred_at"], d["type"] != "CardTransactionUpdated"))


class AuditBatch:
    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail
        self._entries: list[tuple[str, DomainEvent]] = []

    def add(self, record_id: str, event: DomainEvent) -> None:
        self._entries.append((record_id, event))

    def flush(self) -> dict[str, BaseException]:
        entries, self._entries = self._entries, []
        return self._trail.write(entries)


class Counters:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def add(self, name: str, amount: int = 1) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": "STATS"}, "sk": {"S": "COUNTERS"}},
            UpdateExpression="ADD #n :amount",
            ExpressionAttributeNames={"#n": name},
            ExpressionAttributeValues={":amount": {"N": str(amount)}},
        )

    def read(self) -> dict[str, int]:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": "STATS"}, "sk": {"S": "COUNTERS"}}, ConsistentRead=True
        ).get("Item", {})
        return {k: int(v["N"]) for k, v in item.items() if "N" in v}
