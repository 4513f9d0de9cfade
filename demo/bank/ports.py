"""The ports of the domain: what it needs from storage and messaging, as Protocols.

Adapters implement them: in memory (tests), SQLite (the monolith), DynamoDB and SQS (Lambda).
"""

from __future__ import annotations

from typing import Protocol

from demo.bank.events import DomainEvent
from demo.bank.ledger import Balance, Committed, LedgerEntry, WalletState
from demo.bank.notifications import Notification
from demo.bank.reviews import DecisionRequest, Review, ReviewRequest, Status


class ConcurrentUpdate(Exception):
    """Another writer changed the wallet or the authorization since they were read: read again and retry."""


class LedgerStore(Protocol):
    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        """The wallet's balance and (for a card notification) the authorization, as stored now."""
        ...

    def commit(self, entry: LedgerEntry, state: WalletState, applied_at: int) -> Committed:
        """Apply ``entry`` to the wallet read as ``state``, atomically with its "seen" marker.

        The marker keeps the balance right after the entry, ``applied_at`` and the body's digest.
        For a notification applied before, nothing changes and the :class:`Committed` returned
        is the one kept then (``applied`` False). Raises :class:`ConcurrentUpdate` when the
        wallet (its balance, a freeze) or the authorization changed since ``state`` was read.
        """
        ...

    def balance(self, wallet_id: str) -> Balance | None:
        """The wallet's balance, or None if no notification ever touched it."""
        ...

    def seen_digest(self, notification_id: str) -> str | None:
        """The body digest kept with an applied notification's marker ("" if none was kept)."""
        ...


class NotificationQueue(Protocol):
    def enqueue(self, notification: Notification, body: str) -> None:
        """Hand a verified notification (and its raw body) to the asynchronous worker."""
        ...


class SecretSource(Protocol):
    def signing_secrets(self) -> list[str]:
        """The secrets a valid processor signature may use (current first)."""
        ...

    def refresh(self) -> bool:
        """Re-read the secrets now if allowed (a rotation may have happened); True if it did."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: list[DomainEvent]) -> None:
        """Publish ``events`` (all or raise): consumers deduplicate by ``event_id``."""
        ...


class ReviewStore(Protocol):
    def review(self, review_id: str) -> Review | None:
        """The review the workflow recorded, with its task token once filed."""
        ...

    def reviews(self, status: Status | None = None) -> list[Review]:
        """Reviews, oldest first, optionally of one status."""
        ...

    def file_token(self, review_id: str, task_token: str) -> None:
        """Keep the token the workflow waits with, while the review is pending."""
        ...

    def claim(self, review_id: str, decision: DecisionRequest) -> tuple[bool, Review]:
        """Accept ``decision`` for the review if it is pending, has its token and no decision was
        accepted before (one conditional write): whether it was, and the review as it stands."""
        ...


class ReviewWorkflow(Protocol):
    def start(self, request: ReviewRequest) -> bool:
        """Start the review of a payment; False if it was started before (same review id)."""
        ...

    def resume(self, task_token: str, decision: DecisionRequest) -> None:
        """Resume the waiting workflow; raise ReviewClosed if it no longer waits."""
        ...
