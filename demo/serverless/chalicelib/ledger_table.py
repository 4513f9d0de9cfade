"""The DynamoDB adapter of the ledger: one TransactWriteItems per notification.

Single-table layout (partition key ``pk``, sort key ``sk``):

| item            | pk                     | sk              | attributes                              |
|-----------------|------------------------|-----------------|-----------------------------------------|
| wallet balance  | ``WALLET#<wallet_id>`` | ``BALANCE``     | current_balance, authorizations, frozen |
| authorization   | ``WALLET#<wallet_id>`` | ``AUTH#<id>``   | authorized_amount, closed, refused, ... |
| seen marker     | ``NOTIFICATION#<id>``  | ``SEEN``        | wallet_id, applied_at                   |
| review (step 3) | ``REVIEW``             | ``<review_id>`` | status, task_token, ... (chalicelib.reviews) |

The seen marker and the balance change commit in one transaction, so a redelivered notification
either finds its marker (and changes nothing) or was never applied: idempotent by construction.
A new hold on a wallet is conditional on the wallet not being frozen (the review workflow
freezes it with one UpdateItem), so a freeze is never overtaken by an authorization in flight.
"""

from __future__ import annotations

import time
from typing import Any

from demo.bank.ledger import Authorization, Balance, LedgerEntry
from demo.bank.ports import ConcurrentUpdate, WalletFrozen

BALANCE = "BALANCE"


def wallet_key(wallet_id: str) -> str:
    return f"WALLET#{wallet_id}"


class DynamoDBLedger:
    """A :class:`demo.bank.ports.LedgerStore` on one DynamoDB table (a low-level boto3 client)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def authorization(self, wallet_id: str, authorization_id: str) -> Authorization | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": wallet_key(wallet_id)}, "sk": {"S": f"AUTH#{authorization_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        amount = item.get("authorized_amount")
        return Authorization(
            wallet_id=wallet_id,
            authorization_id=authorization_id,
            authorized_amount=int(amount["N"]) if amount else None,
            closed=item["closed"]["BOOL"],
            version=int(item["version"]["N"]),
            refused=item.get("refused", {}).get("BOOL", False),
        )

    # --8<-- [start:commit]
    def commit(self, entry: LedgerEntry) -> bool:
        now = str(int(time.time()))
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"NOTIFICATION#{entry.notification_id}"},
                        "sk": {"S": "SEEN"},
                        "wallet_id": {"S": entry.wallet_id},
                        "applied_at": {"N": now},
                        "digest": {"S": entry.digest},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": wallet_key(entry.wallet_id)}, "sk": {"S": BALANCE}},
                    "UpdateExpression": "SET currency = :eur, updated_at = :now "
                    "ADD current_balance :current, authorizations :holds",
                    "ExpressionAttributeValues": {
                        ":eur": {"S": "EUR"},
                        ":now": {"N": now},
                        ":current": {"N": str(entry.current_delta)},
                        ":holds": {"N": str(entry.authorizations_delta)},
                    },
                }
            },
        ]
        if entry.authorizations_delta > 0:  # a new hold: not on a frozen wallet
            items[1]["Update"]["ConditionExpression"] = "attribute_not_exists(frozen) OR frozen = :no"
            items[1]["Update"]["ExpressionAttributeValues"][":no"] = {"BOOL": False}
        if entry.authorization is not None:
            items.append({"Put": self._authorization_put(entry.authorization)})
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # the marker exists: this notification was applied before
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise WalletFrozen(entry.wallet_id) from None
            if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                raise ConcurrentUpdate(f"authorization changed under {entry.notification_id}") from None
            raise
        return True
        # --8<-- [end:commit]

    def _authorization_put(self, auth: Authorization) -> dict[str, Any]:
        item = {
            "pk": {"S": wallet_key(auth.wallet_id)},
            "sk": {"S": f"AUTH#{auth.authorization_id}"},
            "closed": {"BOOL": auth.closed},
            "version": {"N": str(auth.version + 1)},
        }
        if auth.refused:
            item["refused"] = {"BOOL": True}
        if auth.authorized_amount is not None:
            item["authorized_amount"] = {"N": str(auth.authorized_amount)}
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        if auth.version == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :read"
            put["ExpressionAttributeValues"] = {":read": {"N": str(auth.version)}}
        return put

    def seen_digest(self, notification_id: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"NOTIFICATION#{notification_id}"}, "sk": {"S": "SEEN"}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else item.get("digest", {}).get("S", "")

    def balance(self, wallet_id: str) -> Balance | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": wallet_key(wallet_id)}, "sk": {"S": BALANCE}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return Balance(
            wallet_id=wallet_id,
            current_balance=int(item["current_balance"]["N"]),
            authorizations=int(item["authorizations"]["N"]),
            currency=item["currency"]["S"],
            frozen=item.get("frozen", {}).get("BOOL", False),
        )
