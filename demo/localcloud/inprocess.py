"""The local cloud's own AWS calls, without a socket: botocore hands each request to moto in this process.

On AWS, a function's SDK calls travel over HTTPS to the service. In the local cloud the services
run in the same process as the functions, and a round trip through a socket, an HTTP server
thread and werkzeug's request parsing cost about 2 ms of CPU per call (measured by
``benchmarks/moto_fixes.py``), more than moto's own work. So the local cloud's boto3 session carries a
botocore ``before-send`` handler: each request is still built, validated, serialized and signed
by botocore, and each answer still parsed by it, exactly as over HTTP; only the bytes never
leave the process. moto's own in-process mode (``mock_aws``) works the same way.

What stays the same as on the HTTP endpoint: the faults of ``bankdemo chaos`` (decided by the
same :class:`~demo.localcloud.chaos.Faults`, with the same error answers), the
one-request-at-a-time lock, and the count of calls. The HTTP endpoint stays up for everything
outside this process (the CLI, the AWS CLI) and for Step Functions' service tasks.
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

from botocore.auth import AUTH_TYPE_MAPS, BaseSigner
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError, NoCredentialsError
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
_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")


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


class InProcessTransport:
    """Answers the requests of a boto3 session for ``endpoint`` from moto's backends in this process."""

    def __init__(self, endpoint: str, lock: threading.Lock, faults: Faults, calls: AwsCalls) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._lock = lock
        self._faults = faults
        self._calls = calls
        self._routes: dict[str, list[tuple[re.Pattern[str], Route]]] = {}

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
        with self._lock:
            routes = self._routes_of(request)
        if routes is None:
            return None  # a service we cannot tell from the request: the HTTP endpoint answers it
        amz_target = _header(request, "X-Amz-Target")
        target = target_of_amz_target(amz_target)
        if target is not None:
            delay, failure = self._faults.decide(target)
            if delay:
                time.sleep(delay)  # outside the lock: a slow service slows its callers only
            if failure is not None:
                return _response(url, *error_response(target, failure))
        self._calls.add(amz_target)
        with self._lock:
            return _response(url, *self._dispatch(request, routes))

    def _routes_of(self, request: AWSPreparedRequest) -> list[tuple[re.Pattern[str], Route]] | None:
        """moto's URL routes of the service that signed the request (as moto's server finds it)."""
        found = _CREDENTIAL.search(_header(request, "Authorization"))
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

    def _dispatch(
        self, request: AWSPreparedRequest, routes: list[tuple[re.Pattern[str], Route]]
    ) -> tuple[int, dict[str, str], bytes]:
        normalized = _moto_request(request)
        path = normalized.raw_path
        route = next((r for pattern, r in routes if pattern.match(path)), None)
        if route is None:
            return 404, {}, b"no route in moto for this request"
        try:
            status, headers, body = route(normalized, normalized.raw_url, normalized.headers)
        except HTTPException as error:  # moto's service errors (JsonRESTError...) are werkzeug's
            status, headers, body = error.code or 500, dict(error.get_headers()), error.get_body()
        except ClientError as error:  # as moto's server answers one (convert_to_flask_response)
            status, headers, body = 400, {}, error.response["Error"]["Message"]
        return status, dict(headers), body.encode("utf-8") if isinstance(body, str) else body


class ServiceFault(Exception):
    """A fault of ``bankdemo chaos`` met by the local Lambda service itself (a poller's receive)."""


class InProcessQueue:
    """One SQS queue as Lambda's event source mapping reads it: inside the cloud, not through the API.

    On AWS the mapping's pollers are part of the Lambda service, not of the function: they
    receive and delete with SQS's own semantics (visibility timeout, receive count, redrive to
    the dead-letter queue), which here are moto's SQS backend's, called directly (under the
    same lock, with the same faults, counted as the same operations) rather than through a boto3
    client, a request and a response.
    """

    SYSTEM_ATTRIBUTES = (
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    )

    def __init__(self, name: str, region: str, lock: threading.Lock, faults: Faults, calls: AwsCalls) -> None:
        self.name = name
        self.region = region
        self._lock = lock
        self._faults = faults
        self._calls = calls

    def _backend(self) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        return sqs_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _enter(self, operation: str) -> None:
        delay, failure = self._faults.decide("sqs")
        if delay:
            time.sleep(delay)
        if failure is not None:
            raise ServiceFault(f"SQS {operation} failed with HTTP {failure} (bankdemo chaos)")
        self._calls.add(f"AmazonSQS.{operation}")

    def receive(self, max_messages: int) -> list[dict[str, Any]]:
        """Up to ``max_messages`` messages, as ReceiveMessage returns them (all attributes)."""
        self._enter("ReceiveMessage")
        with self._lock:
            backend = self._backend()
            visibility = int(backend.get_queue(self.name).visibility_timeout)  # the queue's, as SQS does
            messages = backend.receive_message(self.name, max_messages, 0, visibility, ["All"])
            return [self._message(m) for m in messages]

    def delete(self, receipt_handles: list[str]) -> None:
        """Delete these messages (DeleteMessageBatch); a handle that is no longer valid is skipped."""
        self._enter("DeleteMessageBatch")
        with self._lock:
            self._backend().delete_message_batch(
                self.name, [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)]
            )

    def _message(self, message: Any) -> dict[str, Any]:
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
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    backends = moto.backends.get_backend(module)  # type: ignore[call-overload]
    if not isinstance(backends, BackendDict):
        return backends["global"]
    regions = backends[DEFAULT_ACCOUNT_ID]
    return regions["us-east-1"] if "us-east-1" in regions else regions["aws"]


def _moto_request(request: AWSPreparedRequest) -> MotoRequest:
    """The request as moto's server would hand it over: a WSGI environ built directly (werkzeug's
    ``EnvironBuilder``, which moto's in-process mode uses, costs a fifth of a call)."""
    url = urlsplit(request.url or "")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    raw_uri = f"{url.path or '/'}?{url.query}" if url.query else url.path or "/"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "RAW_URI": raw_uri,
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": url.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        PRESERVED_HEADER_NAMES_ENVIRON_KEY: {},
    }
    for name, value in request.headers.items():
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        key = environ_key_for_header(name)
        if key == "CONTENT_LENGTH" or name.lower() == "transfer-encoding":
            continue
        if should_preserve_original_header_name(name):
            environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY][key] = name
        environ[key] = text
    return MotoRequest(environ)


def _header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _response(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    return AWSResponse(url, status, headers, _Body(body))  # type: ignore[arg-type]
