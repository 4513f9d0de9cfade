"""The monolith's worker: consume, apply to the SQLite ledger, then notify the client synchronously.

This is the part the talk migrates away from. One consumer handles one message at a time, and
it calls the fintech client inside that same step: a slow client slows every wallet down (head
of line blocking), and a webhook that fails is logged and lost.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from demo.bank import notifications, service
from demo.bank.errors import BankError
from demo.bank.ledger import Balance
from demo.bank.signature import SIGNATURE_HEADER, sign
from demo.bank.webhooks import client_webhooks
from demo.monolith.broker import Broker, Delivery
from demo.monolith.database import DatabaseUnavailable, SqliteLedger
from demo.parties.client import encode

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    retried: int = 0  # messages put back because the database was down
    webhooks_sent: int = 0
    webhooks_failed: int = 0  # lost: the monolith does not retry them


class WebhookSender:
    """Signs and POSTs one webhook to the fintech client, synchronously, with a timeout."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self._http = httpx.Client(timeout=timeout)

    def send(self, webhook: dict[str, Any]) -> bool:
        body = encode(webhook)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body, int(time.time())),
        }
        try:
            return self._http.post(self.url, content=body, headers=headers).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._http.close()


class Worker:
    def __init__(self, broker: Broker, ledger: SqliteLedger, sender: WebhookSender) -> None:
        self.broker = broker
        self.ledger = ledger
        self.sender = sender
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._in_hand = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._running.is_set()

    @property
    def busy(self) -> bool:
        """Whether a message is in hand (received, not yet acknowledged)."""
        return self._in_hand.is_set()

    def start(self) -> None:
        """Start consuming (a stopped worker leaves messages in the broker)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="monolith-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop consuming, after the message in hand (as when the worker is redeployed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            if self._thread.is_alive():
                raise RuntimeError("the worker did not stop within 30 s")
            self._thread = None

    def _run(self) -> None:
        self._running.set()
        try:
            self.broker.consume(self.handle, self._stop)
        finally:
            self._running.clear()

    # --8<-- [start:handle]
    def handle(self, body: str, message: Delivery) -> None:
        """One message: apply it, notify the client, acknowledge."""
        self._in_hand.set()
        try:
            self._handle(body, message)
        finally:
            self._in_hand.clear()

    def _handle(self, body: str, message: Delivery) -> None:
        try:
            notification = notifications.parse(body.encode("utf-8"))
            committed = service.commit(self.ledger, notification, int(time.time()))
        except DatabaseUnavailable:
            self.stats.retried += 1
            message.requeue()
            self._stop.wait(0.5)  # the database is down: do not spin on the same message
            return
        except BankError:
            log.exception("invalid message dropped")
            self.stats.invalid += 1
            message.ack()
            return
        if not committed.applied:
            self.stats.duplicates += 1
        else:
            self.stats.applied += 1
            self._notify(notification, committed.balance)
        message.ack()

    def _notify(self, notification: notifications.Notification, balance: Balance) -> None:
        for webhook in client_webhooks(notification, balance, int(time.time())):
            if self.sender.send(webhook):
                self.stats.webhooks_sent += 1
            else:
                self.stats.webhooks_failed += 1
                log.warning("webhook %s to the client failed and is lost", webhook["webhook_id"])
        # --8<-- [end:handle]
