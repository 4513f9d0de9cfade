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
from typing import Any

from demo.bank.errors import BankError
from demo.bank.ledger import Authorization, Balance, Committed, LedgerEntry, WalletState
from demo.bank.notifications import Notification
from demo.bank.ports import ConcurrentUpdate

SCHEMA = """
CREATE TABLE IF NOT EXISTS wallets (
    wallet_id TEXT PRIMARY KEY,
    current_balance INTEGER NOT NULL,
    authorizations INTEGER NOT NULL,
    currency TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
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
    digest TEXT NOT NULL DEFAULT '',
    current_balance INTEGER,
    authorizations INTEGER,
    version INTEGER
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id TEXT NOT NULL,
    wallet_id TEXT NOT NULL,
    webhook TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""
# Columns added since a database file may have been created (``bankdemo monolith up --db FILE``)
ADDED_COLUMNS = {
    "wallets": {"version": "INTEGER NOT NULL DEFAULT 0"},
    "seen": {"current_balance": "INTEGER", "authorizations": "INTEGER", "version": "INTEGER"},
}


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
            for table, columns in ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, definition in columns.items():
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")

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

    def read(self, wallet_id: str, authorization_id: str | None) -> WalletState:
        with self.db.connect() as conn:
            return WalletState(
                self._balance(conn, wallet_id), self._authorization(conn, wallet_id, authorization_id)
            )

    @staticmethod
    def _balance(conn: sqlite3.Connection, wallet_id: str) -> Balance | None:
        row = conn.execute(
            "SELECT current_balance, authorizations, currency, version FROM wallets WHERE wallet_id = ?",
            (wallet_id,),
        ).fetchone()
        return None if row is None else Balance(wallet_id, row[0], row[1], row[2], version=row[3])

    @staticmethod
    def _authorization(
        conn: sqlite3.Connection, wallet_id: str, authorization_id: str | None
    ) -> Authorization | None:
        if authorization_id is None:
            return None
        row = conn.execute(
            "SELECT authorized_amount, closed, version FROM authorizations "
            "WHERE wallet_id = ? AND authorization_id = ?",
            (wallet_id, authorization_id),
        ).fetchone()
        return (
            None if row is None else Authorization(wallet_id, authorization_id, row[0], bool(row[1]), row[2])
        )

    def commit(self, entry: LedgerEntry, state: WalletState, applied_at: int) -> Committed:
        if entry.card is not None:
            raise ValueError("the monolith keeps no card data: it has no vault")
        with self.db.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute(
                    "SELECT current_balance, authorizations, version, applied_at, digest FROM seen "
                    "WHERE notification_id = ?",
                    (entry.notification_id,),
                ).fetchone()
                if seen:
                    conn.execute("ROLLBACK")
                    return self._committed_before(conn, entry.wallet_id, seen)
                stored = self._balance(conn, entry.wallet_id)
                if (stored.version if stored else 0) != (state.balance.version if state.balance else 0):
                    raise ConcurrentUpdate(f"wallet changed under {entry.notification_id}")
                auth = entry.authorization
                if auth is not None:
                    found = self._authorization(conn, auth.wallet_id, auth.authorization_id)
                    if (found.version if found else 0) != auth.version:
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
                after = entry.balance_after(stored)
                conn.execute(
                    "INSERT INTO wallets VALUES (?, ?, ?, ?, ?) ON CONFLICT (wallet_id) DO UPDATE SET "
                    "current_balance = excluded.current_balance, authorizations = excluded.authorizations, "
                    "version = excluded.version",
                    (
                        entry.wallet_id,
                        after.current_balance,
                        after.authorizations,
                        after.currency,
                        after.version,
                    ),
                )
                conn.execute(
                    "INSERT INTO seen (notification_id, wallet_id, applied_at, digest, current_balance, "
                    "authorizations, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.notification_id,
                        entry.wallet_id,
                        applied_at,
                        entry.digest,
                        after.current_balance,
                        after.authorizations,
                        after.version,
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return Committed(True, after, applied_at, entry.digest)

    def _committed_before(self, conn: sqlite3.Connection, wallet_id: str, seen: tuple[Any, ...]) -> Committed:
        current, holds, version, applied_at, digest = seen
        if current is None:  # applied before the marker kept its balance: the wallet's as it is now
            now = self._balance(conn, wallet_id)
            balance = now or Balance(wallet_id, 0, 0)
        else:
            balance = Balance(wallet_id, current, holds, version=version)
        return Committed(False, balance, int(applied_at), digest)

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
