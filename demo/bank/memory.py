"""In-memory adapters of the ports: fast twins of the real ones for tests and notebooks, and the
monolith's fixed signing secret (it comes from its environment, as a monolith's config would)."""

from __future__ import annotations

import threading
from dataclasses import replace

from demo.bank.events import DomainEvent
from demo.bank.ledger import Authorization, Balance, LedgerEntry
from demo.bank.notifications import Notification
from demo.bank.ports import ConcurrentUpdate


class InMemoryLedger:
    """A :class:`~demo.bank.ports.LedgerStore` in dictionaries, atomic under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: set[str] = set()
        self.wallets: dict[str, tuple[int, int]] = {}
        self.authorizations: dict[tuple[str, str], Authorization] = {}

    def authorization(self, wallet_id: str, authorization_id: str) -> Authorization | None:
        with self._lock:
            return self.authorizations.get((wallet_id, authorization_id))

    def commit(self, entry: LedgerEntry) -> bool:
        with self._lock:
            if entry.notification_id in self.seen:
                return False
            auth = entry.authorization
            if auth is not None:
                key = (auth.wallet_id, auth.authorization_id)
                stored = self.authorizations.get(key)
                if (stored.version if stored else 0) != auth.version:
                    raise ConcurrentUpdate(f"authorization {key} changed")
                self.authorizations[key] = replace(auth, version=auth.version + 1)
            current, holds = self.wallets.get(entry.wallet_id, (0, 0))
            current, holds = current + entry.current_delta, holds + entry.authorizations_delta
            self.wallets[entry.wallet_id] = (current, holds)
            self.seen.add(entry.notification_id)
            return True

    def balance(self, wallet_id: str) -> Balance | None:
        with self._lock:
            if wallet_id not in self.wallets:
                return None
            current, holds = self.wallets[wallet_id]
            return Balance(wallet_id, current, holds)


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


class InMemoryPublisher:
    """A :class:`~demo.bank.ports.EventPublisher` that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: list[DomainEvent]) -> None:
        self.events.extend(events)
