"""The ports of the domain: what it needs from storage and messaging, as Protocols.

Adapters implement them: in memory (tests), SQLite (the monolith), DynamoDB and SQS (Lambda).
"""

from __future__ import annotations

from typing import Protocol

from demo.bank.events import DomainEvent
from demo.bank.ledger import Authorization, Balance, LedgerEntry
from demo.bank.notifications import Notification


class ConcurrentUpdate(Exception):
    """Another writer changed the authorization since it was read: read again and retry."""


class LedgerStore(Protocol):
    def authorization(self, wallet_id: str, authorization_id: str) -> Authorization | None:
        """The stored state of an authorization, or None if the ledger has never seen it."""
        ...

    def commit(self, entry: LedgerEntry) -> bool:
        """Apply ``entry`` atomically with its "notification seen" marker.

        Returns False, changing nothing, when the notification was already applied. Raises
        :class:`ConcurrentUpdate` when ``entry.authorization`` was read at a stale version.
        """
        ...

    def balance(self, wallet_id: str) -> Balance | None:
        """The wallet's balance, or None if no notification ever touched it."""
        ...


class NotificationQueue(Protocol):
    def enqueue(self, notification: Notification, body: str) -> None:
        """Hand a verified notification (and its raw body) to the asynchronous worker."""
        ...


class SecretSource(Protocol):
    def signing_secrets(self) -> list[str]:
        """The secrets a valid processor signature may use (current first)."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: list[DomainEvent]) -> None:
        """Publish ``events`` (all or raise): consumers deduplicate by ``event_id``."""
        ...
