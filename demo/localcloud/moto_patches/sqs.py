"""Fixes to moto's SQS: the clock read once per pass, the attributes once per request; and listeners.

moto computes a queue's attributes (three counts over every message, each message reading the
clock through datetime objects) for each message it receives, for each message sent, and three
times per attribute asked for. These versions compare each message's timestamps with one reading
of the clock, take the retention period straight from the queue, compute the attributes once per
request (SendMessage needs none of the counts), find a message to delete in one pass and draw a
receipt handle in one call.

And one addition: SQS tells the local cloud's pollers when a queue may have a message for them
(:func:`listen`). Installed by :func:`demo.localcloud.moto_patches.apply`.
"""

from __future__ import annotations

import json
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.sqs.exceptions import InvalidAttributeName, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend

from demo.localcloud.moto_patches.core import camelcase_to_underscores

_SEND_MESSAGE = SQSBackend.send_message


def _now_ms() -> float:
    """moto's unix_time_millis(), without building two datetimes per call."""
    return time.time() * 1000.0


def _visible(self: Message) -> bool:
    return _now_ms() > self.visible_at


def _delayed(self: Message) -> bool:
    return _now_ms() < self.delayed_until


def _messages(self: Queue) -> list[Message]:
    """The messages that can be received now (visible and not delayed), one clock reading."""
    now = _now_ms()
    return [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]


def _delayed_count(self: Queue) -> int:
    now = _now_ms()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _not_visible_count(self: Queue) -> int:
    now = _now_ms()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _visible_count(self: Queue) -> int:
    return len(self.messages)


def delete_message(self: Queue, receipt_handle: str) -> None:
    """One pass to find the message (moto: two, each building a list of handles per message)."""
    if receipt_handle in self.deleted_messages:
        return  # already deleted: deleting again is fine
    index = next(
        (
            i
            for i, m in enumerate(self._messages)
            if m.receipt_handle == receipt_handle or receipt_handle in m._old_receipt_handles
        ),
        None,
    )
    if index is None:
        raise ReceiptHandleIsInvalid()
    message = self._messages[index]
    self.pending_messages.discard(message)
    self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]  # moto types the handles Optional; this message was found by one
    self._messages = self._messages[:index] + self._messages[index + 1 :]


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]  # moto sets each queue attribute with setattr
    return retention_period + message.sent_timestamp / 1000 > time.time()  # type: ignore[operator]  # moto types it Optional (None until sent); a queued message was sent


def get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
    queue = self.get_queue(queue_name)
    if not attribute_names:
        return {}
    valid_names = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
    invalid_name = next((name for name in attribute_names if name not in valid_names), None)
    if invalid_name or invalid_name == "":
        raise InvalidAttributeName(invalid_name)
    attributes = queue.attributes  # moto: computed again for each name asked for, three times
    if "All" in attribute_names:
        return attributes
    return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}


_COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)
_sending = threading.local()


def queue_attributes(self: Queue) -> dict[str, Any]:
    """moto's ``Queue.attributes`` (the same code), without the three counts over every message
    while a message is being sent: SendMessage reads only ``ContentBasedDeduplication`` of them,
    and each count walks the whole queue (a third of each PutEvents of the bank's events)."""
    skip = _COUNTS if getattr(_sending, "now", False) else frozenset()
    result: dict[str, Any] = {}
    for attribute in self.BASE_ATTRIBUTES:
        if attribute not in skip:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.fifo_queue:
        for attribute in self.FIFO_ATTRIBUTES:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.kms_master_key_id:  # type: ignore[attr-defined]  # moto sets each queue attribute with setattr
        for attribute in self.KMS_ATTRIBUTES:
            result[attribute] = getattr(self, camelcase_to_underscores(attribute))
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)
    for key in result:
        if isinstance(result[key], bool):
            result[key] = str(result[key]).lower()
    return result


def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Message:
    """moto's ``SendMessage``, its queue's attributes read without the counts (see above)."""
    _sending.now = True
    try:
        return _SEND_MESSAGE(self, *args, **kwargs)
    finally:
        _sending.now = False


# -- SQS tells who listens when a message may be receivable ----------------------------------------

# (queue name, seconds from now) -> None; every moto server of the process shares the SQS classes
Listener = Callable[[str, float], None]
_listeners: list[Listener] = []
_add_message = Queue.add_message
_change_message_visibility = SQSBackend.change_message_visibility


def listen(listener: Listener) -> None:
    """Call ``listener(queue_name, seconds)`` when a message of that queue may be receivable in
    ``seconds`` (0: now)."""
    _listeners.append(listener)


def unlisten(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _tell(queue_name: str, seconds: float) -> None:
    for listener in list(_listeners):
        listener(queue_name, seconds)


def add_message(self: Queue, message: Message) -> None:
    _add_message(self, message)
    _tell(self.name, max(0.0, (message.delayed_until - _now_ms()) / 1000))


def change_message_visibility(
    self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int
) -> None:
    _change_message_visibility(self, queue_name, receipt_handle, visibility_timeout)
    _tell(queue_name, float(visibility_timeout))


def generate_receipt_handle() -> str:
    """moto's SQS receipt handle (185 lowercase letters from moto's seedable random), in one draw."""
    from moto.moto_api._internal import mock_random

    return "".join(mock_random.choices(string.ascii_lowercase, k=185))
