"""The ports of the domain: what it needs from storage and messaging, as Protocols.

Adapters implement them: in memory (tests), SQLite (the monolith), DynamoDB and SQS (Lambda).
"""

from __future__ import annotations

from typing import Protocol

from demo.bank.events import DomainEvent
from demo.bank.ledger import Authorization, Balance, LedgerEntry
from demo.bank.notifications import Notification
from demo.bank.reviews import DecisionRequest, Review, ReviewRequest, Status


class ConcurrentUpdate(Exception):
    """Another writer changed the authorization since it was read: read again and retry."""


class WalletFrozen(Exception):
    """The wallet was frozen since it was read: the entry's new hold was not committed."""


class LedgerStore(Protocol):
    def authorization(self, wallet_id: str, authorization_id: str) -> Authorization | None:
        """The stored state of an authorization, or None if the ledger has never seen it."""
        ...

    def commit(self, entry: LedgerEntry) -> bool:
        """Apply ``entry`` atomically with its "notification seen" marker.

        Returns False, changing nothing, when the notification was already applied. Raises
        :class:`ConcurrentUpdate` when ``entry.authorization`` was read at a stale version, and
        :class:`WalletFrozen` when the entry adds a hold to a frozen wallet.
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


class ReviewWorkflow(Protocol):
    def start(self, request: ReviewRequest) -> bool:
        """Start the review of a payment; False if it was started before (same review id)."""
        ...

    def resume(self, task_token: str, decision: DecisionRequest) -> None:
        """Resume the waiting workflow; raise ReviewClosed if it no longer waits."""
        ...
