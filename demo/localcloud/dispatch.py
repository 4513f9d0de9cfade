"""Requests to moto's backends straight from their bytes: what the emulator process answers its functions with.

The local cloud runs in two processes (see :mod:`demo.localcloud.emulator`): the emulated AWS
services (moto) in one, the bank's functions in the other. A function's boto3 call is built,
validated, serialized and signed by botocore in the functions' process, and its answer parsed
there, exactly as over HTTP; the request's bytes cross to this process over a local socket, and
this module hands them to moto's own request handlers, as moto's server does once werkzeug has
parsed the HTTP around them (and as moto's ``mock_aws`` does in a test). The Lambda service's
own reads of SQS (the event source mappings) go through here too, as SQS operations on moto's
SQS backend.

What is the same as on the HTTP endpoint: the faults of ``bankdemo chaos`` (the same
:class:`~demo.localcloud.chaos.Faults`, with the same error answers), the one-request-at-a-time
lock, and the count of calls.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from botocore.exceptions import ClientError
from moto import backend_index
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.core.request import Request as MotoRequest
from moto.moto_server.werkzeug_app import SIGNING_ALIASES
from werkzeug.exceptions import HTTPException

from demo.localcloud.chaos import Faults, error_response, target_of_amz_target
from demo.localcloud.moto_server import AwsCalls

Route = Callable[[Any, str, Any], Any]
Answer = tuple[int, dict[str, str], bytes]
_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")


class ServiceFault(Exception):
    """A fault of ``bankdemo chaos`` met by the Lambda service itself (an event source mapping's poll)."""


class MotoDispatcher:
    """Answers requests from moto's backends, under the lock and the faults the HTTP endpoint uses."""

    def __init__(self, lock: threading.Lock, faults: Faults, calls: AwsCalls, region: str) -> None:
        self._lock = lock
        self._faults = faults
        self._calls = calls
        self._region = region
        self._routes: dict[str, list[tuple[re.Pattern[str], Route]]] = {}

    # -- an AWS API request ----------------------------------------------------------------------

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """The answer to one request, as moto's server gives it; None if no service of moto's
        can be told from it (the HTTP endpoint is the one to ask)."""
        with self._lock:
            routes = self._routes_of(headers.get("Authorization", ""))
        if routes is None:
            return None
        amz_target = headers.get("X-Amz-Target", "")
        target = target_of_amz_target(amz_target)
        if target is not None:
            delay, failure = self._faults.decide(target)
            if delay:
                time.sleep(delay)  # outside the lock: a slow service slows its callers only
            if failure is not None:
                return error_response(target, failure)
        self._calls.add(amz_target)
        request = _moto_request(method, url, headers, body)
        with self._lock:
            return self._dispatch(request, routes)

    def _routes_of(self, authorization: str) -> list[tuple[re.Pattern[str], Route]] | None:
        """moto's URL routes of the service that signed the request (as moto's server finds it)."""
        found = _CREDENTIAL.search(authorization)
        if found is None:
            return None
        signing_name = found["service"].lower()
        if signing_name not in self._routes:
            service = SIGNING_ALIASES.get(signing_name, signing_name)
            host = f"https://{service}.{found['region']}.amazonaws.com"
            module = next(
                (name for name, pattern in backend_index.backend_url_patterns if pattern.match(host)), None
            )
            if module is None:
                return None
            self._routes[signing_name] = [
                (re.compile(path), route) for path, route in _backend(module).url_paths.items()
            ]
        return self._routes[signing_name]

    def _dispatch(self, request: MotoRequest, routes: list[tuple[re.Pattern[str], Route]]) -> Answer:
        path = request.raw_path
        route = next((r for pattern, r in routes if pattern.match(path)), None)
        if route is None:
            return 404, {}, b"no route in moto for this request"
        try:
            status, headers, body = route(request, request.raw_url, request.headers)
        except HTTPException as error:  # moto's service errors (JsonRESTError...) are werkzeug's
            status, headers, body = error.code or 500, dict(error.get_headers()), error.get_body()
        except ClientError as error:  # as moto's server answers one (convert_to_flask_response)
            status, headers, body = 400, {}, error.response["Error"]["Message"]
        except Exception as error:  # a bug or a gap in moto: its server would answer 500
            status, headers, body = 500, {}, f"{type(error).__name__}: {error}"
        return (
            status,
            {str(k): str(v) for k, v in dict(headers).items()},
            body.encode("utf-8") if isinstance(body, str) else bytes(body),
        )

    # -- the Lambda service's event source mappings: SQS's own reads ------------------------------

    def _enter(self, operation: str) -> None:
        delay, failure = self._faults.decide("sqs")
        if delay:
            time.sleep(delay)
        if failure is not None:
            raise ServiceFault(f"SQS {operation} failed with HTTP {failure} (bankdemo chaos)")
        self._calls.add(f"AmazonSQS.{operation}")

    def _sqs(self) -> Any:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        return sqs_backends[DEFAULT_ACCOUNT_ID][self._region]

    def receive(self, queue: str, max_messages: int) -> list[dict[str, Any]]:
        """Up to ``max_messages`` messages of ``queue``, as ReceiveMessage returns them (all attributes),
        hidden for the queue's visibility timeout."""
        self._enter("ReceiveMessage")
        with self._lock:
            backend = self._sqs()
            visibility = int(backend.get_queue(queue).visibility_timeout)
            return [_message(m) for m in backend.receive_message(queue, max_messages, 0, visibility, ["All"])]

    def delete(self, queue: str, receipt_handles: list[str]) -> None:
        """Delete these messages (DeleteMessageBatch); a handle that is no longer valid is skipped."""
        self._enter("DeleteMessageBatch")
        with self._lock:
            self._sqs().delete_message_batch(
                queue, [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)]
            )

    def held(self, queues: list[str]) -> dict[str, int]:
        """How many messages each queue holds (visible, in flight or delayed): what drained means."""
        with self._lock:
            found = self._sqs().queues
            return {name: len(found[name]._messages) for name in queues if name in found}


def _message(message: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "MessageId": message.id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.body_md5,
        "Body": message.body,
        "Attributes": {
            "SenderId": message.sender_id,
            "SentTimestamp": str(message.sent_timestamp),
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        },
    }
    if message.message_attributes:
        found["MessageAttributes"] = message.message_attributes
    return found


def _backend(module: str) -> Any:
    """One backend of a moto service, to read its URL routes from (as moto's server does)."""
    import moto.backends
    from moto.core.base_backend import BackendDict
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backends = moto.backends.get_backend(module)  # type: ignore[call-overload]  # a service named at run time; moto's overloads take literal names
    if not isinstance(backends, BackendDict):
        return backends["global"]
    regions = backends[DEFAULT_ACCOUNT_ID]
    return regions["us-east-1"] if "us-east-1" in regions else regions["aws"]


class _WireRequest(MotoRequest):
    """moto's request, its URL known from the start (werkzeug would rebuild it from the environ at
    each read), and answered as moto's server answers: the server, not moto, dates the answer."""

    from_wsgi_server = True

    @property
    def raw_url(self) -> str:
        found: str = self.environ["bankdemo.url"]
        return found


def _moto_request(method: str, url: str, headers: dict[str, str], body: bytes) -> MotoRequest:
    """The request as moto's server would hand it over: a WSGI environ built directly (werkzeug's
    ``EnvironBuilder``, which moto's in-process mode uses, costs a fifth of a call)."""
    parts = urlsplit(url)
    raw_uri = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "RAW_URI": raw_uri,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        PRESERVED_HEADER_NAMES_ENVIRON_KEY: {},
        "bankdemo.url": url,
    }
    for name, value in headers.items():
        key = environ_key_for_header(name)
        if key == "CONTENT_LENGTH" or name.lower() == "transfer-encoding":
            continue
        if should_preserve_original_header_name(name):
            environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY][key] = name
        environ[key] = value
    request = _WireRequest(environ)
    if request.mimetype not in _FORM_TYPES:
        # What werkzeug's form parsing leaves for a body that is not a form (every JSON-protocol
        # request: DynamoDB, SQS, EventBridge, KMS...): the stream, no form, no files, and the body
        # as read from the stream; set here, from the bytes at hand, instead of parsed out again.
        found = request.__dict__
        found["stream"], found["form"], found["files"] = (
            BytesIO(body),
            request.parameter_storage_class(),
            request.parameter_storage_class(),
        )
        request._cached_data = body
    return request


_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
