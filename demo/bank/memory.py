"""In-memory adapters of the ports: fast twins of the real ones for tests and notebooks, and the
monolith's fixed signing secret (it comes from its environment, as a monolith's config would)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime

from demo.bank.cards import SealedCard, mask_pan
from demo.bank.errors import ReviewClosed
from demo.bank.events import DomainEvent
from demo.bank.ledger import Authorization, Balance, Committed, LedgerEntry, WalletState
from demo.bank.notifications import Card, Notification
from demo.bank.ports import ConcurrentUpdate
from demo.bank.reviews import Decision, DecisionRequest, Review, ReviewRequest, Status


class InMemoryLedger:
    """A :class:`~demo.bank.ports.LedgerStore` in dictionaries, atomic under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: dict[str, Committed] = {}
        self.wallets: dict[str, Balance] = {}
        self.authorizations: dict[tuple[str, str], Authorization] = {}
        self.cards: dict[tuple[str, str], SealedCard] = {}

    def freeze(self, wallet_id: str) -> None:
        """What a rejected review does to the wallet (in DynamoDB, the workflow's FreezeWallet)."""
        with self._lock:
            before = self.wallets.get(wallet_id) or Balance(wallet_id, 0, 0)
            self.wallets[wallet_id] = replace(before, frozen=True, version=before.version + 1)

    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        with self._lock:
            auth = (
                None if authorization_id is None else self.authorizations.get((wallet_id, authorization_id))
            )
            return WalletState(self.wallets.get(wallet_id), auth)

    def commit(self, entry: LedgerEntry, state: WalletState, applied_at: int) -> Committed:
        with self._lock:
            if entry.notification_id in self.seen:
                return replace(self.seen[entry.notification_id], applied=False)
            stored = self.wallets.get(entry.wallet_id)
            if (stored.version if stored else 0) != (state.balance.version if state.balance else 0):
                raise ConcurrentUpdate(f"wallet {entry.wallet_id} changed")
            auth = entry.authorization
            if auth is not None:
                key = (auth.wallet_id, auth.authorization_id)
                found = self.authorizations.get(key)
                if (found.version if found else 0) != auth.version:
                    raise ConcurrentUpdate(f"authorization {key} changed")
                self.authorizations[key] = replace(auth, version=auth.version + 1)
            after = entry.balance_after(stored)
            self.wallets[entry.wallet_id] = after
            if entry.card is not None:
                self.cards[(entry.card.wallet_id, entry.card.authorization_id)] = entry.card
            committed = Committed(True, after, applied_at, entry.digest)
            self.seen[entry.notification_id] = committed
            return committed

    def seen_digest(self, notification_id: str) -> str | None:
        with self._lock:
            found = self.seen.get(notification_id)
            return None if found is None else found.digest

    def balance(self, wallet_id: str) -> Balance | None:
        with self._lock:
            return self.wallets.get(wallet_id)


class InMemoryCardVault:
    """A :class:`~demo.bank.cards.CardVault` for tests: it "seals" cards in clear (JSON), and reads
    them back from the in-memory ledger that keeps them."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger

    def seal(self, wallet_id: str, authorization_id: str, card: Card) -> SealedCard:
        data = json.dumps({"pan": card.pan, "holder": card.holder}).encode()
        return SealedCard(wallet_id, authorization_id, mask_pan(card.pan), ciphertext=data)

    def keep(self, card: SealedCard) -> None:
        self._ledger.cards[(card.wallet_id, card.authorization_id)] = card

    def reveal(self, wallet_id: str, authorization_id: str) -> Card | None:
        sealed = self._ledger.cards.get((wallet_id, authorization_id))
        return None if sealed is None else Card(**json.loads(sealed.ciphertext))


class InMemoryQueue:
    """A :class:`~demo.bank.ports.NotificationQueue` that keeps what it was given, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[Notification, str]] = []

    def enqueue(self, notification: Notification, body: str) -> None:
        self.items.append((notification, body))


class StaticSecrets:
    """A :class:`~demo.bank.ports.SecretSource` with fixed secrets."""

    def __init__(self, *secrets: str) -> None:
        self._secrets = list(secrets)

    def signing_secrets(self) -> list[str]:
        return list(self._secrets)

    def refresh(self) -> bool:
        return False  # fixed: nothing to re-read


class InMemoryPublisher:
    """A :class:`~demo.bank.ports.EventPublisher` that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: list[DomainEvent]) -> None:
        self.events.extend(events)

    def batch(self) -> InMemoryEventBatch:
        """As the EventBridge adapter's: the events of an SQS batch, kept until ``flush``."""
        return InMemoryEventBatch(self)


class InMemoryEventBatch:
    def __init__(self, publisher: InMemoryPublisher) -> None:
        self._publisher = publisher
        self._events: list[DomainEvent] = []

    def of(self, record_id: str) -> InMemoryEventBatch:
        return self

    def publish(self, events: list[DomainEvent]) -> None:
        self._events.extend(events)

    def flush(self) -> dict[str, BaseException]:
        self._publisher.publish(self._events)
        self._events = []
        return {}


class InMemoryReviews:
    """Both review ports in memory: a :class:`~demo.bank.ports.ReviewStore`, and a
    :class:`~demo.bank.ports.ReviewWorkflow` that does synchronously what the state machine does:
    record the pending review, file its token, then approve, or reject and freeze the wallet."""

    def __init__(self, ledger: InMemoryLedger) -> None:
        self._ledger = ledger
        self._lock = threading.Lock()
        self.items: dict[str, Review] = {}
        self.started: list[str] = []

    def review(self, review_id: str) -> Review | None:
        with self._lock:
            return self.items.get(review_id)

    def reviews(self, status: Status | None = None) -> list[Review]:
        with self._lock:
            found = [r for r in self.items.values() if status is None or r.status is status]
        return sorted(found, key=lambda r: (r.requested_at, r.review_id))

    def file_token(self, review_id: str, task_token: str) -> None:
        with self._lock:
            review = self.items[review_id]
            if review.status is Status.PENDING:
                self.items[review_id] = replace(review, task_token=task_token)

    def claim(self, review_id: str, decision: DecisionRequest) -> tuple[bool, Review]:
        with self._lock:
            review = self.items[review_id]
            if review.status is not Status.PENDING or review.task_token is None or review.claimed:
                return False, review
            claimed = replace(review, claimed=str(decision.decision), claimed_by=decision.decided_by)
            self.items[review_id] = claimed
            return True, claimed

    def start(self, request: ReviewRequest) -> bool:
        with self._lock:
            if request.review_id in self.started:
                return False
            self.started.append(request.review_id)
            self.items[request.review_id] = Review(
                **request.to_dict(), status=Status.PENDING, requested_at=_now(), task_token=None
            )
        self.file_token(request.review_id, f"token-{request.review_id}")
        return True

    def resume(self, task_token: str, decision: DecisionRequest) -> None:
        with self._lock:
            review = next((r for r in self.items.values() if r.task_token == task_token), None)
            if review is None or review.status is not Status.PENDING:
                raise ReviewClosed("the review no longer waits for a decision")
            approved = decision.decision is Decision.APPROVE
            self.items[review.review_id] = replace(
                review,
                status=Status.APPROVED if approved else Status.REJECTED,
                decision=str(decision.decision),
                reason=decision.reason,
                decided_at=_now(),
                decided_by=decision.decided_by,
            )
        if not approved:
            self._ledger.freeze(review.wallet_id)

    def escalate(self, review_id: str) -> None:
        """What the workflow does when nobody decides before the timeout."""
        with self._lock:
            review = self.items[review_id]
            if review.status is Status.PENDING:
                self.items[review_id] = replace(review, status=Status.ESCALATED, decided_at=_now())


def _now() -> str:
    return datetime.now(UTC).isoformat()
