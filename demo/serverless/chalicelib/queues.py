"""The SQS adapter of the notification queue."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from chalicelib.outages import is_outage
from demo.bank.errors import ServiceUnavailable
from demo.bank.notifications import Notification

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.type_defs import MessageAttributeValueTypeDef


class SqsNotificationQueue:
    """A :class:`demo.bank.ports.NotificationQueue` on an SQS queue, found by name on first use."""

    def __init__(self, client: SQSClient, queue_name: str) -> None:
        self._client = client
        self._queue_name = queue_name
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        with self._lock:
            if self._url is None:
                self._url = self._client.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
            return self._url

    def enqueue(self, notification: Notification, body: str) -> None:
        """Queue the notification; :class:`ServiceUnavailable` (503) if SQS cannot take it now."""
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "notification_id": {"DataType": "String", "StringValue": notification.notification_id},
            "webhook": {"DataType": "String", "StringValue": notification.webhook},
        }
        try:
            self._client.send_message(QueueUrl=self.url, MessageBody=body, MessageAttributes=attributes)
        except Exception as error:
            if is_outage(error):
                raise ServiceUnavailable("the notification queue is unavailable: retry later") from None
            raise
