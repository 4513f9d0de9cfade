"""The functions' side of the local cloud: the emulator process, and the wire their AWS calls take to it.

The local cloud's functions (the Chalice handlers, the API, the event source mappings' pollers)
run in this process; the emulated AWS services run in :mod:`demo.localcloud.emulator`, a process
of its own, so that the two share the work of a notification over two cores. The local cloud's
boto3 session carries a botocore ``before-send`` handler (:class:`WireTransport`): each request
is built, validated and serialized by botocore, and each answer parsed by it, exactly as over
HTTP; only the bytes travel on a local socket instead of through an HTTP server, to be handed to
moto's request handlers (:mod:`demo.localcloud.dispatch`). The requests carry SigV4's credential
scope without computing its signature (:class:`LocalSigV4Auth`): moto checks none. Everyone else
(the CLI, the AWS CLI) uses the emulator's HTTP endpoint, signs as usual, and meets the same
services, faults and counts.

Nothing here imports moto: it loads in the emulator process only, while this one starts.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from botocore.auth import AUTH_TYPE_MAPS, BaseSigner
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from demo.localcloud.chaos import Fault, parse_fault
from demo.localcloud.wire import recv_frame, send_frame


class EmulatorGone(ConnectionError):
    """The emulator process does not answer any more."""


class EmulatorFailed(RuntimeError):
    """The emulator process answered a call with an error of its own."""


class Emulator:
    """The emulator process: started, connected to, and stopped from this process."""

    def __init__(self, host: str, port: int, region: str, on_message: Callable[[str, float], None]) -> None:
        self._folder = tempfile.mkdtemp(prefix="bank-localcloud-")  # 0700: this user's only
        self.socket_path = str(Path(self._folder) / "wire.sock")
        self._on_message = on_message
        self._process = subprocess.Popen(  # noqa: S603 - this package's own module, by name
            [
                sys.executable,
                "-m",
                "demo.localcloud.emulator",
                "--host",
                host,
                "--port",
                str(port),
                "--region",
                region,
                "--socket",
                self.socket_path,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._idle: queue.LifoQueue[socket.socket] = queue.LifoQueue()
        ready = self._read_line()
        if ready is None or "port" not in ready:
            self.stop()
            if ready and ready.get("error") == "port-in-use":
                raise OSError(98, ready["message"])
            raise EmulatorFailed(f"the emulator did not start: {ready}")
        self.port: int = ready["port"]
        self.pid = self._process.pid
        self._reader = threading.Thread(target=self._read_events, name="emulator-events", daemon=True)
        self._reader.start()

    def _read_line(self) -> dict[str, Any] | None:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        return json.loads(line) if line else None

    def _read_events(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:  # <queue>\t<seconds>: a message may be receivable then
            name, _, after = line.rstrip("\n").partition("\t")
            self._on_message(name, float(after))

    def call(self, operation: str, *args: Any) -> Any:
        """One call on the wire: its answer, or the error it met, raised here."""
        try:
            connection = self._idle.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            send_frame(connection, (operation, *args))
            answer = recv_frame(connection)
        except (OSError, EOFError) as error:
            connection.close()
            raise EmulatorGone(f"the local cloud's emulator does not answer ({error})") from None
        self._idle.put(connection)
        if answer[0] == "error":
            _, kind, message = answer
            raise EmulatorFailed(f"{kind}: {message}")
        return answer[1]

    def _connect(self) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.socket_path)
        except OSError as error:
            connection.close()
            raise EmulatorGone(f"the local cloud's emulator does not answer ({error})") from None
        return connection

    def stop(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()  # the emulator stops when its stdin closes
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        for leftover in (self.socket_path,):
            if os.path.exists(leftover):
                os.unlink(leftover)
        os.rmdir(self._folder)


class WireTransport:
    """A botocore ``before-send`` handler: requests for ``endpoint`` go to the emulator on the wire."""

    def __init__(self, endpoint: str, emulator: Emulator) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._emulator = emulator

    def attach(self, session: Any) -> None:
        """Route the calls of every client ``session`` creates from now on (a boto3 or botocore session)."""
        session.events.register("choose-signer", _choose_local_signer)
        session.events.register("before-send", self)

    def detach(self, session: Any) -> None:
        session.events.unregister("before-send", self)
        session.events.unregister("choose-signer", _choose_local_signer)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        url = request.url or ""
        if not (url == self.endpoint or url.startswith(self.endpoint + "/")):
            return None  # another endpoint: botocore sends it over the network as usual
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):
            body = body.read()  # type: ignore[union-attr]  # the stubs allow a bytearray body; the callers send bytes, str or a file
        headers = {str(k): _header_text(v) for k, v in request.headers.items()}
        try:
            answer = self._emulator.call("send", request.method, url, headers, body)
        except EmulatorGone:
            raise EndpointConnectionError(endpoint_url=url) from None
        if answer is None:
            return None  # no service the emulator can tell: its HTTP endpoint answers
        status, response_headers, response_body = answer
        return AWSResponse(url, status, response_headers, _Body(response_body))


def _header_text(value: str | bytes) -> str:
    # botocore's stubs say str; a bytes value (a handler may set one) is decoded.
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class WireQueue:
    """One SQS queue as Lambda's event source mapping reads it: inside the cloud, not through the API
    (a :class:`demo.localcloud.pollers.Queue`).

    On AWS the mapping's pollers are part of the Lambda service, not of the function: they
    receive and delete with SQS's own semantics (visibility timeout, receive count, redrive to
    the dead-letter queue), which here are moto's SQS backend's, called in the emulator (under
    its lock, with its faults, counted as the same operations).
    """

    def __init__(self, name: str, emulator: Emulator) -> None:
        self.name = name
        self._emulator = emulator

    def receive(self, max_messages: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._emulator.call("receive", self.name, max_messages)
        return found

    def delete(self, receipt_handles: list[str]) -> None:
        self._emulator.call("delete", self.name, receipt_handles)


class WireFaults:
    """The faults of ``bankdemo chaos`` in the emulator, as :class:`demo.localcloud.chaos.Faults` reads."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def set(self, target: str, mode: str, value: float | None = None) -> Fault:
        target, fault = parse_fault(target, mode, value)  # refused here, as the emulator would
        mode, value = self._emulator.call("faults.set", target, fault.mode, fault.value or None)
        return Fault(mode, value)

    def get(self, target: str) -> Fault:
        mode, value = self._emulator.call("faults.get", target)
        return Fault(mode, value)

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self._emulator.call("faults.state")
        return found

    def reset(self) -> None:
        self._emulator.call("faults.reset")


class LocalSigV4Auth(BaseSigner):
    """SigV4's ``Authorization`` header, its signature not computed: what moto reads of a request.

    moto checks no signature; it reads the credential scope (access key, region, service) to know
    the account, the region and the service a request is for. The local cloud's own clients send
    that scope as SigV4 would, and spare the canonical request and the HMACs (a fifth of a call's
    client-side CPU). Every other caller (the CLI, the AWS CLI) signs as usual.
    """

    REQUIRES_REGION = True

    def __init__(self, credentials: Any, service_name: str, region_name: str) -> None:
        self.credentials = credentials
        self._service_name = service_name
        self._region_name = region_name

    def add_auth(self, request: Any) -> None:
        if self.credentials is None:
            raise NoCredentialsError()
        now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        scope = (
            f"{self.credentials.access_key}/{now[:8]}/{self._region_name}/{self._service_name}/aws4_request"
        )
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in request.headers:
                del request.headers[name]
        request.headers["X-Amz-Date"] = now
        if self.credentials.token:
            request.headers["X-Amz-Security-Token"] = self.credentials.token
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, Signature=local"
        )


LOCAL_SIGNER = "bankdemo-local-v4"
AUTH_TYPE_MAPS[LOCAL_SIGNER] = LocalSigV4Auth


def _choose_local_signer(signature_version: str = "", **_: Any) -> str | None:
    """The local cloud's clients: SigV4's header without its signature (other schemes unchanged)."""
    return LOCAL_SIGNER if signature_version in ("v4", "s3v4") else None


class _Body(BytesIO):
    """A response body botocore can read whole or stream."""

    def stream(self, **_: Any) -> Any:
        yield self.read()
