"""The webhook dispatcher's adapters: a signed POST to the client, and SQS backoff by visibility."""

from __future__ import annotations

import json
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


def post_webhook(url: str, secret: str, webhook: dict[str, Any], timeout: float = 5.0) -> int | None:
    """POST ``webhook`` signed with ``secret``; the HTTP status, or None if nobody answered."""
    import urllib.error  # urllib.request imports http.client and ssl: 25 ms of every cold start
    import urllib.request

    body = json.dumps(webhook, separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - the client's URL is stage configuration
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, int(time.time()))},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return None


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
