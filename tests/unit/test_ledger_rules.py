"""The ledger's pure rules, entry by entry: ``decide`` and ``is_refused`` on every state an authorization
may be in, the balance's arithmetic, and what the ledger refuses to decide."""

from __future__ import annotations

from typing import Any

import pytest
from envelopes import authorization, payin, refund, reversal, settlement

from demo.bank.ledger import Authorization, Balance, LedgerEntry, WalletState, decide, is_refused
from demo.bank.notifications import Notification, validate

NID = "00000000-0000-0000-0000-00000000000a"


def note(envelope: dict[str, Any]) -> Notification:
    return validate({**envelope, "webhook_id": NID})


def entry(**changes: Any) -> LedgerEntry:
    return LedgerEntry(notification_id=NID, wallet_id="w-1", **changes)


def auth(amount: int | None = None, **changes: Any) -> Authorization:
    return Authorization("w-1", "a-1", authorized_amount=amount, **changes)


# -- the balance --------------------------------------------------------------------------------


def test_a_balance_shows_what_the_card_may_still_spend() -> None:
    b = Balance("w-1", 1_000, 250, frozen=True, version=9)
    assert b.authorized_balance == 750
    assert b.to_dict() == {
        "wallet_id": "w-1",
        "currency": "EUR",
        "current_balance": 1_000,
        "authorizations": 250,
        "authorized_balance": 750,
        "frozen": True,
    }
    assert b == Balance("w-1", 1_000, 250, frozen=True, version=1)  # the version is the store's concern


@pytest.mark.parametrize(
    ("authorization_", "held"),
    [
        (auth(), 0),
        (auth(500), 500),
        (auth(500, closed=True), 0),
        (auth(500, refused=True), 0),
        (auth(None, closed=True), 0),
    ],
)
def test_an_authorization_holds_its_amount_only_while_authorized_and_open(
    authorization_: Authorization, held: int
) -> None:
    assert authorization_.held == held


def test_an_entry_applied_to_a_new_wallet_starts_from_zero_at_version_one() -> None:
    after = entry(current_delta=-300, authorizations_delta=200).balance_after(None)
    assert after == Balance("w-1", -300, 200)
    assert (after.version, after.frozen) == (1, False)


def test_an_entry_adds_its_deltas_to_the_balance_it_was_read_at_one_version_up() -> None:
    before = Balance("w-1", 1_000, 100, frozen=True, version=4)
    after = entry(current_delta=50, authorizations_delta=-100).balance_after(before)
    assert after == Balance("w-1", 1_050, 0, frozen=True)
    assert after.version == 5


@pytest.mark.parametrize(
    ("state", "frozen"),
    [
        (WalletState(), False),
        (WalletState(Balance("w-1", 0, 0)), False),
        (WalletState(Balance("w-1", 0, 0, frozen=True)), True),
    ],
)
def test_a_wallet_state_is_frozen_only_with_a_frozen_balance(state: WalletState, frozen: bool) -> None:
    assert state.frozen is frozen


# -- decide ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "before", "frozen", "expected"),
    [
        (payin("w-1", 700), None, False, entry(current_delta=700)),
        (refund("w-1", 30), None, True, entry(current_delta=30)),  # money in, frozen or not
        # authorizations: the largest notice holds
        (
            authorization("w-1", "a-1", 500),
            None,
            False,
            entry(authorizations_delta=500, authorization=auth(500)),
        ),
        (
            authorization("w-1", "a-1", 900),
            auth(500, version=2),
            False,
            entry(authorizations_delta=400, authorization=auth(900, version=2)),
        ),
        (authorization("w-1", "a-1", 500), auth(900, version=2), False, entry()),
        (authorization("w-1", "a-1", 500), auth(500, version=1), False, entry()),
        # an authorization settled or reversed before its notice: it records the amount, holds nothing
        (
            authorization("w-1", "a-1", 500),
            auth(None, closed=True, version=1),
            False,
            entry(authorization=auth(500, closed=True, version=1)),
        ),
        # a frozen wallet refuses a new hold, and a raised one, and keeps the refusal
        (authorization("w-1", "a-1", 500), None, True, entry(authorization=auth(None, refused=True))),
        (authorization("w-1", "a-1", 900), auth(500, version=1), True, entry()),
        (authorization("w-1", "a-1", 900), auth(None, refused=True, version=1), True, entry()),
        (authorization("w-1", "a-1", 900), auth(None, refused=True, version=1), False, entry()),
        # settlements debit and close, once or many times
        (
            settlement("w-1", "a-1", 480),
            auth(500, version=1),
            True,
            entry(
                current_delta=-480, authorizations_delta=-500, authorization=auth(500, closed=True, version=1)
            ),
        ),
        (
            settlement("w-1", "a-1", 480),
            None,
            False,
            entry(current_delta=-480, authorization=auth(None, closed=True)),
        ),
        (
            settlement("w-1", "a-1", 20),
            auth(500, closed=True, version=2),
            False,
            entry(current_delta=-20, authorization=auth(500, closed=True, version=2)),
        ),
        # reversals release the hold, once
        (
            reversal("w-1", "a-1"),
            auth(500, version=1),
            False,
            entry(authorizations_delta=-500, authorization=auth(500, closed=True, version=1)),
        ),
        (reversal("w-1", "a-1"), None, False, entry(authorization=auth(None, closed=True))),
        (reversal("w-1", "a-1"), auth(500, closed=True, version=2), False, entry()),
    ],
)
def test_decide(
    envelope: dict[str, Any], before: Authorization | None, frozen: bool, expected: LedgerEntry
) -> None:
    assert decide(note(envelope), before, frozen=frozen) == expected


def test_an_entry_keeps_the_digest_of_the_notifications_body() -> None:
    n = Notification(NID, "payin.received", 1, "o", "o-1", "w-1", amount=5, digest="d1")
    assert decide(n).digest == "d1"
    held = Notification(NID, "card.reversal", 1, "o", "o-1", "w-1", authorization_id="a-1", digest="d2")
    assert decide(held, auth(5)).digest == "d2"


@pytest.mark.parametrize(
    ("n", "message"),
    [
        (
            Notification(NID, "card.settlement", 1, "o", "o-1", "w-1", amount=5),
            "card.settlement needs an authorization_id",
        ),
        (
            Notification(NID, "card.settlement", 1, "o", "o-1", "w-1", authorization_id="a-1"),
            "card.settlement needs an amount",
        ),
        (Notification(NID, "payin.received", 1, "o", "o-1", "w-1"), "payin.received needs an amount"),
        (
            Notification(NID, "card.teleport", 1, "o", "o-1", "w-1", amount=5, authorization_id="a-1"),
            "unknown webhook type 'card.teleport'",
        ),
    ],
)
def test_the_ledger_refuses_to_decide_a_notification_it_cannot_read(n: Notification, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        decide(n)
    assert str(caught.value) == message


# -- is_refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "stored", "frozen", "refused"),
    [
        (authorization("w-1", "a-1", 500), None, False, False),
        (authorization("w-1", "a-1", 500), auth(None, refused=True), False, False),
        (authorization("w-1", "a-1", 500), None, True, True),
        (authorization("w-1", "a-1", 500), auth(None, refused=True), True, True),
        (authorization("w-1", "a-1", 500), auth(500), True, False),  # the notice that made the hold
        (authorization("w-1", "a-1", 500), auth(499), True, True),  # one that would raise it
        (authorization("w-1", "a-1", 500), auth(501), True, False),
        (authorization("w-1", "a-1", 1), auth(None, closed=True), True, True),  # 0 held before it
        (settlement("w-1", "a-1", 500), None, True, False),
        (reversal("w-1", "a-1"), None, True, False),
        (payin("w-1", 500), None, True, False),
    ],
)
def test_is_refused(
    envelope: dict[str, Any], stored: Authorization | None, frozen: bool, refused: bool
) -> None:
    assert is_refused(note(envelope), stored, frozen) is refused
