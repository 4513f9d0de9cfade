"""moto's server, in this process, bound before it is started so that a busy port fails fast."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import Counter
from typing import Any

# jsonschema (pulled in by moto's API Gateway models) compiles an optional RFC 3987 grammar
# when it is imported, which costs about 2 s of every local cloud start. moto never validates
# that format, so we tell the import system the optional module is absent.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None in sys.modules: "no such module", as the import system reads it

from moto.core.config import default_user_config  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server  # noqa: E402

from demo.localcloud import moto_patches  # noqa: E402
from demo.localcloud.chaos import TARGET_PREFIXES, ChaosMiddleware, Faults  # noqa: E402
from demo.settings import ensure_free  # noqa: E402


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class AwsCalls:
    """The requests the emulated services answered, by ``service.Operation`` (thread-safe).

    Both ways in count here: HTTP (the CLI, the AWS CLI, Step Functions' service tasks) and the
    local cloud's functions over the emulator's wire (:mod:`demo.localcloud.dispatch`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, amz_target: str | None) -> None:
        """Count one request, named by its ``X-Amz-Target`` header (``AmazonSQS.SendMessage``)."""
        service, _, operation = (amz_target or "").partition(".")
        name = f"{TARGET_PREFIXES.get(service, 'other')}.{operation or '-'}"
        with self._lock:
            self._counts[name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class _OneRequestAtATime:
    """Serve moto's requests one at a time.

    moto's backends are not thread-safe: two concurrent TransactWriteItems on one table fail
    ("dictionary changed size during iteration") or interleave, where DynamoDB would serialize
    them. One lock around each request gives the local cloud DynamoDB's atomicity. Nothing
    waits inside a request for long, because the pollers short-poll (WaitTimeSeconds=0). The
    wire (:mod:`demo.localcloud.dispatch`) takes the same lock.
    """

    def __init__(self, app: Any, lock: threading.Lock, calls: AwsCalls) -> None:
        self._app = app
        self._lock = lock
        self._calls = calls

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self._calls.add(environ.get("HTTP_X_AMZ_TARGET"))
        with self._lock:
            response = self._app(environ, start_response)
            try:
                return list(response)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()


class MotoServer:
    """An in-process moto server on ``host:port`` (port 0 picks a free one), with faults on cue."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Faults on cue (`bankdemo chaos`) sit in front of the lock: a slow service delays its
        # callers without holding up everyone else's requests.
        self.faults = Faults()
        self.lock = threading.Lock()  # one request at a time, whichever way it comes in
        self.calls = AwsCalls()
        moto_patches.apply()  # cheap transactions, fast deep queues, SQS telling the pollers
        app = ChaosMiddleware(
            _OneRequestAtATime(DomainDispatcherApplication(create_backend_app), self.lock, self.calls),
            self.faults,
        )
        ensure_free(host, port)  # else werkzeug prints its own message and exits the process
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        bound, self.port = self._server.server_address[:2]
        assert isinstance(bound, str)  # an IP socket's host (typeshed's address type allows bytes)
        self.host = bound
        # Step Functions: run the executions (moto only records them by default), and let their
        # service tasks call this server (moto's interpreter calls localhost:$MOTO_PORT).
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        # One value per process: a second server (a test's) takes it over until it stops.
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        if os.environ.get("MOTO_PORT") == str(self.port):  # hand Step Functions back to the server before
            if self._previous_moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._previous_moto_port


def messages_held(lock: threading.Lock, region: str, queue_names: set[str]) -> dict[str, int]:
    """How many messages each of these queues holds (visible, in flight or delayed), read from
    moto's SQS in this process: what "drained" is decided on, without a request per queue."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    with lock:
        queues = sqs_backends[DEFAULT_ACCOUNT_ID][region].queues
        return {name: len(queues[name]._messages) for name in queue_names if name in queues}


def preload_cloudformation() -> None:
    """Import moto's CloudFormation (and with it every service model) in this thread.

    The first CloudFormation request would otherwise import them inside the server thread, which
    takes about twice as long while the caller waits.
    """
    import moto.cloudformation.models  # noqa: F401


def hand_state_machines_to_executor() -> list[str]:
    """Make the state machines moto's CloudFormation created executable; returns their ARNs.

    With execution enabled, moto's Step Functions API answers from its interpreter's backend,
    but its CloudFormation creates state machines in the plain backend, where that API does not
    look. Creating each one again in the interpreter's backend (same name, same ARN) also has
    the interpreter parse its definition, so an invalid one fails the start of the local cloud.
    """
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    arns = []
    for account, regions in stepfunctions_backends.items():
        for region, backend in regions.items():
            executor = stepfunctions_parser_backends[account][region]
            known = {sm.arn for sm in executor.state_machines}
            for sm in backend.state_machines:
                if sm.arn not in known:
                    executor.create_state_machine(sm.name, sm.definition, sm.roleArn)
                arns.append(sm.arn)
    return arns
