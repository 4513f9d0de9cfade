"""Fixes to moto, for the local cloud only: the same answers, less work per request.

1. TransactWriteItems backs up the items it touches. moto 5.2 deep-copies every table a
   transaction names before it runs, so that it can roll back. The cost grows with the table: by
   the time the ledger holds the markers of a few thousand notifications, every TransactWriteItems
   takes a large fraction of a second, and the local cloud (one request at a time) slows to a
   crawl. DynamoDB's rollback only concerns the items of the transaction, so this version backs up
   exactly those (a deep copy of each, or "absent") and puts them back on failure.
2. SQS reads the clock once per pass, not once per message per attribute. moto computes a queue's
   attributes (three counts over every message, each message reading the clock through datetime
   objects) for each message it receives, for each message sent, and three times per attribute
   asked for: 0.55 s per ReceiveMessage on a queue 1,000 deep, 2.2 s at 5,000 (a storm's backlog).
   This version compares each message's timestamps with one reading of the clock, takes the
   retention period straight from the queue, and computes the attributes once per request
   (SendMessage needs none of the counts).
3. What moto works out again on every request, worked out once: the JSONPaths of an EventBridge
   target's input (and the default input built directly), a class's method names, the snake-case
   names of SQS attributes, parsed update and condition expressions, the response serializer's
   candidate names for a member; and request ids and receipt handles drawn in one call, backends
   looked up without comparing whole dicts; an EventBridge rule's pattern matched on the fields
   it names, not on a JSON copy of the whole event flattened (three times per event on the bank's
   bus), and moto's base event message copied without ``copy.deepcopy``'s generic machinery.

And one addition: SQS tells the local cloud's pollers when a queue may have a message for them
(:func:`listen`): a message added (sent, routed by an EventBridge rule, moved to a dead-letter
queue), visible once its delay is over; or a message whose visibility timeout was changed.

Where they are: :mod:`.dynamodb` (1, and the parsed expressions of 3), :mod:`.sqs` (2, the receipt
handles of 3, and the listeners), :mod:`.events` (EventBridge's part of 3) and :mod:`.core` (the
rest of 3: moto's request handling, shared by every service). This package installs them all
(:func:`apply`) and gives every public name of its modules.

tests/unit/test_moto_patches.py checks that moto answers the same requests the same way with and
without them; benchmarks/moto_fixes.py measures what each buys. Everything else is moto's code
(Apache License 2.0), unchanged.
"""

from __future__ import annotations

import moto.core.responses as moto_responses
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_table
import moto.dynamodb.responses as dynamodb_responses
import moto.events.models as events_models
import moto.events.utils as events_utils
import moto.sqs.models as sqs_models
from moto.core.base_backend import BackendDict
from moto.core.serialize import XFormedAttributePicker
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # the module opts out of type checking (a file-wide ignore): mypy sees none of its names
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser
from moto.sqs.models import Message, Queue, SQSBackend

from demo.localcloud.moto_patches.core import (
    camelcase_to_underscores,
    create_account_specific_backend,
    gen_amzn_requestid_long,
    method_names_from_class,
    pick_attribute,
    possible_keys,
)
from demo.localcloud.moto_patches.dynamodb import (
    ParsedCondition,
    get_filter_expression,
    make_update_expression,
    transact_write_items,
)
from demo.localcloud.moto_patches.events import (
    _MATCHES_EVENT as _MATCHES_EVENT,  # moto's own, which tests compare with
)
from demo.localcloud.moto_patches.events import (
    _BaseEventMessage,
    matches_event,
    parse_event_template,
)
from demo.localcloud.moto_patches.sqs import (
    Listener,
    _delayed,
    _delayed_count,
    _messages,
    _not_visible_count,
    _visible,
    _visible_count,
    add_message,
    change_message_visibility,
    delete_message,
    generate_receipt_handle,
    get_queue_attributes,
    is_message_valid_based_on_retention_period,
    listen,
    queue_attributes,
    send_message,
    unlisten,
)

__all__ = [
    "Listener",
    "ParsedCondition",
    "add_message",
    "apply",
    "camelcase_to_underscores",
    "change_message_visibility",
    "create_account_specific_backend",
    "delete_message",
    "gen_amzn_requestid_long",
    "generate_receipt_handle",
    "get_filter_expression",
    "get_queue_attributes",
    "is_message_valid_based_on_retention_period",
    "listen",
    "make_update_expression",
    "matches_event",
    "method_names_from_class",
    "parse_event_template",
    "pick_attribute",
    "possible_keys",
    "queue_attributes",
    "send_message",
    "transact_write_items",
    "unlisten",
]


def apply() -> None:
    """Install the fixes (idempotent)."""
    # Monkey patches: mypy flags each method replaced ([method-assign]), and each name rebound in
    # a moto module that imported it from another without re-exporting it ([attr-defined]).
    EventTemplateParser.parse = staticmethod(parse_event_template)  # type: ignore[method-assign]  # the patch
    EventPattern.matches_event = matches_event  # type: ignore[method-assign]  # the patch
    if not isinstance(events_utils._BASE_EVENT_MESSAGE, _BaseEventMessage):
        events_utils._BASE_EVENT_MESSAGE = _BaseEventMessage(events_utils._BASE_EVENT_MESSAGE)  # type: ignore[assignment]  # a dict of the same items (moto declares a TypedDict), copied faster
    events_models._BASE_EVENT_MESSAGE = events_utils._BASE_EVENT_MESSAGE  # type: ignore[attr-defined]  # the name events.models imported
    moto_responses.method_names_from_class = method_names_from_class  # type: ignore[attr-defined]  # the name responses imported
    moto_responses.gen_amzn_requestid_long = gen_amzn_requestid_long  # type: ignore[attr-defined]  # the name responses imported
    moto_responses.camelcase_to_underscores = camelcase_to_underscores  # type: ignore[attr-defined]  # the name responses imported
    sqs_models.camelcase_to_underscores = camelcase_to_underscores  # type: ignore[attr-defined]  # the name sqs.models imported
    sqs_models.generate_receipt_handle = generate_receipt_handle  # type: ignore[attr-defined]  # the name sqs.models imported
    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]  # the patch
    XFormedAttributePicker.get_possible_keys = possible_keys  # type: ignore[method-assign,assignment]  # the patch; a tuple (or moto's generator) where moto declares a generator: moto only iterates it
    XFormedAttributePicker.__call__ = pick_attribute  # type: ignore[method-assign,assignment]  # the patch, on XFormedAttributePicker only (moto declares AttributePicker's __call__)
    UpdateExpressionParser.make = classmethod(make_update_expression)
    dynamodb_models.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]  # the name dynamodb.models imported
    dynamodb_table.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]  # the name models.table imported
    dynamodb_responses.create_condition_expression_parser = ParsedCondition  # type: ignore[attr-defined,assignment]  # the name responses imported; ParsedCondition stands in for moto's parser (the same parse and found names)
    Queue.add_message = add_message  # type: ignore[method-assign]  # the patch
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]  # the patch
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]  # the patch
    Message.visible = property(_visible)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Message.delayed = property(_delayed)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Queue.messages = property(_messages)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Queue.approximate_number_of_messages = property(_visible_count)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Queue.approximate_number_of_messages_delayed = property(_delayed_count)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Queue.approximate_number_of_messages_not_visible = property(_not_visible_count)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    Queue.delete_message = delete_message  # type: ignore[method-assign]  # the patch
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]  # the patch
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]  # the patch
    Queue.attributes = property(queue_attributes)  # type: ignore[method-assign,assignment]  # the patch: a property where moto has one
    SQSBackend.send_message = send_message  # type: ignore[method-assign]  # the patch
