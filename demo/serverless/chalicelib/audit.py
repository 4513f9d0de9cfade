"""The audit trail (its own table, append-only) and the bank's running counters (in the ledger table).

| table  | item     | pk                    | sk             | attributes                                  |
|--------|----------|-----------------------|----------------|---------------------------------------------|
| audit  | event    | ``AUDIT#<wallet_id>`` | ``EVENT#<id>`` | type, occurred_at, notification_id, detail  |
| ledger | counters | ``STATS``             | ``COUNTERS``   | webhooks_delivered                          |
"""

from __future__ import annotations

import json
from typing import Any

from demo.bank.events import DomainEvent


class AuditTrail:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def record(self, event: DomainEvent) -> bool:
        """Append ``event`` once: False if it was already recorded (a redelivery or a re-publish)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"AUDIT#{event.wallet_id}"},
                    "sk": {"S": f"EVENT#{event.event_id}"},
                    "type": {"S": event.type},
                    "occurred_at": {"N": str(event.occurred_at)},
                    "notification_id": {"S": event.notification_id},
                    "detail": {"S": json.dumps(event.to_detail())},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def count(self) -> int:
        """Distinct events recorded, all wallets (a scan: for the demo's status, not a hot path)."""
        total, kwargs = 0, {"TableName": self._table, "Select": "COUNT"}
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


class Counters:
    def __init__(self, client: Any, table: str) -> None:
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
