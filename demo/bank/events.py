"""Domain events: what happened to a wallet, told to whoever listens (the client's webhooks, the audit).

Each event id is derived from the notification that caused it (UUID 5). The worker publishes
after its ledger commit, and publishes again when the same notification is delivered again: a
crash between the commit and the publish is repaired by the redelivery, and every consumer
deduplicates by event id. (docs: ADR 0001, publish after commit.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from demo.bank import reviews
from demo.bank.ledger import Balance
from demo.bank.notifications import PAYIN_RECEIVED, Notification

SOURCE = "bank.ledger"
CARD_TRANSACTION_UPDATED = "CardTransactionUpdated"
BALANCE_UPDATED = "BalanceUpdated"
LARGE_PAYMENT_FLAGGED = reviews.LARGE_PAYMENT_FLAGGED

_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4e4b-9a57-2f0f4a8b9c10")  # this bank's event ids

_STATUS = {
    "card.authorization": "authorized",
    "card.settlement": "settled",
    "card.reversal": "reversed",
    "card.refund": "refunded",
}


def event_id(notification_id: str, event_type: str) -> str:
    """The stable id of the ``event_type`` event caused by ``notification_id``."""
    return str(uuid.uuid5(_NAMESPACE, f"{notification_id}/{event_type}"))


@dataclass(frozen=True)
class DomainEvent:
    event_id: str
    type: str
    notification_id: str
    wallet_id: str
    occurred_at: int
    object: str
    object_id: str
    payload: dict[str, Any]

    def to_detail(self) -> dict[str, Any]:
        """The event as JSON (EventBridge's ``detail``)."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "notification_id": self.notification_id,
            "wallet_id": self.wallet_id,
            "occurred_at": self.occurred_at,
            "object": self.object,
            "object_id": self.object_id,
            "payload": self.payload,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> DomainEvent:
        return cls(**{name: detail[name] for name in cls.__dataclass_fields__})


def events_for(
    notification: Notification,
    balance: Balance,
    occurred_at: int,
    *,
    refused: bool = False,
    review_threshold: int | None = None,
) -> list[DomainEvent]:
    """The events of an applied notification: the card transaction (card notifications only),
    then the wallet's balance after it, then (step 3) a flag for a payment large enough to need
    a compliance review. ``refused``: the ledger refused this authorization (frozen wallet)."""
    n = notification
    events = []
    if n.webhook != PAYIN_RECEIVED:
        payload: dict[str, Any] = {
            "wallet_id": n.wallet_id,
            "authorization_id": n.authorization_id,
            "status": "refused" if refused else _STATUS[n.webhook],
            "amount": n.amount,
            "currency": balance.currency,
        }
        if refused:
            payload["refusal_reason"] = "wallet_frozen"
        if n.merchant is not None:
            payload["merchant"] = {"name": n.merchant.name, "mcc": n.merchant.mcc}
        events.append(
            DomainEvent(
                event_id(n.notification_id, CARD_TRANSACTION_UPDATED),
                CARD_TRANSACTION_UPDATED,
                n.notification_id,
                n.wallet_id,
                occurred_at,
                "cardtransaction",
                n.object_id,
                payload,
            )
        )
    events.append(
        DomainEvent(
            event_id(n.notification_id, BALANCE_UPDATED),
            BALANCE_UPDATED,
            n.notification_id,
            n.wallet_id,
            occurred_at,
            "wallet",
            n.wallet_id,
            # the ledger's version of the wallet, one more at each change: deliveries come in any
            # order (retries, redrives), and the client keeps the highest (docs: reference/events)
            {**balance.to_dict(), "version": balance.version},
        )
    )
    if review_threshold is not None and reviews.needs_review(n, review_threshold):
        flagged = reviews.ReviewRequest.for_notification(n, balance.currency)
        events.append(
            DomainEvent(
                event_id(n.notification_id, LARGE_PAYMENT_FLAGGED),
                LARGE_PAYMENT_FLAGGED,
                n.notification_id,
                n.wallet_id,
                occurred_at,
                "review",
                flagged.review_id,
                flagged.to_dict(),
            )
        )
    return events
