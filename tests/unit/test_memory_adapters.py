"""The in-memory adapters keep the ports' contracts (demo/bank/ports.py), as the real ones must."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from envelopes import authorization, payin, reversal

from demo.bank import reviews
from demo.bank.cards import SealedCard
from demo.bank.errors import ReviewClosed
from demo.bank.events import DomainEvent
from demo.bank.ledger import Authorization, Balance, Committed, WalletState, decide
from demo.bank.memory import (
    InMemoryCardVault,
    InMemoryLedger,
    InMemoryPublisher,
    InMemoryQueue,
    InMemoryReviews,
    StaticSecrets,
)
from demo.bank.notifications import Card, parse, validate
from demo.bank.ports import ConcurrentUpdate
from demo.bank.reviews import Decision, DecisionRequest, Review, ReviewRequest, Status

# -- the ledger ----------------------------------------------------------------------------------


def test_a_new_wallet_reads_as_nothing_and_has_no_balance() -> None:
    store = InMemoryLedger()
    assert store.read("w-1", None) == WalletState(None, None)
    assert store.read("w-1", "a-1") == WalletState(None, None)
    assert store.balance("w-1") is None


def test_a_commit_writes_the_balance_the_authorization_and_the_seen_marker() -> None:
    store = InMemoryLedger()
    n = parse(json.dumps(authorization("w-1", "a-1", 500)).encode())
    committed = store.commit(decide(n), store.read("w-1", "a-1"), applied_at=42)
    assert committed == Committed(True, Balance("w-1", 0, 500), 42, n.digest)
    assert committed.balance.version == 1
    assert store.read("w-1", "a-1") == WalletState(
        Balance("w-1", 0, 500), Authorization("w-1", "a-1", authorized_amount=500, version=1)
    )
    assert store.read("w-1", "a-1").authorization.version == 1  # type: ignore[union-attr]
    assert store.read("w-1", None).authorization is None  # a payin reads no authorization
    assert store.seen_digest(n.notification_id) == n.digest
    assert store.seen_digest("never-seen") is None


def test_a_second_commit_of_one_notification_changes_nothing_and_returns_the_first() -> None:
    store = InMemoryLedger()
    n = validate(payin("w-1", 100))
    first = store.commit(decide(n), store.read("w-1", None), applied_at=1)
    again = store.commit(decide(n), store.read("w-1", None), applied_at=2)
    assert again == Committed(False, first.balance, 1, "")
    assert store.balance("w-1") == Balance("w-1", 100, 0) and store.balance("w-1").version == 1  # type: ignore[union-attr]


def test_each_commit_moves_the_wallet_one_version_up_from_what_was_read() -> None:
    store = InMemoryLedger()
    for i, amount in enumerate((100, 50, 25), start=1):
        n = validate(payin("w-1", amount))
        assert store.commit(decide(n), store.read("w-1", None), applied_at=i).balance.version == i
    assert store.balance("w-1") == Balance("w-1", 175, 0)


def test_a_stale_read_is_refused_with_what_changed() -> None:
    store = InMemoryLedger()
    stale = store.read("w-1", "a-1")
    store.commit(decide(validate(payin("w-1", 1))), stale, applied_at=1)
    with pytest.raises(ConcurrentUpdate, match=r"^wallet w-1 changed$"):
        store.commit(decide(validate(payin("w-1", 2))), stale, applied_at=2)
    n = validate(authorization("w-1", "a-1", 5))
    store.commit(decide(n), store.read("w-1", "a-1"), applied_at=3)
    with pytest.raises(ConcurrentUpdate, match=r"^authorization \('w-1', 'a-1'\) changed$"):
        store.commit(decide(validate(reversal("w-1", "a-1"))), store.read("w-1", None), applied_at=4)


def test_a_wallet_read_before_it_existed_is_stale_once_it_exists() -> None:
    store = InMemoryLedger()
    stale = store.read("w-1", None)
    current = store.read("w-1", None)
    store.commit(decide(validate(payin("w-1", 1))), current, applied_at=1)
    with pytest.raises(ConcurrentUpdate):
        store.commit(decide(validate(payin("w-1", 2))), stale, applied_at=2)


def test_a_freeze_keeps_the_amounts_and_moves_the_version() -> None:
    store = InMemoryLedger()
    store.freeze("w-new")
    assert store.balance("w-new") == Balance("w-new", 0, 0, frozen=True)
    assert store.balance("w-new").version == 1  # type: ignore[union-attr]
    store.commit(decide(validate(payin("w-1", 70))), store.read("w-1", None), applied_at=1)
    stale = store.read("w-1", None)
    store.freeze("w-1")
    assert store.balance("w-1") == Balance("w-1", 70, 0, frozen=True)
    assert store.balance("w-1").version == 2  # type: ignore[union-attr]
    with pytest.raises(ConcurrentUpdate):  # a freeze is a change of the wallet
        store.commit(decide(validate(payin("w-1", 2))), stale, applied_at=2)


def test_the_sealed_card_is_kept_with_its_commit() -> None:
    store = InMemoryLedger()
    n = validate(authorization("w-9", "a-9", 5))
    card = SealedCard("w-9", "a-9", "548821******3691", b"sealed")
    store.commit(replace(decide(n), card=card), store.read("w-9", "a-9"), applied_at=1)
    assert store.cards == {("w-9", "a-9"): card}


# -- the card vault ------------------------------------------------------------------------------


def test_the_test_vault_seals_in_clear_json_with_the_masked_pan_and_reveals_it_back() -> None:
    store = InMemoryLedger()
    vault = InMemoryCardVault(store)
    sealed = vault.seal("w-1", "a-1", Card("5488210000003691", "ALEX OAK"))
    assert sealed == SealedCard(
        "w-1",
        "a-1",
        "548821******3691",
        ciphertext=b'{"pan": "5488210000003691", "holder": "ALEX OAK"}',
    )
    assert vault.reveal("w-1", "a-1") is None
    vault.keep(sealed)
    assert store.cards == {("w-1", "a-1"): sealed}
    assert vault.reveal("w-1", "a-1") == Card("5488210000003691", "ALEX OAK")
    assert vault.reveal("w-1", "a-2") is None


# -- the queue, the secrets, the publisher --------------------------------------------------------


def test_the_queue_keeps_what_it_was_given_in_order() -> None:
    queue = InMemoryQueue()
    first, second = validate(payin("w-1", 1)), validate(payin("w-2", 2))
    queue.enqueue(first, "one")
    queue.enqueue(second, "two")
    assert queue.items == [(first, "one"), (second, "two")]


def test_static_secrets_are_fixed_and_handed_out_as_a_copy() -> None:
    secrets = StaticSecrets("current", "previous")
    handed = secrets.signing_secrets()
    assert handed == ["current", "previous"]
    handed.clear()
    assert secrets.signing_secrets() == ["current", "previous"]
    assert secrets.refresh() is False
    assert StaticSecrets().signing_secrets() == []


def event(n: int) -> DomainEvent:
    return DomainEvent(f"e-{n}", "BalanceUpdated", f"n-{n}", "w-1", n, "wallet", "w-1", {"n": n})


def test_the_publisher_keeps_events_and_a_batch_publishes_them_at_its_flush_only() -> None:
    publisher = InMemoryPublisher()
    publisher.publish([event(1)])
    batch = publisher.batch()
    assert batch.of("record-1") is batch
    batch.of("record-1").publish([event(2), event(3)])
    assert publisher.events == [event(1)]
    assert batch.flush() == {}
    assert publisher.events == [event(1), event(2), event(3)]
    batch.publish([event(4)])
    assert batch.flush() == {}
    assert batch.flush() == {}
    assert publisher.events == [event(1), event(2), event(3), event(4)]


# -- the reviews ---------------------------------------------------------------------------------


def request_for(amount: int = 2_000_000, wallet: str = "w-1") -> ReviewRequest:
    return ReviewRequest.for_notification(validate(payin(wallet, amount)), "EUR")


def review_at(rid: str, requested_at: str, status: Status = Status.PENDING) -> Review:
    return Review(rid, "n", "w-1", "payin.received", 1, "EUR", status, requested_at)


def test_starting_records_a_pending_review_at_the_time_and_files_its_token() -> None:
    store = InMemoryReviews(InMemoryLedger())
    request = request_for()
    before = datetime.now(UTC)
    assert store.start(request) is True
    assert store.start(request) is False
    assert store.started == [request.review_id]
    review = store.review(request.review_id)
    assert review is not None
    assert review.to_dict() == {
        **request.to_dict(),
        "status": "pending",
        "requested_at": review.requested_at,
        "decision": None,
        "reason": None,
        "decided_at": None,
        "decided_by": None,
        "awaiting_decision": True,
    }
    assert review.task_token == f"token-{request.review_id}"
    requested = datetime.fromisoformat(review.requested_at)
    assert requested.tzinfo == UTC and before <= requested <= datetime.now(UTC) + timedelta(seconds=1)
    assert store.review("rv-unknown") is None


def test_reviews_are_listed_oldest_first_then_by_id_and_filtered_by_status() -> None:
    store = InMemoryReviews(InMemoryLedger())
    for review in (
        review_at("rv-c", "2025-01-02T00:00:00+00:00", Status.APPROVED),
        review_at("rv-b", "2025-01-01T00:00:00+00:00"),
        review_at("rv-a", "2025-01-02T00:00:00+00:00"),
        review_at("rv-d", "2025-01-03T00:00:00+00:00", Status.ESCALATED),
    ):
        store.items[review.review_id] = review
    assert [r.review_id for r in store.reviews()] == ["rv-b", "rv-a", "rv-c", "rv-d"]
    assert [r.review_id for r in store.reviews(None)] == ["rv-b", "rv-a", "rv-c", "rv-d"]
    assert [r.review_id for r in store.reviews(Status.PENDING)] == ["rv-b", "rv-a"]
    assert [r.review_id for r in store.reviews(Status.APPROVED)] == ["rv-c"]
    assert store.reviews(Status.REJECTED) == []


def test_a_token_is_filed_only_on_a_pending_review() -> None:
    store = InMemoryReviews(InMemoryLedger())
    store.items["rv-p"] = review_at("rv-p", "t")
    store.items["rv-e"] = review_at("rv-e", "t", Status.ESCALATED)
    store.file_token("rv-p", "tok-p")
    store.file_token("rv-e", "tok-e")
    assert store.items["rv-p"].task_token == "tok-p"
    assert store.items["rv-e"].task_token is None


def test_a_claim_is_won_once_and_only_on_a_pending_review_with_its_token() -> None:
    store = InMemoryReviews(InMemoryLedger())
    store.items["rv-1"] = review_at("rv-1", "t")
    alice = DecisionRequest(Decision.REJECT, "why", "alice")
    assert store.claim("rv-1", alice) == (False, store.items["rv-1"])  # no token yet
    store.file_token("rv-1", "tok")
    won, claimed = store.claim("rv-1", alice)
    assert won and (claimed.claimed, claimed.claimed_by) == ("reject", "alice")
    assert store.items["rv-1"] == claimed
    assert store.claim("rv-1", DecisionRequest(Decision.APPROVE, "", "bob")) == (False, claimed)
    store.items["rv-2"] = Review(**{**review_at("rv-2", "t", Status.APPROVED).__dict__, "task_token": "tok"})
    assert store.claim("rv-2", alice)[0] is False


@pytest.mark.parametrize(
    ("decision", "status", "frozen"),
    [(Decision.APPROVE, Status.APPROVED, False), (Decision.REJECT, Status.REJECTED, True)],
)
def test_resuming_records_the_decision_and_a_rejection_freezes_the_wallet(
    decision: Decision, status: Status, frozen: bool
) -> None:
    ledger = InMemoryLedger()
    store = InMemoryReviews(ledger)
    request = request_for(wallet="w-7")
    store.start(request)
    before = datetime.now(UTC)
    store.resume(f"token-{request.review_id}", DecisionRequest(decision, "the reason", "alice"))
    review = store.items[request.review_id]
    assert (review.status, review.decision, review.reason, review.decided_by) == (
        status,
        str(decision),
        "the reason",
        "alice",
    )
    assert review.decided_at is not None and datetime.fromisoformat(review.decided_at) >= before
    assert review.to_dict()["awaiting_decision"] is False
    assert (ledger.balance("w-7") is not None and ledger.balance("w-7").frozen) is frozen  # type: ignore[union-attr]
    with pytest.raises(ReviewClosed, match=r"^the review no longer waits for a decision$"):
        store.resume(f"token-{request.review_id}", DecisionRequest(decision, "again", "bob"))


def test_resuming_with_an_unknown_token_is_refused() -> None:
    store = InMemoryReviews(InMemoryLedger())
    store.start(request_for())
    with pytest.raises(ReviewClosed, match="no longer waits"):
        store.resume("token-of-nothing", DecisionRequest(Decision.APPROVE, "", "alice"))


def test_an_escalation_closes_only_a_pending_review() -> None:
    store = InMemoryReviews(InMemoryLedger())
    request = request_for()
    store.start(request)
    store.escalate(request.review_id)
    escalated = store.items[request.review_id]
    assert escalated.status is Status.ESCALATED and escalated.decided_at is not None
    store.items["rv-a"] = review_at("rv-a", "t", Status.APPROVED)
    store.escalate("rv-a")
    assert store.items["rv-a"] == review_at("rv-a", "t", Status.APPROVED)


def test_a_review_request_round_trips_its_execution_input() -> None:
    request = request_for(amount=1_500_000)
    assert request.to_dict() == {
        "review_id": reviews.review_id(request.notification_id),
        "notification_id": request.notification_id,
        "wallet_id": "w-1",
        "kind": "payin.received",
        "amount": 1_500_000,
        "currency": "EUR",
    }
    assert ReviewRequest.from_dict({**request.to_dict(), "timeout_seconds": 60}) == request
