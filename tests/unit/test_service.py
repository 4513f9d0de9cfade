"""The use cases of demo.bank.service against the in-memory adapters: what each one does, refuses and says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from envelopes import authorization, payin, settlement

from demo.bank import reviews, service, signature
from demo.bank.cards import SealedCard
from demo.bank.errors import (
    DecisionConflict,
    InvalidDecision,
    InvalidNotification,
    InvalidWalletId,
    PayloadTooLarge,
    ReplayRefused,
    ReviewClosed,
    ReviewNotFound,
    ReviewNotReady,
    SignatureMismatch,
    SignatureRejected,
    WalletNotFound,
)
from demo.bank.events import CARD_TRANSACTION_UPDATED, LARGE_PAYMENT_FLAGGED
from demo.bank.ledger import Balance, Committed, LedgerEntry, WalletState
from demo.bank.memory import (
    InMemoryCardVault,
    InMemoryLedger,
    InMemoryPublisher,
    InMemoryQueue,
    InMemoryReviews,
)
from demo.bank.notifications import Card, Notification, parse, validate
from demo.bank.ports import ConcurrentUpdate
from demo.bank.reviews import Review, Status

NOW = 1_764_412_800
SECRET = "whsec-current"


def body_of(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


# -- receive -----------------------------------------------------------------------------------


class RotatingSecrets:
    """A secret source whose secret was rotated: it knows the new one only once refreshed."""

    def __init__(self, cached: list[str], fresh: list[str], *, may_refresh: bool = True) -> None:
        self.cached, self.fresh, self.may_refresh = cached, fresh, may_refresh
        self.refreshes = 0

    def signing_secrets(self) -> list[str]:
        return list(self.cached)

    def refresh(self) -> bool:
        self.refreshes += 1
        if not self.may_refresh:
            return False
        self.cached = list(self.fresh)
        return True


def test_receive_verifies_validates_and_enqueues_the_raw_body() -> None:
    queue, body = InMemoryQueue(), body_of(payin("w-1", 100))
    secrets = RotatingSecrets([SECRET], [SECRET])
    n = service.receive(body, signature.sign(SECRET, body, NOW), secrets=secrets, queue=queue, now=NOW)
    assert n == parse(body) and n.digest == parse(body).digest
    assert queue.items == [(n, body.decode())]
    assert secrets.refreshes == 0  # a signature that matches needs no fresh secrets


def test_a_signature_by_a_just_rotated_secret_is_accepted_after_one_refresh() -> None:
    queue, body = InMemoryQueue(), body_of(payin("w-1", 100))
    secrets = RotatingSecrets(["whsec-old"], ["whsec-new", "whsec-old"])
    n = service.receive(body, signature.sign("whsec-new", body, NOW), secrets=secrets, queue=queue, now=NOW)
    assert secrets.refreshes == 1
    assert queue.items == [(n, body.decode())]


def test_a_mismatch_is_refused_when_the_source_may_not_refresh_yet() -> None:
    queue, body = InMemoryQueue(), body_of(payin("w-1", 100))
    secrets = RotatingSecrets(["whsec-old"], ["whsec-new"], may_refresh=False)
    with pytest.raises(SignatureMismatch, match="does not match"):
        service.receive(body, signature.sign("whsec-new", body, NOW), secrets=secrets, queue=queue, now=NOW)
    assert secrets.refreshes == 1 and queue.items == []


def test_a_mismatch_with_the_fresh_secrets_too_is_refused() -> None:
    queue, body = InMemoryQueue(), body_of(payin("w-1", 100))
    secrets = RotatingSecrets(["whsec-old"], ["whsec-new"])
    with pytest.raises(SignatureMismatch):
        service.receive(body, signature.sign("forged", body, NOW), secrets=secrets, queue=queue, now=NOW)
    assert secrets.refreshes == 1 and queue.items == []


@pytest.mark.parametrize("header", [None, "garbage", f"t={NOW - 301},v1=00"])
def test_a_missing_malformed_or_stale_signature_gets_no_second_chance(header: str | None) -> None:
    queue, body = InMemoryQueue(), body_of(payin("w-1", 100))
    secrets = RotatingSecrets([SECRET], [SECRET])
    with pytest.raises(SignatureRejected) as caught:
        service.receive(body, header, secrets=secrets, queue=queue, now=NOW)
    assert type(caught.value) is SignatureRejected
    assert secrets.refreshes == 0 and queue.items == []


def test_the_size_is_checked_before_the_signature() -> None:
    queue = InMemoryQueue()
    with pytest.raises(PayloadTooLarge):
        service.receive(b" " * 65_537, None, secrets=RotatingSecrets([], []), queue=queue, now=NOW)


def test_a_signed_body_that_is_not_a_notification_is_not_enqueued() -> None:
    queue, body = InMemoryQueue(), body_of({"webhook": "payin.received"})
    with pytest.raises(InvalidNotification, match=r"^invalid notification: webhook_id, "):
        service.receive(
            body,
            signature.sign(SECRET, body, NOW),
            secrets=RotatingSecrets([SECRET], []),
            queue=queue,
            now=NOW,
        )
    assert queue.items == []


# -- commit: retries, replays and cards ------------------------------------------------------------


class Conflicts(InMemoryLedger):
    """Loses the race ``times`` times, counting the reads and commits it was asked for."""

    def __init__(self, times: int = 0) -> None:
        super().__init__()
        self.times, self.reads, self.commits = times, 0, 0

    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        self.reads += 1
        return super().read(wallet_id, authorization_id)

    def commit(self, entry: LedgerEntry, state: WalletState, applied_at: int) -> Committed:
        self.commits += 1
        if self.times:
            self.times -= 1
            raise ConcurrentUpdate("lost the race")
        return super().commit(entry, state, applied_at)


def test_each_conflict_pauses_a_random_while_under_a_bound_that_doubles_up_to_200_ms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    monkeypatch.setattr(service.random, "uniform", uniform)
    pauses: list[float] = []
    store = Conflicts(times=9)
    committed = service.commit(store, validate(payin("w-1", 5)), now=7, pause=pauses.append)
    assert committed == Committed(True, Balance("w-1", 5, 0), 7, "")
    assert bounds == [(0, 0.002 * 2**i) for i in range(7)] + [(0, 0.2), (0, 0.2)]
    assert pauses == [high / 2 for _, high in bounds]
    assert (store.reads, store.commits) == (10, 10)  # read again after each conflict


def test_after_ten_conflicts_the_worker_gives_up_and_says_on_what() -> None:
    store, n = Conflicts(times=10), validate(payin("w-1", 5))
    with pytest.raises(ConcurrentUpdate) as caught:
        service.commit(store, n, now=7, pause=lambda _: None)
    assert str(caught.value) == f"gave up on {n.notification_id} after 10 attempts"
    assert store.commits == 10 and store.balance("w-1") is None


def test_the_number_of_attempts_is_a_parameter() -> None:
    store = Conflicts(times=2)
    with pytest.raises(ConcurrentUpdate, match="after 2 attempts"):
        service.commit(store, validate(payin("w-1", 5)), now=7, max_attempts=2, pause=lambda _: None)
    assert service.commit(store, validate(payin("w-1", 5)), now=7, max_attempts=1).applied


def test_a_redelivery_without_a_digest_or_onto_one_without_is_a_duplicate_not_a_replay() -> None:
    envelope = payin("w-1", 100)
    store = InMemoryLedger()
    assert service.commit(store, parse(body_of(envelope)), now=1).applied
    assert not service.commit(store, validate(envelope), now=2).applied  # no digest to compare
    other = InMemoryLedger()
    assert service.commit(other, validate(envelope), now=1).applied  # applied without its digest
    again = service.commit(other, parse(body_of(envelope)), now=2)
    assert (again.applied, again.digest, again.applied_at) == (False, "", 1)


def test_a_replay_is_refused_by_name() -> None:
    envelope = payin("w-1", 100)
    store = InMemoryLedger()
    n = parse(body_of(envelope))
    service.commit(store, n, now=1)
    tampered = parse(body_of({**envelope, "object_payload": {**envelope["object_payload"], "amount": 9}}))
    with pytest.raises(ReplayRefused) as caught:
        service.commit(store, tampered, now=2)
    assert caught.value.message == f"{n.notification_id} was applied before with another body"


class SpyVault(InMemoryCardVault):
    def __init__(self, ledger: InMemoryLedger) -> None:
        super().__init__(ledger)
        self.sealed: list[tuple[str, str, Card]] = []
        self.kept: list[SealedCard] = []

    def seal(self, wallet_id: str, authorization_id: str, card: Card) -> SealedCard:
        self.sealed.append((wallet_id, authorization_id, card))
        return super().seal(wallet_id, authorization_id, card)

    def keep(self, card: SealedCard) -> None:
        self.kept.append(card)
        super().keep(card)


def test_the_card_is_sealed_once_per_delivery_and_kept_again_only_by_a_redelivery() -> None:
    store = InMemoryLedger()
    vault = SpyVault(store)
    n = validate(authorization("w-1", "a-1", 500))
    first = service.commit(store, n, now=1, cards=vault)
    assert first.applied and vault.kept == []  # kept in the commit's own write
    assert vault.sealed == [("w-1", "a-1", Card("5488210000003691", "ALEX OAK"))]
    assert store.cards[("w-1", "a-1")] == vault.seal("w-1", "a-1", n.card)  # type: ignore[arg-type]
    vault.sealed.clear()
    again = service.commit(store, n, now=2, cards=vault)
    assert not again.applied and vault.kept == [store.cards[("w-1", "a-1")]]


def test_a_notification_without_a_card_seals_nothing_even_with_a_vault() -> None:
    store = InMemoryLedger()
    vault = SpyVault(store)
    for envelope in (settlement("w-1", "a-1", 300), payin("w-1", 5)):
        n = validate(envelope)
        service.commit(store, n, now=1, cards=vault)
        service.commit(store, n, now=2, cards=vault)  # and its redelivery keeps nothing
    assert vault.sealed == [] and vault.kept == [] and store.cards == {}


def test_without_a_vault_the_card_is_not_kept() -> None:
    store = InMemoryLedger()
    assert service.commit(store, validate(authorization("w-1", "a-1", 500)), now=1).applied
    assert store.cards == {}


# -- apply and apply_and_publish -----------------------------------------------------------------


def test_apply_commits_at_the_time_it_is_given_or_now(monkeypatch: pytest.MonkeyPatch) -> None:
    store = InMemoryLedger()
    given, now = validate(payin("w-1", 1)), validate(payin("w-1", 2))
    assert service.apply(store, given, now=5) is service.Outcome.APPLIED
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.9)
    assert service.apply(store, now) is service.Outcome.APPLIED
    assert service.apply(store, now) is service.Outcome.DUPLICATE
    assert store.seen[given.notification_id].applied_at == 5
    assert store.seen[now.notification_id].applied_at == 1_800_000_000


class Reads(InMemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[str, str | None]] = []

    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        self.reads.append((wallet_id, authorization_id))
        return super().read(wallet_id, authorization_id)


def test_only_a_card_notice_on_a_frozen_wallet_reads_the_authorization_back() -> None:
    store, publisher = Reads(), InMemoryPublisher()
    service.apply_and_publish(store, publisher, validate(authorization("w-1", "a-1", 500)), now=1)
    assert store.reads == [("w-1", "a-1")]  # not frozen: it cannot have been refused
    store.freeze("w-2")
    store.reads.clear()
    service.apply_and_publish(store, publisher, validate(payin("w-2", 5)), now=1)
    assert store.reads == [("w-2", None)]  # frozen, but a payin is never refused
    store.reads.clear()
    service.apply_and_publish(store, publisher, validate(authorization("w-2", "a-2", 5)), now=1)
    assert store.reads == [("w-2", "a-2"), ("w-2", "a-2")]
    assert publisher.events[-2].payload["status"] == "refused"


def test_apply_and_publish_flags_a_large_payment_and_keeps_the_card() -> None:
    store, publisher = InMemoryLedger(), InMemoryPublisher()
    vault = InMemoryCardVault(store)
    outcome = service.apply_and_publish(
        store, publisher, validate(payin("w-1", 1_000)), now=3, review_threshold=1_000, cards=vault
    )
    assert outcome is service.Outcome.APPLIED
    assert [e.type for e in publisher.events] == ["BalanceUpdated", LARGE_PAYMENT_FLAGGED]
    n = validate(authorization("w-1", "a-1", 500))
    service.apply_and_publish(store, publisher, n, now=4, review_threshold=1_000, cards=vault)
    assert vault.reveal("w-1", "a-1") == Card("5488210000003691", "ALEX OAK")
    assert publisher.events[2].type == CARD_TRANSACTION_UPDATED
    assert publisher.events[2].payload["status"] == "authorized"
    assert service.apply_and_publish(store, publisher, n, now=5, cards=vault) is service.Outcome.DUPLICATE
    assert publisher.events[-1].occurred_at == 4  # the time the ledger kept, not the redelivery's


# -- balance ------------------------------------------------------------------------------------


def test_the_balance_of_a_wallet_or_why_there_is_none() -> None:
    store = InMemoryLedger()
    with pytest.raises(InvalidWalletId) as invalid:
        service.balance(store, "../w-1")
    assert (
        invalid.value.message == "wallet_id must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'"
    )
    with pytest.raises(WalletNotFound) as missing:
        service.balance(store, "w-404")
    assert missing.value.message == "no wallet 'w-404'"
    service.apply(store, validate(payin("w-1", 3)), now=1)
    assert service.balance(store, "w-1") == Balance("w-1", 3, 0)


# -- the review desk and decisions --------------------------------------------------------------


@pytest.fixture
def desk() -> InMemoryReviews:
    return InMemoryReviews(InMemoryLedger())


def started(desk: InMemoryReviews, amount: int = 2_000_000) -> Review:
    n = validate(payin("w-1", amount))
    request = reviews.ReviewRequest.for_notification(n, "EUR")
    assert (
        service.on_review_event(LARGE_PAYMENT_FLAGGED, {"payload": request.to_dict()}, desk, desk)
        == "started"
    )
    found = desk.review(request.review_id)
    assert found is not None
    return found


def test_the_review_desk_starts_once_and_files_the_token_the_workflow_hands_over(
    desk: InMemoryReviews,
) -> None:
    review = started(desk)
    detail = {"payload": reviews.ReviewRequest.from_dict(review.to_dict()).to_dict()}
    assert service.on_review_event(LARGE_PAYMENT_FLAGGED, detail, desk, desk) == "already started"
    filed = {"review_id": review.review_id, "task_token": "tok-from-the-workflow"}
    assert service.on_review_event(reviews.REVIEW_REQUESTED, filed, desk, desk) == "token filed"
    assert desk.items[review.review_id].task_token == "tok-from-the-workflow"


def test_the_review_desk_names_the_event_it_does_not_handle(desk: InMemoryReviews) -> None:
    with pytest.raises(ValueError) as caught:
        service.on_review_event("BalanceUpdated", {}, desk, desk)
    assert str(caught.value) == "the review desk does not handle 'BalanceUpdated' events"


class Lookups(InMemoryReviews):
    def __init__(self) -> None:
        super().__init__(InMemoryLedger())
        self.looked_up: list[str] = []

    def review(self, review_id: str) -> Review | None:
        self.looked_up.append(review_id)
        return super().review(review_id)


def test_a_review_is_found_by_its_id_in_any_case_and_a_malformed_id_is_never_looked_up() -> None:
    store = Lookups()
    review = started(store)
    store.looked_up.clear()
    assert service.review(store, review.review_id.upper()) == review
    assert store.looked_up == [review.review_id]
    for malformed in ("../etc", "rv-" + "0" * 31, "RV-NOPE"):
        with pytest.raises(ReviewNotFound) as caught:
            service.review(store, malformed)
        assert caught.value.message == f"no review {malformed.lower()!r}"
    assert store.looked_up == [review.review_id]
    with pytest.raises(ReviewNotFound, match=r"^no review 'rv-0{32}'$"):
        service.review(store, "rv-" + "0" * 32)


def test_a_decision_resumes_the_workflow_with_who_decided(desk: InMemoryReviews) -> None:
    review = started(desk)
    body = json.dumps({"decision": "reject", "reason": " source of funds "}).encode()
    decided = service.submit_decision(
        desk, desk, review.review_id, body, decided_by="arn:aws:iam::1:user/alice"
    )
    assert decided == reviews.DecisionRequest(
        reviews.Decision.REJECT, "source of funds", "arn:aws:iam::1:user/alice"
    )
    final = desk.items[review.review_id]
    assert (final.status, final.decision, final.reason, final.decided_by) == (
        Status.REJECTED,
        "reject",
        "source of funds",
        "arn:aws:iam::1:user/alice",
    )
    assert (final.claimed, final.claimed_by) == ("reject", "arn:aws:iam::1:user/alice")


def test_a_bad_decision_body_is_refused_before_the_review_is_looked_up() -> None:
    store = Lookups()
    with pytest.raises(InvalidDecision, match=r"^invalid decision: decision$"):
        service.submit_decision(store, store, "rv-" + "0" * 32, b"{}", decided_by="alice")
    assert store.looked_up == []


def approve() -> bytes:
    return json.dumps({"decision": "approve"}).encode()


def test_a_decided_review_says_who_decided_it(desk: InMemoryReviews) -> None:
    review = started(desk)
    service.submit_decision(desk, desk, review.review_id, approve(), decided_by="alice")
    with pytest.raises(ReviewClosed) as caught:
        service.submit_decision(desk, desk, review.review_id, approve(), decided_by="bob")
    assert caught.value.message == (
        f"review {review.review_id} is approved (approve by alice): it no longer takes a decision"
    )


def test_an_escalated_review_says_so_without_a_decider(desk: InMemoryReviews) -> None:
    review = started(desk)
    desk.escalate(review.review_id)
    with pytest.raises(ReviewClosed) as caught:
        service.submit_decision(desk, desk, review.review_id, approve(), decided_by="bob")
    assert caught.value.message == f"review {review.review_id} is escalated: it no longer takes a decision"


def test_a_decision_second_to_an_accepted_one_names_the_one_that_stands(desk: InMemoryReviews) -> None:
    review = started(desk)
    won, _ = desk.claim(review.review_id, reviews.DecisionRequest(reviews.Decision.REJECT, "why", "alice"))
    assert won  # accepted, the workflow not resumed yet
    with pytest.raises(DecisionConflict) as caught:
        service.submit_decision(desk, desk, review.review_id, approve(), decided_by="bob")
    assert (
        caught.value.message
        == f"review {review.review_id} already has a decision: reject by alice; it stands"
    )
    assert desk.items[review.review_id].status is Status.PENDING


def test_a_review_without_its_token_yet_is_not_ready(desk: InMemoryReviews) -> None:
    review = started(desk)
    desk.items[review.review_id] = Review(**{**review.__dict__, "task_token": None})
    with pytest.raises(ReviewNotReady) as caught:
        service.submit_decision(desk, desk, review.review_id, approve(), decided_by="bob")
    assert caught.value.message == f"review {review.review_id} is being opened: try again in a few seconds"


def test_the_notification_of_a_review_is_the_one_its_id_derives_from() -> None:
    n: Notification = validate(payin("w-1", 2_000_000))
    assert reviews.ReviewRequest.for_notification(n, "EUR").review_id == reviews.review_id(n.notification_id)
