"""What the bank tells its fintech client: ``cardtransaction.update`` and ``balance.update`` webhooks.

Each webhook id is derived from the notification that caused it (UUID 5), so that sending the
same webhook twice, after a retry or a redelivery, gives the client the same id to deduplicate.
The envelope has the same shape as the processor's, and is signed with the same scheme.
"""

from __future__ import annotations

import uuid
from typing import Any

from demo.bank.ledger import Balance
from demo.bank.notifications import PAYIN_RECEIVED, Notification

CARDTRANSACTION_UPDATE = "cardtransaction.update"
BALANCE_UPDATE = "balance.update"

_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4e4b-9a57-2f0f4a8b9c10")  # this bank's webhook ids

_STATUS = {
    "card.authorization": "authorized",
    "card.settlement": "settled",
    "card.reversal": "reversed",
    "card.refund": "refunded",
}


def webhook_id(notification_id: str, webhook: str) -> str:
    """The stable id of the ``webhook`` caused by ``notification_id``."""
    return str(uuid.uuid5(_NAMESPACE, f"{notification_id}/{webhook}"))


def _envelope(
    webhook: str,
    notification: Notification,
    created_at: int,
    obj: str,
    object_id: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "webhook": webhook,
        "webhook_id": webhook_id(notification.notification_id, webhook),
        "webhook_created_at": created_at,
        "object": obj,
        "object_id": object_id,
        "object_payload": payload,
    }


def client_webhooks(notification: Notification, balance: Balance, created_at: int) -> list[dict[str, Any]]:
    """The webhooks an applied notification sends to the client: the card transaction (for card
    notifications), then the wallet's balance after it."""
    n = notification
    webhooks = []
    if n.webhook != PAYIN_RECEIVED:
        payload = {
            "wallet_id": n.wallet_id,
            "authorization_id": n.authorization_id,
            "status": _STATUS[n.webhook],
            "amount": n.amount,
            "currency": balance.currency,
        }
        if n.merchant is not None:
            payload["merchant"] = {"name": n.merchant.name, "mcc": n.merchant.mcc}
        webhooks.append(
            _envelope(CARDTRANSACTION_UPDATE, n, created_at, "cardtransaction", n.object_id, payload)
        )
    webhooks.append(_envelope(BALANCE_UPDATE, n, created_at, "wallet", n.wallet_id, balance.to_dict()))
    return webhooks
