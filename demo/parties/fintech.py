"""The fintech client: the bank's customer, receiving its webhooks.

A small HTTP receiver, as a fintech would run one: it verifies each webhook's signature,
deduplicates by ``webhook_id`` (the bank delivers at least once), records what it received and
keeps each wallet's latest balance: the one of the highest ``version`` (webhooks come in any order). For the demo it can be switched, on cue, to:

- ``up``: answers 200;
- ``slow``: answers 200 after ``delay`` seconds (a client having a bad day);
- ``error``: answers 500 without looking at the webhook;
- ``down``: stops listening: connections are refused.

A second port (the control port) answers the demo's questions and commands: ``GET /log``,
``POST /mode``, ``POST /reset``. Both the monolith and the serverless side notify this client.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from demo import control_guard
from demo.bank.errors import SignatureRejected
from demo.bank.signature import SIGNATURE_HEADER, verify
from demo.settings import CLIENT_CONTROL_PORT, CLIENT_WEBHOOK_PORT, LISTEN_BACKLOG, LOCAL_WEBHOOK_SECRET

MAX_WEBHOOK_BYTES = 64 * 1024


class Mode(StrEnum):
    UP = "up"
    SLOW = "slow"
    ERROR = "error"
    DOWN = "down"


@dataclass
class Stats:
    received: int = 0  # distinct webhooks accepted
    duplicates: int = 0  # deliveries of a webhook already received
    rejected: int = 0  # bad signature or malformed body
    refused: int = 0  # answered 500 in error mode
    stale: int = 0  # balance updates older (a lower version) than the one kept: ignored
    balances: dict[str, dict[str, Any]] = field(default_factory=dict)  # the highest version of each


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    client: FintechClient

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the bank gave up waiting: it retries
            self.close_connection = True

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_WEBHOOK_BYTES + 1))


class _WebhookHandler(_Handler):
    def do_POST(self) -> None:
        if self.path != "/webhooks":
            self._answer(404, {"error": {"code": "not_found", "message": self.path}})
            return
        body = self._body()
        if self.client.mode is Mode.DOWN:  # a keep-alive connection opened before: drop it unanswered
            self.close_connection = True
            return
        status, answer = self.client.receive(body, self.headers.get(SIGNATURE_HEADER))
        self._answer(status, answer)


class _ControlHandler(_Handler):
    def _refused(self) -> bool:
        """A web page's request (or a rebound name's): refused before anything is read or changed."""
        why = control_guard.refusal(self.command, dict(self.headers))
        if why is not None:
            self.close_connection = True  # its body, if any, is not read
            self._answer(403, {"error": {"code": "forbidden", "message": why}})
        return why is not None

    def do_GET(self) -> None:
        if self._refused():
            return
        if self.path == "/log":
            self._answer(200, self.client.log())
        else:
            self._answer(404, {"error": {"code": "not_found", "message": self.path}})

    def do_POST(self) -> None:
        if self._refused():
            return
        try:
            request = json.loads(self._body() or b"{}")
            if self.path == "/mode":
                self.client.set_mode(Mode(request["mode"]), float(request.get("delay", self.client.delay)))
                self._answer(200, {"mode": self.client.mode, "delay": self.client.delay})
            elif self.path == "/reset":
                self.client.reset()
                self._answer(200, {"status": "reset"})
            else:
                self._answer(404, {"error": {"code": "not_found", "message": self.path}})
        except (ValueError, KeyError, TypeError) as error:
            self._answer(400, {"error": {"code": "bad_request", "message": str(error)}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG  # a burst of the bank's webhooks, none refused


def _serve(host: str, port: int, handler: type[_Handler], client: FintechClient) -> _Server:
    bound = type(handler.__name__, (handler,), {"client": client})
    server = _Server((host, port), bound)
    threading.Thread(target=server.serve_forever, name=f"fintech-{port}", daemon=True).start()
    return server


class FintechClient:
    """The fintech's webhook receiver, in this process. ``port=0`` picks free ports."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = CLIENT_WEBHOOK_PORT,
        control_port: int = CLIENT_CONTROL_PORT,
        secret: str = LOCAL_WEBHOOK_SECRET,
    ) -> None:
        self.host = host
        self.port = port
        self.control_port = control_port
        self.secret = secret
        self.mode = Mode.UP
        self.delay = 1.0
        self._lock = threading.Lock()
        self._webhooks: dict[str, dict[str, Any]] = {}
        self.stats = Stats()
        self._server: _Server | None = None
        self._control: _Server | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._control = _serve(self.host, self.control_port, _ControlHandler, self)
        self.control_port = self._control.server_address[1]
        try:
            self._listen()
        except OSError:
            self._control.shutdown()
            self._control.server_close()
            raise
        return self

    def stop(self) -> None:
        self._unlisten()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None

    def __enter__(self) -> Self:
        return self if self._control is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _listen(self) -> None:
        if self._server is None:
            self._server = _serve(self.host, self.port, _WebhookHandler, self)
            self.port = self._server.server_address[1]

    def _unlisten(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.port}/webhooks"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port}"

    # -- behaviour ---------------------------------------------------------------------------

    def set_mode(self, mode: Mode, delay: float | None = None) -> None:
        """Switch to ``mode``; ``down`` closes the webhook port, any other mode reopens it."""
        if delay is not None:
            if not 0 <= delay <= 60:
                raise ValueError("delay must be between 0 and 60 seconds")
            self.delay = delay
        if mode is Mode.DOWN:
            self._unlisten()
        else:
            self._listen()
        self.mode = mode

    def receive(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        """Handle one webhook delivery; returns the HTTP status and body to answer."""
        if self.mode is Mode.SLOW:
            time.sleep(self.delay)  # the client's own slowness: what the demo shows
        if self.mode is Mode.ERROR:
            with self._lock:
                self.stats.refused += 1
            return 500, {"error": {"code": "client_error", "message": "the client is failing (error mode)"}}
        try:
            if len(body) > MAX_WEBHOOK_BYTES:
                raise ValueError("webhook too large")
            verify(self.secret, body, signature, now=time.time())
            webhook = json.loads(body)
            webhook_id = webhook["webhook_id"]
            kind = webhook["webhook"]
        except (SignatureRejected, ValueError, KeyError, TypeError) as error:
            with self._lock:
                self.stats.rejected += 1
            return 401 if isinstance(error, SignatureRejected) else 400, {
                "error": {"code": "rejected", "message": str(error)}
            }
        with self._lock:
            if webhook_id in self._webhooks:
                self.stats.duplicates += 1
                return 200, {"status": "duplicate"}
            self._webhooks[webhook_id] = {
                "webhook_id": webhook_id,
                "webhook": kind,
                "object_id": webhook.get("object_id"),
                "received_at": time.time(),
                # the latency's clock: the system-wide monotonic clock (CLOCK_MONOTONIC on Linux),
                # comparable across processes of one machine, where the wall clock is stepped and
                # slewed (seen here drifting 25 ms in 5 s against it)
                "received_monotonic": time.monotonic(),
                "payload": webhook.get("object_payload"),
            }
            self.stats.received += 1
            if kind == "balance.update":
                self._keep_latest(webhook.get("object_payload") or {})
        return 200, {"status": "received"}

    def _keep_latest(self, payload: dict[str, Any]) -> None:
        """Webhooks arrive in any order (the bank retries, redrives): keep each wallet's balance of
        the highest version, as a client of any webhook API must (under the lock)."""
        wallet = str(payload.get("wallet_id"))
        kept = self.stats.balances.get(wallet)
        version = payload.get("version")
        if kept is not None and isinstance(version, int) and version <= kept.get("version", -1):
            self.stats.stale += 1
            return
        self.stats.balances[wallet] = payload

    def log(self) -> dict[str, Any]:
        """What the client has received so far, oldest first, with its counters."""
        with self._lock:
            return {
                "mode": self.mode.value,
                "delay": self.delay,
                "stats": asdict(self.stats),
                "webhooks": sorted(self._webhooks.values(), key=lambda w: w["received_at"]),
            }

    def reset(self) -> None:
        with self._lock:
            self._webhooks.clear()
            self.stats = Stats()
