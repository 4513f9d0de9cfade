"""When a service the bank depends on is down: recognise it, and put the work back for later.

An outage (DynamoDB answering 503, KMS throttling, a connection refused) is not the message's
fault. Failing the record would count one more receive against it, and after the queue's
``maxReceiveCount`` a perfectly good notification would sit in the dead-letter queue. Instead
the handler sends the record back to its own queue with a delay (exponential, capped; SQS takes
at most 900 s) and reports it done: the queue holds the backlog while the service is down, and
the worker drains it when the service is back. A record that fails for any other reason is a
poison candidate and takes the normal path (retry, then the dead-letter queue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.type_defs import MessageAttributeValueTypeDef

# Error codes AWS answers when it is the service, not the request, that failed (botocore
# retries these itself first; we see them when its retries are exhausted).
OUTAGE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "KMSInternalException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
    }
)
# botocore's exceptions for a service that did not answer (matched by name: importing
# botocore.exceptions here would cost every cold start)
UNREACHABLE = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
)
RETRIES_ATTRIBUTE = "outage_retries"
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds


# --8<-- [start:is_outage]
def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says that an AWS service failed or did not answer (not that we asked wrong)."""
    if any(cls.__name__ in UNREACHABLE for cls in type(error).__mro__):
        return True
    if getattr(error, "error_code", None) in OUTAGE_CODES:  # a PutEvents entry refused as retryable
        return True
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or response.get("Error", {}).get("Code") in OUTAGE_CODES


def outage_delay(retries: int, base: float, cap: float) -> int:
    """Seconds to wait before the next try, after ``retries`` tries met an outage."""
    return max(1, int(min(cap, base * 2**retries, MAX_DELAY_SECONDS)))
    # --8<-- [end:is_outage]


# --8<-- [start:requeue]
class OutageRequeue:
    """Sends a Lambda SQS record back to its queue, delayed, with its outage retries counted."""

    def __init__(self, client: SQSClient, base: float, cap: float, max_retries: int) -> None:
        self._client = client
        self._urls = QueueUrls(client)
        self._base = base
        self._cap = cap
        self._max_retries = max_retries

    def later(self, record: dict[str, Any]) -> int | None:
        """Requeue ``record``; the delay in seconds, or None once it has met too many outages."""
        attributes = record.get("messageAttributes") or {}
        retries = int((attributes.get(RETRIES_ATTRIBUTE) or {}).get("stringValue") or 0)
        if retries >= self._max_retries:
            return None
        seconds = outage_delay(retries, self._base, self._cap)
        kept: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": value["dataType"], "StringValue": value["stringValue"]}
            for name, value in attributes.items()
            if name != RETRIES_ATTRIBUTE and value.get("stringValue") is not None
        }
        self._client.send_message(
            QueueUrl=self._urls.url(record["eventSourceARN"]),
            MessageBody=record["body"],
            DelaySeconds=seconds,
            MessageAttributes={
                **kept,
                RETRIES_ATTRIBUTE: {"DataType": "Number", "StringValue": str(retries + 1)},
            },
        )
        return seconds
        # --8<-- [end:requeue]


class QueueUrls:
    """Queue URLs by queue ARN (a Lambda SQS record names its queue by ARN), looked up once each."""

    def __init__(self, client: SQSClient) -> None:
        self._client = client
        self._urls: dict[str, str] = {}

    def url(self, queue_arn: str) -> str:
        if queue_arn not in self._urls:
            name = queue_arn.rsplit(":", 1)[-1]
            self._urls[queue_arn] = self._client.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[queue_arn]
