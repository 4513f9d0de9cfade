"""Step 3's domain: which payments are reviewed, what a decision is, and the review use cases."""

from __future__ import annotations

import json
import re

import pytest
from envelopes import authorization, payin, settlement

from demo.bank import reviews, service
from demo.bank.errors import (
    InvalidDecision,
    InvalidReviewQuery,
    MalformedJSON,
    ReviewClosed,
    ReviewNotFound,
    ReviewNotReady,
)
from demo.bank.events import events_for
from demo.bank.ledger import Balance
from demo.bank.memory import InMemoryLedger, InMemoryPublisher, InMemoryReviews
from demo.bank.notifications import validate

THRESHOLD = reviews.DEFAULT_THRESHOLD


def note(envelope):
    return validate(envelope)


# -- which payments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        (payin("w-1", THRESHOLD), True),  # the threshold itself is reviewed
        (payin("w-1", THRESHOLD - 1), False),
        (settlement("w-1", "a-1", THRESHOLD * 3), True),
        (authorization("w-1", "a-1", THRESHOLD * 3), False),  # a hold moves no money
    ],
)
def test_payins_and_settlements_from_the_threshold_on_need_a_review(envelope, expected):
    assert reviews.needs_review(note(envelope), THRESHOLD) is expected


def test_the_review_id_is_the_same_for_every_delivery_and_a_valid_execution_name():
    n = note(payin("w-1", THRESHOLD))
    first, again = reviews.review_id(n.notification_id), reviews.review_id(n.notification_id)
    assert first == again != reviews.review_id("another-notification")
    # Step Functions execution names: 1-80 characters, no spaces, brackets, wildcards or ':'.
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", first)


def test_a_large_payment_is_flagged_with_its_review_once_per_notification():
    n = note(payin("w-1", THRESHOLD))
    events = events_for(n, Balance("w-1", THRESHOLD, 0), 1, review_threshold=THRESHOLD)
    assert [e.type for e in events] == ["BalanceUpdated", "LargePaymentFlagged"]
    flagged = events[-1]
    assert flagged.object_id == flagged.payload["review_id"] == reviews.review_id(n.notification_id)
    assert reviews.ReviewRequest.from_dict(flagged.payload).amount == THRESHOLD
    assert [e.type for e in events_for(n, Balance("w-1", 1, 0), 1)] == ["BalanceUpdated"]  # no threshold


# -- decisions --------------------------------------------------------------------------------


def decision(**body) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (decision(decision="maybe"), ["decision"]),
        (decision(reason="no decision"), ["decision"]),
        (decision(decision="reject"), ["reason"]),  # a rejection says why
        (decision(decision="reject", reason="   "), ["reason"]),
        (decision(decision="approve", reason=7), ["reason"]),
        (decision(decision="approve", reason="x" * 501), ["reason"]),
        (decision(decision="approve", reason="bell\x07"), ["reason"]),
        (decision(decision="approve", by="me"), ["by"]),
        (b"[1, 2]", ["(body)"]),
    ],
)
def test_a_bad_decision_is_refused_with_every_failing_field(body, fields):
    with pytest.raises(InvalidDecision) as refused:
        reviews.parse_decision(body)
    assert [e.field for e in refused.value.errors] == fields
    assert refused.value.status == 422


def test_a_decision_that_is_not_json_is_a_400():
    with pytest.raises(MalformedJSON):
        reviews.parse_decision(b"{decision: approve")


def test_a_good_decision_keeps_its_reason_trimmed_with_newlines_allowed():
    parsed = reviews.parse_decision(decision(decision="reject", reason=" funds:\nunclear "))
    assert parsed.to_dict() == {"decision": "reject", "reason": "funds:\nunclear", "decided_by": ""}


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("all", None), ("pending", reviews.Status.PENDING)]
)
def test_the_status_filter(value, expected):
    assert reviews.parse_status(value) == expected


def test_an_unknown_status_filter_is_a_422():
    with pytest.raises(InvalidReviewQuery):
        reviews.parse_status("open")


# -- the use cases, with the in-memory twin of the workflow -------------------------------------


@pytest.fixture
def desk():
    ledger = InMemoryLedger()
    return ledger, InMemoryReviews(ledger)


def flag(desk_reviews, envelope):
    n = note(envelope)
    request = reviews.ReviewRequest.for_notification(n, "EUR")
    detail = {"payload": request.to_dict()}
    return request.review_id, service.on_review_event(
        reviews.LARGE_PAYMENT_FLAGGED, detail, desk_reviews, desk_reviews
    )


def test_a_flagged_payment_starts_one_review_whatever_the_redeliveries(desk):
    _, store = desk
    envelope = payin("w-1", THRESHOLD)
    review_id, first = flag(store, envelope)
    _, again = flag(store, envelope)
    assert (first, again) == ("started", "already started")
    assert [r.review_id for r in store.reviews()] == [review_id]


def test_approve_then_the_review_is_closed(desk):
    _, store = desk
    review_id, _ = flag(store, payin("w-1", THRESHOLD))
    service.submit_decision(store, store, review_id, decision(decision="approve"), decided_by="alice")
    assert store.review(review_id).status is reviews.Status.APPROVED
    with pytest.raises(ReviewClosed):
        service.submit_decision(
            store, store, review_id, decision(decision="reject", reason="too late"), decided_by="alice"
        )


def test_reject_freezes_the_wallet_and_its_next_authorization_is_refused(desk):
    ledger, store = desk
    service.apply(ledger, note(payin("w-1", THRESHOLD)))
    review_id, _ = flag(store, payin("w-1", THRESHOLD))
    service.submit_decision(
        store, store, review_id, decision(decision="reject", reason="source of funds"), decided_by="alice"
    )
    assert ledger.balance("w-1").frozen

    publisher = InMemoryPublisher()
    service.apply_and_publish(ledger, publisher, note(authorization("w-1", "a-1", 500)), now=1)
    card = publisher.events[0]
    assert card.payload["status"] == "refused" and card.payload["refusal_reason"] == "wallet_frozen"
    assert ledger.balance("w-1").authorizations == 0


def test_an_unknown_or_malformed_review_is_not_found(desk):
    _, store = desk
    for review_id in ("rv-" + "0" * 32, "../etc", "rv-NOPE"):
        with pytest.raises(ReviewNotFound):
            service.submit_decision(store, store, review_id, decision(decision="approve"), decided_by="alice")


def test_a_review_whose_token_is_not_filed_yet_is_not_ready(desk):
    _, store = desk
    review_id, _ = flag(store, payin("w-1", THRESHOLD))
    store.items[review_id] = store.items[review_id].__class__(
        **{**store.items[review_id].__dict__, "task_token": None}
    )
    with pytest.raises(ReviewNotReady):
        service.submit_decision(store, store, review_id, decision(decision="approve"), decided_by="alice")


def test_an_escalated_review_takes_no_decision(desk):
    _, store = desk
    review_id, _ = flag(store, payin("w-1", THRESHOLD))
    store.escalate(review_id)
    with pytest.raises(ReviewClosed):
        service.submit_decision(store, store, review_id, decision(decision="approve"), decided_by="alice")


def test_the_desk_refuses_an_event_it_does_not_handle(desk):
    _, store = desk
    with pytest.raises(ValueError, match="does not handle"):
        service.on_review_event("BalanceUpdated", {}, store, store)


def test_of_ten_decisions_sent_at_once_exactly_one_wins_and_the_others_are_told_which(desk):
    import threading

    from demo.bank.errors import BankError

    _, store = desk
    review_id, _ = flag(store, payin("w-1", THRESHOLD))
    barrier, outcomes = threading.Barrier(10), []

    def decide(i: int) -> None:
        body = (
            decision(decision="approve") if i % 2 else decision(decision="reject", reason="source of funds")
        )
        barrier.wait()
        try:
            won = service.submit_decision(store, store, review_id, body, decided_by=f"officer-{i}")
            outcomes.append(("won", won))
        except BankError as error:  # the in-memory workflow records at once: closed, or claimed
            outcomes.append((error.status, error.message))

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [d for kind, d in outcomes if kind == "won"]
    assert len(won) == 1 and len(outcomes) == 10
    standing = f"{won[0].decision} by {won[0].decided_by}"
    refused = [(kind, message) for kind, message in outcomes if kind != "won"]
    assert all(kind == 409 and standing in message for kind, message in refused), refused
    final = store.review(review_id)
    assert (final.decision, final.decided_by) == (str(won[0].decision), won[0].decided_by)
    assert final.status is (
        reviews.Status.APPROVED if won[0].decision == "approve" else reviews.Status.REJECTED
    )


# -- what a review shows ------------------------------------------------------------------------


def recorded(status: reviews.Status, token: str | None) -> reviews.Review:
    return reviews.Review(
        "rv-1",
        "n-1",
        "w-1",
        "payin.received",
        2_000_000,
        "EUR",
        status,
        "2025-01-01T00:00:00+00:00",
        task_token=token,
        claimed="approve",
        claimed_by="alice",
    )


@pytest.mark.parametrize(
    ("status", "token", "awaiting"),
    [
        (reviews.Status.PENDING, "tok", True),
        (reviews.Status.PENDING, None, False),  # the workflow has not handed out its token yet
        (reviews.Status.APPROVED, "tok", False),
        (reviews.Status.ESCALATED, "tok", False),
    ],
)
def test_a_review_shows_whether_it_awaits_a_decision_and_never_its_token_or_claim(
    status: reviews.Status, token: str | None, awaiting: bool
) -> None:
    assert recorded(status, token).to_dict() == {
        "review_id": "rv-1",
        "notification_id": "n-1",
        "wallet_id": "w-1",
        "kind": "payin.received",
        "amount": 2_000_000,
        "currency": "EUR",
        "status": str(status),
        "requested_at": "2025-01-01T00:00:00+00:00",
        "decision": None,
        "reason": None,
        "decided_at": None,
        "decided_by": None,
        "awaiting_decision": awaiting,
    }
    assert type(recorded(status, token).to_dict()["status"]) is str


@pytest.mark.parametrize(
    ("text", "is_id"),
    [
        ("rv-" + "0" * 32, True),
        ("rv-" + "a" * 31, False),
        ("rv-" + "A" * 32, False),
        ("rv-" + "0" * 33, False),
    ],
)
def test_the_form_of_a_review_id(text: str, is_id: bool) -> None:
    assert reviews.is_review_id(text) is is_id
