"""What the bank tells its fintech client: ``cardtransaction.update`` and ``balance.update`` webhooks.

A webhook is a domain event in the client's words. Its ``webhook_id`` is the event id, stable
across retries and redeliveries, so that the client can deduplicate. The envelope has the same
shape as the processor's, and is signed with the same scheme.
"""

from __future__ import annotations

from typing import Any

from demo.bank.events import BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, DomainEvent, events_for
from demo.bank.ledger import Balance
from demo.bank.notifications import Notification

CARDTRANSACTION_UPDATE = "cardtransaction.update"
BALANCE_UPDATE = "balance.update"

WEBHOOK_FOR_EVENT = {CARD_TRANSACTION_UPDATED: CARDTRANSACTION_UPDATE, BALANCE_UPDATED: BALANCE_UPDATE}


def webhook_for(event: DomainEvent) -> dict[str, Any]:
    """The client webhook that tells ``event``."""
    return {
        "webhook": WEBHOOK_FOR_EVENT[event.type],
        "webhook_id": event.event_id,
        "webhook_created_at": event.occurred_at,
        "object": event.object,
        "object_id": event.object_id,
        "object_payload": event.payload,
    }


def client_webhooks(notification: Notification, balance: Balance, created_at: int) -> list[dict[str, Any]]:
    """The webhooks an applied notification sends to the client (the monolith sends them inline)."""
    return [webhook_for(event) for event in events_for(notification, balance, created_at)]
