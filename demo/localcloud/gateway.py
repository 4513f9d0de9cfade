"""The bank's HTTP API on the local cloud: Chalice's local server, playing API Gateway's part,
with what API Gateway does that Chalice's server does not:

- a chunked request body is read (Chalice reads ``Content-Length`` only: it ignored the body, and
  read its bytes as the next request on the connection);
- a method the server has no ``do_<METHOD>`` for is routed like any other (http.server answered
  with an HTML 501 page);
- the caller of a SigV4-signed request is named in the request's context (``identity.userArn``),
  as API Gateway's IAM authorizer names the principal it verified (the signature itself is not
  checked locally, as moto does not check it);
- a burst of concurrent senders is held (a listen backlog of ``settings.LISTEN_BACKLOG``, not 5);
- no access log on stdout, and no Nagle delay on keep-alive answers.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

if TYPE_CHECKING:
    from chalice.local import LambdaEventConverter

from demo import settings


class RequestHandler(ChaliceRequestHandler):
    """Chalice's local handler, quiet, with what API Gateway does that it does not (see above)."""

    # Chalice writes headers and body in separate sends: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add 40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        # Chalice's local server reads Content-Length only: a chunked body (which API Gateway and
        # the monolith accept) was ignored, and its bytes read as the next request on the connection.
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return super()._parse_payload()
        body = _read_chunked(self.rfile)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        return headers | {"Content-Length": str(len(body))}, body or None

    def _handle(self) -> None:
        if not isinstance(self.local_gateway.event_converter, _WithCaller):
            self.local_gateway.event_converter = _WithCaller(self.local_gateway.event_converter)  # type: ignore[assignment]  # a stand-in: the converter's interface, delegated
        try:
            self._generic_handle()
        except _MalformedBody as error:  # its bytes cannot be told from the next request's: close
            self.close_connection = True
            body = {"error": {"code": error.code, "message": str(error)}}
            self._send_http_response(error.status, {"Connection": "close"}, json.dumps(body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def __getattr__(self, name: str) -> Any:
        # http.server answers a method it has no do_<METHOD> for with its own 501 page (HTML): let
        # the gateway route it instead, as API Gateway does (a known path: 405, in our JSON shape).
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._handle
        raise AttributeError(name)


LOCAL_ACCOUNT = "123456789012"  # moto's account
_CREDENTIAL = re.compile(r"AWS4-HMAC-SHA256 Credential=([A-Za-z0-9_.@-]{1,128})/")


def caller_arn(headers: dict[str, str]) -> str | None:
    """The IAM user a SigV4 ``Authorization`` header names (its access key id, locally the user)."""
    found = _CREDENTIAL.match(headers.get("authorization", ""))
    return None if found is None else f"arn:aws:iam::{LOCAL_ACCOUNT}:user/{found.group(1)}"


class _WithCaller:
    """Chalice's event converter, which puts the caller's ARN in the event, as API Gateway does."""

    def __init__(self, inner: LambdaEventConverter) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_lambda_event(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> dict[str, Any]:
        event = self._inner.create_lambda_event(method, path, headers, body)
        arn = caller_arn({k.lower(): v for k, v in headers.items()})
        if arn is not None:
            event["requestContext"]["identity"].update(userArn=arn, caller=arn.rsplit("/", 1)[1])
        return event


CHUNKED_LIMIT = 1024 * 1024  # as the monolith's werkzeug reads at most; the app refuses over 64 KiB


class _MalformedBody(ValueError):
    def __init__(self, message: str, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _read_chunked(stream: Any, limit: int = CHUNKED_LIMIT) -> bytes:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112, 7.1), at most ``limit`` bytes, read whole
    (the stream is left at the next request); :class:`_MalformedBody` if it is malformed or too long."""
    body = bytearray()
    while True:
        size_line = stream.readline(1024).split(b";", 1)[0].strip()
        if not size_line or not all(c in b"0123456789abcdefABCDEF" for c in size_line):
            raise _MalformedBody(f"not a chunk size: {size_line[:20]!r}")
        size = int(size_line, 16)
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):  # trailer fields, ignored
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise _MalformedBody(f"chunked body over {limit} bytes", 413, "payload_too_large")
        chunk = stream.read(size)
        if len(chunk) != size or stream.readline(3) not in (b"\r\n", b"\n"):
            raise _MalformedBody("chunked body cut short, or a chunk without its CRLF")
        body += chunk


class ApiServer(ThreadedHTTPServer):
    request_queue_size = settings.LISTEN_BACKLOG  # a burst of concurrent senders, none reset (not 5)
