"""The webhook dispatcher's adapters: a signed POST to the client, and SQS backoff by visibility."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from chalicelib.batch import RecordFailed
from chalicelib.outages import QueueUrls
from demo.bank.signature import SIGNATURE_HEADER, sign

if TYPE_CHECKING:  # http.client is imported on first use; the stubs are not in the Lambda package
    import http.client

    from types_boto3_sqs.client import SQSClient


# --8<-- [start:retry_delay]
def retry_delay(receive_count: int, base: float, cap: float) -> int:
    """Seconds before the next attempt after ``receive_count`` failed ones: base, 2 base, 4 base... capped.

    SQS caps a message's visibility timeout at 12 hours.
    """
    return int(min(cap, base * 2 ** max(receive_count - 1, 0), 43_200))
    # --8<-- [end:retry_delay]


class Connections:
    """Kept-alive HTTP connections to the client, reused between webhooks and between invocations.

    AWS advises a Lambda function to reuse its connections; here they are also what lets a batch's
    webhooks go out at once from one thread: each request is written on a connection of its own,
    then the answers are read, so the batch waits for its slowest answer, not for their sum.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(
        self, scheme: str, host: str, port: int, timeout: float, fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to ``scheme://host:port`` (an idle one unless ``fresh``), and whether it was used before."""
        import http.client  # imported by botocore already: nothing more to load at cold start

        if not fresh:
            with self._lock:
                idle = self._idle.get((scheme, host, port))
                connection = idle.pop() if idle else None
            if connection is not None:
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection, True
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return factory(host, port, timeout=timeout), False

    def give_back(self, scheme: str, host: str, port: int, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault((scheme, host, port), []).append(connection)


_connections = Connections()


def post_webhooks(
    url: str, secret: str, webhooks: list[dict[str, Any]], timeout: float = 5.0
) -> list[int | None]:
    """POST each webhook signed with ``secret``, all at once; each one's HTTP status, or None if
    nobody answered (refused, reset, timed out)."""
    parts = urllib.parse.urlsplit(url)
    scheme, host = parts.scheme or "http", parts.hostname or "localhost"
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    now = int(time.time())
    sent: list[Request | None] = []
    for webhook in webhooks:
        body = json.dumps(webhook, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, now)}
        sent.append(_send(scheme, host, port, path, body, headers, timeout))
    return [_answer(scheme, host, port, path, timeout, request) for request in sent]


# connection, reused, body, headers (a string: http.client is imported on first use)
Request = tuple["http.client.HTTPConnection", bool, bytes, dict[str, str]]


def _send(
    scheme: str,
    host: str,
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    fresh: bool = False,
) -> Request | None:
    """Write one request; the connection it went on, or None if nobody took it."""
    connection, reused = _connections.take(scheme, host, port, timeout, fresh=fresh)
    try:
        connection.request("POST", path, body=body, headers=headers)
    except OSError:
        connection.close()
        # a kept-alive connection the client has closed since: once more, on a new one
        return _send(scheme, host, port, path, body, headers, timeout, fresh=True) if reused else None
    return connection, reused, body, headers


def _answer(
    scheme: str, host: str, port: int, path: str, timeout: float, request: Request | None
) -> int | None:
    """Read one answer: its status (the connection is kept for the next webhook), or None."""
    import http.client

    if request is None:
        return None
    connection, reused, body, headers = request
    try:
        response = connection.getresponse()
        response.read()
    except TimeoutError:  # it reached the client, which did not answer in time
        connection.close()
        return None
    except (OSError, http.client.HTTPException):
        connection.close()
        if not reused:  # a new connection, and no answer: the client is down or too slow
            return None
        # a kept-alive connection the client had closed: the request never reached it, send it again
        again = _send(scheme, host, port, path, body, headers, timeout, fresh=True)
        return _answer(scheme, host, port, path, timeout, again)
    if response.will_close:
        connection.close()
    else:
        _connections.give_back(scheme, host, port, connection)
    return int(response.status)


class WebhookNotDelivered(RecordFailed):
    """The client did not take the webhook: the record is retried after its backoff."""


class Outbox:
    """The webhooks of one SQS batch: gathered record by record, then posted together."""

    def __init__(self, backoff: SqsBackoff) -> None:
        self._backoff = backoff
        self._pending: list[tuple[dict[str, Any], str, str, dict[str, Any]]] = []
        self.delivered = 0

    def add(self, record: dict[str, Any], url: str, secret: str, webhook: dict[str, Any]) -> None:
        self._pending.append((record, url, secret, webhook))

    def send(self) -> dict[str, BaseException]:
        """Post every webhook; the records whose webhook the client did not take, each delayed by its
        backoff (a failure to delay one, SQS being down, is that record's failure)."""
        pending, self._pending = self._pending, []
        failed: dict[str, BaseException] = {}
        targets = {(url, secret) for _, url, secret, _ in pending}
        for url, secret in targets:
            batch = [(record, webhook) for record, u, s, webhook in pending if (u, s) == (url, secret)]
            statuses = post_webhooks(url, secret, [webhook for _, webhook in batch])
            for (record, webhook), status in zip(batch, statuses, strict=True):
                if status is not None and 200 <= status < 300:
                    self.delivered += 1
                    continue
                try:
                    seconds = self._backoff.delay(record)
                except Exception as error:  # SQS down: this record's failure (an outage: requeued)
                    failed[record["messageId"]] = error
                    continue
                failed[record["messageId"]] = WebhookNotDelivered(
                    f"{webhook['webhook_id']}: client answered {status}; next try in {seconds} s"
                )
        return failed


class SqsBackoff:
    """Delays the next delivery of a failed record by changing its visibility (no sleeping)."""

    def __init__(self, client: SQSClient, base: float, cap: float) -> None:
        self._client = client
        self._urls = QueueUrls(client)
        self._base = base
        self._cap = cap

    def delay(self, record: dict[str, Any]) -> int:
        """Hide ``record`` (a Lambda SQS record) for its backoff; returns the seconds chosen."""
        count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        seconds = retry_delay(count, self._base, self._cap)
        self._client.change_message_visibility(
            QueueUrl=self._urls.url(record["eventSourceARN"]),
            ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=seconds,
        )
        return seconds
