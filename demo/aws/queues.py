"""Operating the bank's queues: their depths, and moving dead letters back (redrive).

The same functions serve the local cloud and AWS. Redrive uses SQS's own message move task on
AWS; the local cloud does not implement it, so there we receive, send and delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_sqs.client import SQSClient

PREFIX = "bank-"


def queue_depths(sqs: SQSClient, prefix: str = PREFIX) -> dict[str, dict[str, int]]:
    """Visible, in-flight and delayed messages of every queue named ``prefix...``, by queue name."""
    depths = {}
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        depths[url.rsplit("/", 1)[-1]] = {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }
    return depths


def redrive(sqs: SQSClient, queue: str, *, use_move_task: bool) -> int:
    """Move the messages of ``queue``'s dead-letter queue back to ``queue``; returns how many.

    With ``use_move_task`` (AWS) SQS moves them itself and the count is the DLQ's depth when the
    task starts; otherwise each message is received, sent to ``queue`` and deleted from the DLQ.
    """
    source_url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    if use_move_task:
        attributes = sqs.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
        )
        source_arn = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sqs.start_message_move_task(SourceArn=attributes["Attributes"]["QueueArn"], DestinationArn=source_arn)
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            kept = message.get("MessageAttributes") or {}
            kwargs: dict[str, Any] = {"MessageAttributes": kept} if kept else {}
            sqs.send_message(QueueUrl=source_url, MessageBody=message["Body"], **kwargs)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
