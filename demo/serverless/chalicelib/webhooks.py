"""The webhook dispatcher's adapters: a signed POST to the client, and SQS backoff by visibility."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from chalicelib.queues import QueueUrls
from demo.bank.signature import SIGNATURE_HEADER, sign


# --8<-- [start:retry_delay]
def retry_delay(receive_count: int, base: float, cap: float) -> int:
    """Seconds before the next attempt after ``receive_count`` failed ones: base, 2 base, 4 base... capped.

    SQS caps a message's visibility timeout at 12 hours.
    """
    return int(min(cap, base * 2 ** max(receive_count - 1, 0), 43_200))
    # --8<-- [end:retry_delay]


_connections: Any = None  # the client's connections, kept open between webhooks and invocations
_connections_lock = threading.Lock()


def _pool() -> Any:
    global _connections
    with _connections_lock:
        if _connections is None:
            import urllib3  # already imported by botocore: nothing more to load at cold start

            # Up to 10 connections: a batch's webhooks go out at once (app.deliver_webhooks).
            _connections = urllib3.PoolManager(maxsize=10, block=False, retries=False)
        return _connections


def post_webhook(url: str, secret: str, webhook: dict[str, Any], timeout: float = 5.0) -> int | None:
    """POST ``webhook`` signed with ``secret``; the HTTP status, or None if nobody answered.

    The connection stays open for the next webhook (keep-alive), as AWS advises a Lambda
    function to reuse its connections: no TCP handshake per webhook.
    """
    import urllib3

    body = json.dumps(webhook, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, int(time.time()))}
    try:
        response = _pool().request("POST", url, body=body, headers=headers, timeout=timeout, redirect=False)
    except (urllib3.exceptions.HTTPError, OSError):  # refused, reset, timed out: nobody answered
        return None
    return int(response.status)


class SqsBackoff:
    """Delays the next delivery of a failed record by changing its visibility (no sleeping)."""

    def __init__(self, client: Any, base: float, cap: float) -> None:
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
