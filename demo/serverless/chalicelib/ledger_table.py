"""The DynamoDB adapter of the ledger: one read and one TransactWriteItems per notification.

Single-table layout (partition key ``pk``, sort key ``sk``):

| item            | pk                     | sk              | attributes                                       |
|-----------------|------------------------|-----------------|--------------------------------------------------|
| wallet balance  | ``WALLET#<wallet_id>`` | ``BALANCE``     | current_balance, authorizations, version, frozen |
| authorization   | ``WALLET#<wallet_id>`` | ``AUTH#<id>``   | authorized_amount, closed, refused, version      |
| seen marker     | ``NOTIFICATION#<id>``  | ``SEEN``        | wallet_id, applied_at, digest, the balance after |
| review (step 3) | ``REVIEW``             | ``<review_id>`` | status, task_token, ... (chalicelib.reviews)     |

The worker reads the balance (and the authorization) in one request, decides, then writes the
seen marker, the new balance and the authorization in one transaction, each conditional: the
marker must not exist (else the notification was applied before), the balance and the
authorization must still be at the version read (else someone wrote in between: read again).
So a redelivered notification either finds its marker (and changes nothing) or was never
applied: idempotent by construction. The marker keeps the balance right after the notification,
and a redelivery gets it back from the failed condition (``ReturnValuesOnConditionCheckFailure``)
without another read. The review workflow's freeze bumps the balance's version, so a freeze is
never overtaken by an authorization in flight.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalicelib.cards import card_item
from demo.bank.ledger import Authorization, Balance, Committed, LedgerEntry, WalletState
from demo.bank.ports import ConcurrentUpdate

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef, TransactWriteItemTypeDef

BALANCE = "BALANCE"
# Attributes of the balance item this adapter writes; any other (the workflow's frozen_by, ...) is kept
_BALANCE_FIELDS = ("current_balance", "authorizations", "currency", "version", "updated_at")


def wallet_key(wallet_id: str) -> str:
    return f"WALLET#{wallet_id}"


def _key(pk: str, sk: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _balance(wallet_id: str, item: Mapping[str, Any]) -> Balance:
    return Balance(
        wallet_id=wallet_id,
        current_balance=int(item.get("current_balance", {}).get("N", "0")),
        authorizations=int(item.get("authorizations", {}).get("N", "0")),
        currency=item.get("currency", {}).get("S", "EUR"),
        frozen=item.get("frozen", {}).get("BOOL", False),
        version=int(item.get("version", {}).get("N", "0")),
    )


def _authorization(wallet_id: str, authorization_id: str, item: Mapping[str, Any]) -> Authorization:
    amount = item.get("authorized_amount")
    return Authorization(
        wallet_id=wallet_id,
        authorization_id=authorization_id,
        authorized_amount=int(amount["N"]) if amount else None,
        closed=item["closed"]["BOOL"],
        version=int(item["version"]["N"]),
        refused=item.get("refused", {}).get("BOOL", False),
    )


class _Known:
    """The wallets and authorizations this ledger last read or wrote, as it left them (an LRU).

    A warm execution environment remembers them between notifications: a commit decided from
    them is conditional on their versions, exactly as one decided from a fresh read, so a stale
    one costs a refused commit (then a fresh read), never a wrong balance.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, *keys: tuple[str, str]) -> None:
        with self._lock:
            for key in keys:
                self._items.pop(key, None)


class DynamoDBLedger:
    """A :class:`demo.bank.ports.LedgerStore` on one DynamoDB table (a low-level boto3 client)."""

    def __init__(self, client: DynamoDBClient, table: str, remember: int = 10_000) -> None:
        self._client = client
        self._table = table
        self._known = _Known(remember)

    # --8<-- [start:read]
    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        """The balance and the authorization: as this ledger last wrote or read them, if it
        remembers the wallet (a new authorization is taken to be new); else strongly consistent,
        in one request. A commit checks the versions either way."""
        balance_key = (wallet_id, BALANCE)
        auth_key = (wallet_id, f"AUTH#{authorization_id}")
        known = self._known.get(balance_key)
        if known is not None:
            balance, item = known
            auth = None if authorization_id is None else self._known.get(auth_key)
            return WalletState(balance, auth, token=item)
        keys = [_key(wallet_key(wallet_id), BALANCE)]
        if authorization_id is not None:
            keys.append(_key(wallet_key(wallet_id), f"AUTH#{authorization_id}"))
        items = self._get_all(keys)
        item = items.get(BALANCE)
        state = WalletState(
            balance=None if item is None else _balance(wallet_id, item),
            authorization=None
            if f"AUTH#{authorization_id}" not in items
            else _authorization(wallet_id, str(authorization_id), items[f"AUTH#{authorization_id}"]),
            token=item,  # the item as read: written back with its other attributes
        )
        if item is not None:
            self._known.put(balance_key, (state.balance, item))
            if state.authorization is not None:
                self._known.put(auth_key, state.authorization)
        return state
        # --8<-- [end:read]

    def _get_all(self, keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The items of ``keys`` by sort key (one GetItem, or one BatchGetItem and its unprocessed keys)."""
        if len(keys) == 1:
            item = self._client.get_item(TableName=self._table, Key=keys[0], ConsistentRead=True).get("Item")
            return {} if item is None else {item["sk"]["S"]: item}
        found: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(8):
            response = self._client.batch_get_item(RequestItems=request)
            found.update(
                {item["sk"]["S"]: item for item in response.get("Responses", {}).get(self._table, [])}
            )
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(0.05 * 2**attempt)  # throttled: DynamoDB asks to back off before asking again
        raise RuntimeError("DynamoDB left keys unprocessed eight times in a row (throttled): retry later")

    # --8<-- [start:commit]
    def commit(self, entry: LedgerEntry, state: WalletState, applied_at: int) -> Committed:
        after = entry.balance_after(state.balance)
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **_key(f"NOTIFICATION#{entry.notification_id}", "SEEN"),
                        "wallet_id": {"S": entry.wallet_id},
                        "applied_at": {"N": str(applied_at)},
                        "digest": {"S": entry.digest},
                        **self._balance_attributes(after),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # a redelivery: what was kept
                }
            },
            {"Put": self._balance_put(after, state, applied_at)},
        ]
        auth = entry.authorization
        if auth is not None:
            items.append({"Put": self._authorization_put(auth)})
        if entry.card is not None:  # the authorization's card, sealed: kept exactly when it is applied
            items.append({"Put": {"TableName": self._table, "Item": card_item(entry.card)}})
        known = [(entry.wallet_id, BALANCE)] + (
            [] if auth is None else [(auth.wallet_id, f"AUTH#{auth.authorization_id}")]
        )
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            codes = [reason.get("Code") for reason in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":  # applied before
                return self._committed_before(entry.wallet_id, reasons[0].get("Item"))
            if "ConditionalCheckFailed" in codes[1:]:  # the wallet or the authorization changed
                self._learn(entry.wallet_id, known, reasons)  # as they are now: no read before the retry
                raise ConcurrentUpdate(f"the wallet changed under {entry.notification_id}") from None
            if "TransactionConflict" in codes:  # another transaction on these items was in flight
                self._known.forget(*known)  # it may have changed them: read them again
                raise ConcurrentUpdate(f"a transaction conflicted with {entry.notification_id}") from None
            raise
        self._known.put(known[0], (after, items[1]["Put"]["Item"]))
        if auth is not None:
            self._known.put(known[1], replace(auth, version=auth.version + 1))
        return Committed(True, after, applied_at, entry.digest)
        # --8<-- [end:commit]

    def _learn(
        self, wallet_id: str, known: list[tuple[str, str]], reasons: Sequence[Mapping[str, Any]]
    ) -> None:
        """Remember the balance and the authorization as a refused commit found them (their Puts
        ask for the item when their condition fails): the retry decides without reading them."""
        for index, key in enumerate(known, start=1):  # the marker is the transaction's item 0
            reason = reasons[index] if len(reasons) > index else {}
            if reason.get("Code") != "ConditionalCheckFailed":
                continue  # its condition held: what this ledger knows of it is still right
            item = reason.get("Item")
            if item is None:  # refused, and not returned: read both again
                self._known.forget(*known)
                return
            if index == 1:
                self._known.put(key, (_balance(wallet_id, item), item))
            else:
                self._known.put(key, _authorization(wallet_id, key[1].removeprefix("AUTH#"), item))

    @staticmethod
    def _balance_attributes(balance: Balance) -> dict[str, AttributeValueTypeDef]:
        return {
            "current_balance": {"N": str(balance.current_balance)},
            "authorizations": {"N": str(balance.authorizations)},
            "currency": {"S": balance.currency},
            "version": {"N": str(balance.version)},
        }

    def _balance_put(self, after: Balance, state: WalletState, applied_at: int) -> PutTypeDef:
        read: dict[str, Any] = state.token if isinstance(state.token, dict) else {}
        kept = {name: value for name, value in read.items() if name not in _BALANCE_FIELDS}
        item = {
            **kept,
            **_key(wallet_key(after.wallet_id), BALANCE),
            **self._balance_attributes(after),
            "updated_at": {"N": str(applied_at)},
        }
        # a failed condition returns the balance as it is: the retry needs no read
        put: PutTypeDef = {
            "TableName": self._table,
            "Item": item,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if state.balance is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        elif state.balance.version == 0:  # written before balances had versions
            put["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(version)"
        else:
            put["ConditionExpression"] = "version = :read"
            put["ExpressionAttributeValues"] = {":read": {"N": str(state.balance.version)}}
        return put

    def _committed_before(self, wallet_id: str, marker: Mapping[str, Any] | None) -> Committed:
        if marker is None or "version" not in marker:  # a marker written before markers kept balances
            marker = marker or {}
            balance = self.balance(wallet_id) or Balance(wallet_id, 0, 0)
        else:
            balance = _balance(wallet_id, marker)
        applied_at = int(marker.get("applied_at", {}).get("N", "0"))
        return Committed(False, balance, applied_at, marker.get("digest", {}).get("S", ""))

    def _authorization_put(self, auth: Authorization) -> PutTypeDef:
        item: dict[str, AttributeValueTypeDef] = {
            **_key(wallet_key(auth.wallet_id), f"AUTH#{auth.authorization_id}"),
            "closed": {"BOOL": auth.closed},
            "version": {"N": str(auth.version + 1)},
        }
        if auth.refused:
            item["refused"] = {"BOOL": True}
        if auth.authorized_amount is not None:
            item["authorized_amount"] = {"N": str(auth.authorized_amount)}
        put: PutTypeDef = {
            "TableName": self._table,
            "Item": item,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
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
            TableName=self._table, Key=_key(wallet_key(wallet_id), BALANCE), ConsistentRead=True
        ).get("Item")
        return None if item is None else _balance(wallet_id, item)
