"""The monolith's SQLite database: the wallet ledger (a LedgerStore) and the inbox of received notifications.

The same ledger rules as on DynamoDB (``demo.bank.ledger.decide``); here one SQLite transaction
holds the "seen" marker and the balance change, as one TransactWriteItems does there.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from demo.bank.errors import BankError
from demo.bank.ledger import Authorization, Balance, LedgerEntry
from demo.bank.notifications import Notification
from demo.bank.ports import ConcurrentUpdate

SCHEMA = """
CREATE TABLE IF NOT EXISTS wallets (
    wallet_id TEXT PRIMARY KEY,
    current_balance INTEGER NOT NULL,
    authorizations INTEGER NOT NULL,
    currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS authorizations (
    wallet_id TEXT NOT NULL,
    authorization_id TEXT NOT NULL,
    authorized_amount INTEGER,
    closed INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, authorization_id)
);
CREATE TABLE IF NOT EXISTS seen (
    notification_id TEXT PRIMARY KEY,
    wallet_id TEXT NOT NULL,
    applied_at REAL NOT NULL,
    digest TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id TEXT NOT NULL,
    wallet_id TEXT NOT NULL,
    webhook TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""


class DatabaseUnavailable(BankError):
    code = "database_unavailable"
    status = 503


class Database:
    """The SQLite file, with a switch to take it down on cue (as a database server goes down)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._down = threading.Event()
        with self.connect() as conn:
            conn.executescript(SCHEMA)

    @property
    def down(self) -> bool:
        return self._down.is_set()

    def set_down(self, down: bool) -> None:
        if down:
            self._down.set()
        else:
            self._down.clear()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; transactions are explicit (BEGIN IMMEDIATE)."""
        if self.down:
            raise DatabaseUnavailable("the database is down")
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except sqlite3.Error as error:
            raise DatabaseUnavailable(f"cannot open the database: {error}") from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            yield conn
        finally:
            conn.close()


class SqliteLedger:
    """A :class:`demo.bank.ports.LedgerStore` in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def authorization(self, wallet_id: str, authorization_id: str) -> Authorization | None:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT authorized_amount, closed, version FROM authorizations "
                "WHERE wallet_id = ? AND authorization_id = ?",
                (wallet_id, authorization_id),
            ).fetchone()
        if row is None:
            return None
        return Authorization(wallet_id, authorization_id, row[0], bool(row[1]), row[2])

    def commit(self, entry: LedgerEntry) -> bool:
        with self.db.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute(
                    "SELECT 1 FROM seen WHERE notification_id = ?", (entry.notification_id,)
                ).fetchone():
                    conn.execute("ROLLBACK")
                    return False
                auth = entry.authorization
                if auth is not None:
                    row = conn.execute(
                        "SELECT version FROM authorizations WHERE wallet_id = ? AND authorization_id = ?",
                        (auth.wallet_id, auth.authorization_id),
                    ).fetchone()
                    if (row[0] if row else 0) != auth.version:
                        raise ConcurrentUpdate(f"authorization changed under {entry.notification_id}")
                    conn.execute(
                        "INSERT OR REPLACE INTO authorizations VALUES (?, ?, ?, ?, ?)",
                        (
                            auth.wallet_id,
                            auth.authorization_id,
                            auth.authorized_amount,
                            auth.closed,
                            auth.version + 1,
                        ),
                    )
                conn.execute(
                    "INSERT INTO wallets VALUES (?, ?, ?, 'EUR') ON CONFLICT (wallet_id) DO UPDATE SET "
                    "current_balance = current_balance + excluded.current_balance, "
                    "authorizations = authorizations + excluded.authorizations",
                    (entry.wallet_id, entry.current_delta, entry.authorizations_delta),
                )
                conn.execute(
                    "INSERT INTO seen (notification_id, wallet_id, applied_at, digest) VALUES (?, ?, ?, ?)",
                    (entry.notification_id, entry.wallet_id, time.time(), entry.digest),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return True

    def seen_digest(self, notification_id: str) -> str | None:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT digest FROM seen WHERE notification_id = ?", (notification_id,)
            ).fetchone()
        return None if row is None else row[0]

    def balance(self, wallet_id: str) -> Balance | None:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT current_balance, authorizations, currency FROM wallets WHERE wallet_id = ?",
                (wallet_id,),
            ).fetchone()
        return None if row is None else Balance(wallet_id, row[0], row[1], row[2])


class Inbox:
    """Every notification the ingress accepted (answered 202), as a PHP monolith would log it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def recording(self, notification: Notification) -> Iterator[None]:
        """Record ``notification`` if, and only if, the block (the publish) succeeds.

        The row and the publish are not atomic (no transaction spans SQLite and a broker): if the
        commit fails after the publish, the processor gets an error, resends, and the worker
        deduplicates.
        """
        with self.db.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO inbox (notification_id, wallet_id, webhook, received_at) VALUES (?, ?, ?, ?)",
                    (notification.notification_id, notification.wallet_id, notification.webhook, time.time()),
                )
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def pending_by_wallet(self) -> dict[str, int]:
        """Distinct notifications accepted but not applied yet, per wallet: the backlog."""
        with self.db.connect() as conn:
            rows = conn.execute(
                "SELECT wallet_id, COUNT(DISTINCT notification_id) FROM inbox "
                "WHERE notification_id NOT IN (SELECT notification_id FROM seen) GROUP BY wallet_id"
            ).fetchall()
        return dict(rows)

    def counts(self) -> dict[str, int]:
        """Deliveries accepted, distinct notifications accepted, and notifications applied."""
        with self.db.connect() as conn:
            accepted, distinct = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT notification_id) FROM inbox"
            ).fetchone()
            applied = conn.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        return {"accepted": accepted, "distinct": distinct, "applied": applied}
