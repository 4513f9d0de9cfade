"""The monolith's HTTP side: Flask routes on the same contract as the serverless API.

``POST /notifications`` verifies, validates, records the notification in the database (the
inbox), publishes it to the broker and answers 202. Unlike the serverless ingress, it needs
the database: when the database is down, the processor gets 503s.
"""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from demo import control_guard
from demo.bank import service
from demo.bank.errors import BankError
from demo.bank.memory import StaticSecrets
from demo.bank.notifications import Notification
from demo.bank.ports import LedgerStore
from demo.bank.signature import SIGNATURE_HEADER
from demo.monolith.broker import Broker
from demo.monolith.database import Inbox


class Site(Protocol):
    """What the routes need of the running monolith (``demo.monolith.app.Monolith`` is one)."""

    # Read-only (properties), so that a Monolith is one: its ledger is a SqliteLedger, which a
    # mutable protocol attribute (invariant) would refuse for a LedgerStore.
    @property
    def signing_secret(self) -> str: ...

    @property
    def ledger(self) -> LedgerStore: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def broker(self) -> Broker: ...

    def status(self) -> dict[str, Any]: ...

    def inject(self, fault: str) -> dict[str, Any]: ...


# --8<-- [start:enqueue]
class InboxThenBroker:
    """The monolith's :class:`demo.bank.ports.NotificationQueue`: the inbox table, then the broker."""

    def __init__(self, monolith: Site) -> None:
        self.monolith = monolith

    def enqueue(self, notification: Notification, body: str) -> None:
        with self.monolith.inbox.recording(notification):  # no row if the publish fails
            self.monolith.broker.publish(body)
        # --8<-- [end:enqueue]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.replace(" ", "")).lower()


def create_app(monolith: Site) -> Flask:
    app = Flask("bank-monolith")
    queue = InboxThenBroker(monolith)
    secrets = StaticSecrets(monolith.signing_secret)

    @app.errorhandler(BankError)
    def bank_error(error: BankError) -> tuple[Response, int]:
        return jsonify(error.to_dict()), error.status

    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # werkzeug stops reading there; we refuse at 64 KiB

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        code = "payload_too_large" if error.code == 413 else _snake(error.name or "error")
        return jsonify({"error": {"code": code, "message": error.description}}), error.code or 500

    # --8<-- [start:ingress]
    @app.post("/notifications")
    def receive_notification() -> tuple[Response, int]:
        # As API Gateway and Chalice: no Content-Type is taken for JSON, an empty one is refused.
        if request.mimetype != "application/json" and (request.mimetype or "Content-Type" in request.headers):
            body = {
                "code": "unsupported_media_type",
                "message": f"Unsupported media type: {request.mimetype}",
            }
            return jsonify({"error": body}), 415
        notification = service.receive(
            request.get_data(cache=False),
            request.headers.get(SIGNATURE_HEADER),
            secrets=secrets,
            queue=queue,
            now=time.time(),
        )
        return jsonify({"notification_id": notification.notification_id, "status": "accepted"}), 202
        # --8<-- [end:ingress]

    @app.get("/wallets/<wallet_id>/balance")
    def wallet_balance(wallet_id: str) -> dict[str, Any]:
        return service.balance(monolith.ledger, wallet_id).to_dict()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "stage": "monolith"}

    @app.before_request
    def guard_the_admin_routes() -> tuple[Response, int] | None:
        if not request.path.startswith("/_admin/"):
            return None
        why = control_guard.refusal(request.method, dict(request.headers))
        return None if why is None else (jsonify({"error": {"code": "forbidden", "message": why}}), 403)

    @app.get("/_admin/status")
    def status() -> dict[str, Any]:
        return monolith.status()

    @app.post("/_admin/faults/<fault>")
    def fault(fault: str) -> dict[str, Any]:
        return monolith.inject(fault)

    return app
