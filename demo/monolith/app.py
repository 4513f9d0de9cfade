"""The monolith as one running system: web, broker, worker and database, with its faults on cue."""

from __future__ import annotations

import secrets
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from demo.bank.errors import BankError
from demo.monolith.broker import Broker
from demo.monolith.database import Database, Inbox, SqliteLedger
from demo.monolith.faults import FAULTS
from demo.monolith.web import create_app
from demo.monolith.worker import WebhookSender, Worker
from demo.settings import CLIENT_WEBHOOK_URL, HOST, LOCAL_WEBHOOK_SECRET, MONOLITH_PORT, ensure_free


class UnknownFault(BankError):
    code = "unknown_fault"
    status = 404


class _QuietHandler(WSGIRequestHandler):
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Monolith:
    """The "before" system. ``port=0`` picks a free port; ``db_path=None`` uses a temporary file."""

    def __init__(
        self,
        *,
        host: str = HOST,
        port: int = MONOLITH_PORT,
        db_path: str | Path | None = None,
        broker_url: str | None = None,
        client_url: str = CLIENT_WEBHOOK_URL,
        signing_secret: str | None = None,
        webhook_secret: str = LOCAL_WEBHOOK_SECRET,
        client_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._tmp = None if db_path else tempfile.TemporaryDirectory(prefix="bank-monolith-")
        self.db_path = Path(db_path) if db_path else Path(self._tmp.name) / "bank.sqlite3"  # type: ignore[union-attr]  # _tmp is set whenever db_path is not
        self.client_url = client_url
        self.signing_secret = signing_secret or secrets.token_hex(32)
        self.database = Database(self.db_path)
        self.ledger = SqliteLedger(self.database)
        self.inbox = Inbox(self.database)
        self.broker = Broker(broker_url)
        self.sender = WebhookSender(client_url, webhook_secret, timeout=client_timeout)
        self.worker = Worker(self.broker, self.ledger, self.sender)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        ensure_free(self.host, self.port)  # werkzeug would print and exit on a busy port
        self.broker.depth()  # fails now, clearly, if BROKER_URL names a broker that is not there
        self._server = make_server(
            self.host, self.port, create_app(self), threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="monolith-web", daemon=True)
        self._thread.start()
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.sender.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> dict[str, Any]:
        """Everything the demo shows about the monolith, read without failing when a part is down."""
        status: dict[str, Any] = {
            "database": "down" if self.database.down else "up",
            "broker": self.broker.display_url,
            "worker": "running" if self.worker.running else "stopped",
            "worker_busy": self.worker.busy,
            "worker_stats": asdict(self.worker.stats),
            "broker_restarts": self.broker.restarts,
            "client_url": self.client_url,
        }
        try:
            status["queue_depth"] = self.broker.depth()
        except Exception as error:  # the broker is down: say so
            status["queue_depth"] = None
            status["broker_error"] = str(error)
        if not self.database.down:
            status["inbox"] = self.inbox.counts()
            status["pending_by_wallet"] = self.inbox.pending_by_wallet()
        return status

    def inject(self, fault: str) -> dict[str, Any]:
        """Apply one fault (or its recovery) on cue: see ``FAULTS``."""
        result: dict[str, Any] = {"fault": fault}
        if fault == "database-down":
            self.database.set_down(True)
        elif fault == "database-up":
            self.database.set_down(False)
        elif fault == "broker-restart":
            result["messages_lost"] = self.broker.restart()
        elif fault == "worker-stop":
            self.worker.stop()
        elif fault == "worker-start":
            self.worker.start()
        else:
            raise UnknownFault(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        return result
