"""What the bank tells: each domain event and client webhook, field by field (docs: reference/events)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from envelopes import authorization, payin, refund, reversal, settlement

from demo.bank import reviews
from demo.bank.events import (
    BALANCE_UPDATED,
    CARD_TRANSACTION_UPDATED,
    LARGE_PAYMENT_FLAGGED,
    DomainEvent,
    event_id,
    events_for,
)
from demo.bank.ledger import Balance
from demo.bank.notifications import Notification, validate
from demo.bank.webhooks import BALANCE_UPDATE, CARDTRANSACTION_UPDATE, client_webhooks, webhook_for

NID = "00000000-0000-0000-0000-000000000001"
NAMESPACE = uuid.UUID("6f1d8a52-3c1e-4e4b-9a57-2f0f4a8b9c10")  # the bank's event ids, documented


def note(envelope: dict[str, Any]) -> Notification:
    return validate({**envelope, "webhook_id": NID, "object_id": "ct-1"})


def balance(current: int = 0, held: int = 0, *, frozen: bool = False, version: int = 3) -> Balance:
    return Balance("w-1", current, held, frozen=frozen, version=version)


def test_event_ids_are_uuid5_of_the_notification_and_the_event_type() -> None:
    assert event_id(NID, BALANCE_UPDATED) == "10ade368-f047-5063-ac22-d38bb8f3dd67"
    assert event_id(NID, CARD_TRANSACTION_UPDATED) == "35220da4-dadd-54b9-b183-ae1bab1b1e15"
    assert event_id(NID, LARGE_PAYMENT_FLAGGED) == str(
        uuid.uuid5(NAMESPACE, f"{NID}/{LARGE_PAYMENT_FLAGGED}")
    )
    assert reviews.review_id(NID) == "rv-96854fbb060e5938b525c67ad3c743c1"


def test_a_payin_tells_the_balance_after_it_with_its_version() -> None:
    [event] = events_for(note(payin("w-1", 500)), balance(500), 99)
    assert event == DomainEvent(
        event_id=event_id(NID, BALANCE_UPDATED),
        type="BalanceUpdated",
        notification_id=NID,
        wallet_id="w-1",
        occurred_at=99,
        object="wallet",
        object_id="w-1",
        payload={
            "wallet_id": "w-1",
            "currency": "EUR",
            "current_balance": 500,
            "authorizations": 0,
            "authorized_balance": 500,
            "frozen": False,
            "version": 3,
        },
    )


@pytest.mark.parametrize(
    ("envelope", "status", "amount"),
    [
        (authorization("w-1", "a-1", 1_250), "authorized", 1_250),
        (settlement("w-1", "a-1", 1_300), "settled", 1_300),
        (reversal("w-1", "a-1"), "reversed", None),
        (refund("w-1", 499), "refunded", 499),
    ],
    ids=lambda value: value["webhook"] if isinstance(value, dict) else str(value),
)
def test_a_card_notification_tells_the_transaction_then_the_balance(
    envelope: dict[str, Any], status: str, amount: int | None
) -> None:
    n = note(envelope)
    transaction, after = events_for(n, balance(100, 20), 7)
    expected: dict[str, Any] = {
        "wallet_id": "w-1",
        "authorization_id": n.authorization_id,
        "status": status,
        "amount": amount,
        "currency": "EUR",
    }
    if n.merchant is not None:
        expected["merchant"] = {"name": "Corner Grocery", "mcc": "5411"}
    assert transaction == DomainEvent(
        event_id(NID, CARD_TRANSACTION_UPDATED),
        "CardTransactionUpdated",
        NID,
        "w-1",
        7,
        "cardtransaction",
        "ct-1",
        expected,
    )
    assert after.type == BALANCE_UPDATED
    assert after.payload["authorized_balance"] == 80


def test_a_refused_authorization_says_why_and_the_balance_says_frozen() -> None:
    n = note(authorization("w-1", "a-1", 900))
    transaction, after = events_for(n, balance(1_000, frozen=True), 7, refused=True)
    assert transaction.payload == {
        "wallet_id": "w-1",
        "authorization_id": "a-1",
        "status": "refused",
        "amount": 900,
        "currency": "EUR",
        "refusal_reason": "wallet_frozen",
        "merchant": {"name": "Corner Grocery", "mcc": "5411"},
    }
    assert after.payload["frozen"] is True


@pytest.mark.parametrize(
    ("envelope", "threshold", "flagged"),
    [
        (payin("w-1", 1_000), 1_000, True),
        (payin("w-1", 999), 1_000, False),
        (settlement("w-1", "a-1", 1_000), 1_000, True),
        (authorization("w-1", "a-1", 5_000), 1_000, False),
        (refund("w-1", 5_000), 1_000, False),
        (reversal("w-1", "a-1"), 1, False),
        (payin("w-1", 10**9), None, False),
    ],
)
def test_a_payment_from_the_threshold_on_is_flagged_for_review(
    envelope: dict[str, Any], threshold: int | None, flagged: bool
) -> None:
    n = note(envelope)
    found = events_for(n, balance(), 7, review_threshold=threshold)
    assert (found[-1].type == LARGE_PAYMENT_FLAGGED) is flagged
    assert len(found) == (2 if n.webhook != "payin.received" else 1) + flagged


def test_the_flag_carries_the_review_request() -> None:
    n = note(settlement("w-1", "a-1", 2_000))
    *_, flag = events_for(n, balance(), 7, review_threshold=2_000)
    rid = reviews.review_id(NID)
    assert flag == DomainEvent(
        event_id(NID, LARGE_PAYMENT_FLAGGED),
        "LargePaymentFlagged",
        NID,
        "w-1",
        7,
        "review",
        rid,
        {
            "review_id": rid,
            "notification_id": NID,
            "wallet_id": "w-1",
            "kind": "card.settlement",
            "amount": 2_000,
            "currency": "EUR",
        },
    )


def test_a_notification_without_an_amount_cannot_be_reviewed() -> None:
    with pytest.raises(ValueError, match=r"^card.reversal has no amount to review$"):
        reviews.ReviewRequest.for_notification(note(reversal("w-1", "a-1")), "EUR")


def test_an_event_is_its_detail_and_back() -> None:
    n = note(authorization("w-1", "a-1", 1))
    transaction, _ = events_for(n, balance(), 5)
    detail = transaction.to_detail()
    assert detail == {
        "event_id": event_id(NID, CARD_TRANSACTION_UPDATED),
        "type": "CardTransactionUpdated",
        "notification_id": NID,
        "wallet_id": "w-1",
        "occurred_at": 5,
        "object": "cardtransaction",
        "object_id": "ct-1",
        "payload": transaction.payload,
    }
    assert DomainEvent.from_detail({**detail, "extra": "ignored"}) == transaction


def test_each_event_becomes_the_client_webhook_of_its_kind() -> None:
    n = note(authorization("w-1", "a-1", 1_250))
    transaction, after = events_for(n, balance(0, 1_250), 11)
    assert webhook_for(transaction) == {
        "webhook": "cardtransaction.update",
        "webhook_id": transaction.event_id,
        "webhook_created_at": 11,
        "object": "cardtransaction",
        "object_id": "ct-1",
        "object_payload": transaction.payload,
    }
    assert webhook_for(after)["webhook"] == "balance.update"
    assert client_webhooks(n, balance(0, 1_250), 11) == [webhook_for(transaction), webhook_for(after)]
    assert (CARDTRANSACTION_UPDATE, BALANCE_UPDATE) == ("cardtransaction.update", "balance.update")


def test_a_flag_is_not_a_client_webhook() -> None:
    *_, flag = events_for(note(payin("w-1", 5)), balance(), 1, review_threshold=5)
    with pytest.raises(KeyError):
        webhook_for(flag)
