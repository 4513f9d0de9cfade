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

tests/unit/test_moto_patches.py checks that moto answers the same requests the same way with and
without them; benchmarks/moto_fixes.py measures what each buys. Everything else is moto's code
(Apache License 2.0), unchanged.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import string
import threading
import time
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
import moto.core.utils as moto_core_utils
import moto.dynamodb.comparisons as dynamodb_comparisons
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.models.table as dynamodb_table
import moto.dynamodb.responses as dynamodb_responses
import moto.events.models as events_models
import moto.events.utils as events_utils
import moto.sqs.models as sqs_models
from moto.core.base_backend import BackendDict
from moto.core.serialize import AttributePickerContext, XFormedAttributePicker
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    InvalidAttributeTypeError,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser
from moto.sqs.exceptions import InvalidAttributeName, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend

_ORIGINAL = DynamoDBBackend.transact_write_items
_SEND_MESSAGE = SQSBackend.send_message
_METHOD_NAMES_FROM_CLASS = moto_responses.method_names_from_class
_CAMELCASE_TO_UNDERSCORES = moto_core_utils.camelcase_to_underscores
_MAKE_UPDATE_EXPRESSION = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
_GET_FILTER_EXPRESSION = dynamodb_comparisons.get_filter_expression
_POSSIBLE_KEYS = XFormedAttributePicker.get_possible_keys
_CREATE_ACCOUNT_SPECIFIC_BACKEND = BackendDict._create_account_specific_backend
_PICK_ATTRIBUTE = XFormedAttributePicker.__call__
_MATCHES_EVENT = EventPattern.matches_event


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any] | None:
    table = backend.tables.get(op.get("TableName", ""))
    if table is None:
        return None
    if op_type != "Put":
        return op.get("Key")
    attrs = op.get("Item", {})
    key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs.get(table.range_key_attr)
    return key


def _backup(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    saved = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        key = _key(backend, op_type, op)
        if not key or any(v is None for v in key.values()):
            continue
        try:
            current = backend.get_item(op["TableName"], key)
        except Exception:  # noqa: S112 - an invalid key: the transaction fails on it, nothing to restore
            continue
        saved.append((op["TableName"], key, None if current is None else current.to_json()["Attributes"]))
    return copy.deepcopy(saved)


def _restore(backend: DynamoDBBackend, saved: list[tuple[str, Any, Any]]) -> None:
    for table_name, key, attributes in reversed(saved):
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    if all(len(item) == 1 and next(iter(item)) in ("Put", "ConditionCheck") for item in transact_items):
        _transact_puts(self, transact_items)
        return
    saved = _backup(self, transact_items)  # moto: a deep copy of each whole table
    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            check_unicity(table_name, key)
            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)  # cached
                if not condition_op.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            _restore(self, saved)
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]
    if any(code is not None for code, _, _ in errors):
        _restore(self, saved)
        raise TransactionCanceledException(errors)


_CONDITION_FAILED = "The conditional request failed"  # ConditionalCheckFailed's message


def _check_put(table: Any, attrs: dict[str, Any]) -> None:
    """What moto's ``Table.put_item`` checks before it writes, and raises as it does."""
    if table.hash_key_attr not in attrs:
        raise MockValidationException(
            f"One or more parameter values were invalid: Missing the key {table.hash_key_attr} in the item"
        )
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in attrs:
            raise MockValidationException(
                f"One or more parameter values were invalid: Missing the key {table.range_key_attr} in the item"
            )
        range_value = DynamoType(attrs[table.range_key_attr])
    if hash_value.type != table.hash_key_type:
        raise InvalidAttributeTypeError(
            table.hash_key_attr, expected_type=table.hash_key_type, actual_type=hash_value.type
        )
    if range_value and range_value.type != table.range_key_type:
        raise InvalidAttributeTypeError(
            table.range_key_attr, expected_type=table.range_key_type, actual_type=range_value.type
        )
    table._validate_item_types(attrs)
    table._validate_key_sizes(attrs)


def _transact_puts(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """A transaction of Puts and ConditionChecks (the ledger's): every condition and check first,
    against the items as they are, then the writes, only if all passed; so a refused
    transaction writes nothing and has nothing to roll back. moto writes each item as it goes and
    puts them back when one fails. Same answers: the same checks in the same order per item, the
    same cancellation reasons, the same errors raised."""
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    writes: list[tuple[Any, dict[str, Any]]] = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        original_item = None
        try:
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if not get_filter_expression(condition, names, values).expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", _CONDITION_FAILED, original_item))  # type: ignore[arg-type]
                    continue
            if op_type == "Put":
                _check_put(table, attrs)
                writes.append((table, attrs))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for table, attrs in writes:
        table.put_item(attrs, overwrite=True)  # its conditions were checked above, under the same lock


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
    self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
    self._messages = self._messages[:index] + self._messages[index + 1 :]


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return retention_period + message.sent_timestamp / 1000 > time.time()  # type: ignore[operator]


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
    if self.kms_master_key_id:  # type: ignore[attr-defined]
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


# -- moto's request handling: the same answers, less work per request ------------------------------


@functools.cache
def _jsonpath(expression: str) -> Any:
    """A JSONPath expression, parsed once (moto builds a PLY parser for each one, each time)."""
    from jsonpath_ng.ext import parse

    return parse(expression)  # type: ignore[no-untyped-call]


def parse_event_template(
    input_template: str, input_paths_map: dict[str, Any], event: dict[str, Any]
) -> dict[str, Any]:
    """moto's ``EventTemplateParser.parse`` (an EventBridge target's input), with each path parsed once.

    moto parses every JSONPath of the target's input paths (eight for the default input) with a
    new PLY parser for every target of every event: 29 ms of each PutEvents of the bank's events.
    """
    if not input_template and not input_paths_map:
        found = _default_input(event)
        if found is not None:
            return found
    stringify = EventTemplateParser._stringify
    template = input_template or EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    paths = input_paths_map or EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP
    for name, path in paths.items():
        matches = _jsonpath(path).find(event)
        result = stringify(matches[0].value) if matches else None
        if result:
            template = template.replace(f"<{name}>", result)
    defaults = {"aws.events.event.json": event, "aws.events.event.ingestion-time": event["ingestion-time"]}
    for name, value in defaults.items():
        template = template.replace(f"<{name}>", stringify(value))
    return json.loads(template)  # type: ignore[no-any-return]


def _pattern_heads(pattern: Any) -> frozenset[str]:
    """The first path components a rule's event pattern reads (through ``$or`` too)."""
    heads: set[str] = set()
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key == "$or":
                for alternative in value if isinstance(value, list) else []:
                    heads |= _pattern_heads(alternative)
            else:
                heads.add(str(key).split(".", 1)[0])
    return frozenset(heads)


def matches_event(self: EventPattern, event: dict[str, Any]) -> bool:
    """moto's ``EventPattern.matches_event``, reading only the fields its pattern names.

    moto copies the whole event through JSON and flattens all of it (the detail included) for every
    rule of the bus, for every event: a rule on ``source`` and ``detail-type`` flattened each
    event's detail three times over. A pattern can only match a flattened key that starts with one
    of its own first path components, so this version copies and flattens those fields only, and
    matches them with moto's own code.
    """
    pattern = self._pattern
    if not pattern:
        return True
    heads = self.__dict__.get("_bankdemo_heads")
    if heads is None:
        heads = self.__dict__["_bankdemo_heads"] = _pattern_heads(pattern)
    wanted = {key: value for key, value in event.items() if str(key).split(".", 1)[0] in heads}
    if all(type(key) is str and type(value) in _SCALARS for key, value in wanted.items()):
        flat = wanted  # what the JSON copy and the flattening of these fields give back
    else:
        flat = self._flatten_dict(json.loads(json.dumps(wanted)))
    return bool(self._does_event_match(flat, pattern))


_SCALARS = frozenset({str, int, bool, type(None)})  # the same after a trip through JSON


class _BaseEventMessage(dict[str, Any]):
    """moto's ``_BASE_EVENT_MESSAGE`` (the same keys and values), deep-copied without ``copy``'s
    generic machinery: PutEvents copies it for every event and every rule of the bus (a fifth of
    a PutEvents of the bank's events went to ``copy.deepcopy``)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {
            key: (type(value)() if not value else copy.deepcopy(value, memo))
            if isinstance(value, (dict, list))
            else value  # str: immutable, as deepcopy leaves it
            for key, value in self.items()
        }


def _default_input(event: dict[str, Any]) -> dict[str, Any] | None:
    """What moto's default input template makes of ``event``, built directly; None when moto's
    text substitution could give anything else (a field missing or empty, a string it would not
    quote safely), and the template is worked through as moto does."""
    text = {}
    for name in ("id", "detail-type", "source", "region"):
        value = event.get(name)
        if not isinstance(value, str) or not value or not _PLAIN.fullmatch(value):
            return None
        text[name] = value
    time_ = event.get("time")
    resources = event.get("resources")
    detail = event.get("detail")
    if isinstance(time_, bool) or not isinstance(time_, int | float) or not isinstance(detail, dict):
        return None
    if not isinstance(resources, list) or not all(
        isinstance(r, str) and _PLAIN.fullmatch(r) for r in resources
    ):
        return None
    return {
        "id": text["id"],
        "time": time_,
        "version": "0",
        "detail-type": text["detail-type"],
        "source": text["source"],
        "region": text["region"],
        "resources": list(resources),
        "detail": detail,  # moto's targets only serialize it: no copy needed (moto's path makes one)
    }


_PLAIN = re.compile(r"[^\x00-\x1f\"\\]*")  # a string JSON quotes as it is


@functools.cache
def method_names_from_class(clazz: object) -> list[str]:
    """moto's ``method_names_from_class``, once per class (moto runs ``inspect.getmembers`` per request)."""
    return _METHOD_NAMES_FROM_CLASS(clazz)


def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
    """moto's request id (52 letters and digits from moto's seedable random), in one draw, not 52."""
    from moto.moto_api._internal import mock_random

    request_id = "".join(mock_random.choices(_REQUEST_ID_CHARACTERS, k=52))
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = request_id
    return request_id


_REQUEST_ID_CHARACTERS = string.ascii_letters + string.digits


@functools.lru_cache(maxsize=4096)
def camelcase_to_underscores(argument: str) -> str:
    """moto's ``camelcase_to_underscores``, remembered: SQS runs it for every attribute of a queue
    on every message sent (17,000 calls for 300 notifications), always on the same few names."""
    return _CAMELCASE_TO_UNDERSCORES(argument)


@functools.lru_cache(maxsize=512)
def _update_expression(expression: str) -> Any:
    return _MAKE_UPDATE_EXPRESSION(UpdateExpressionParser, expression)


def make_update_expression(cls: type, expression: str) -> Any:
    """moto's ``UpdateExpressionParser.make``, once per expression: moto parses the same
    UpdateExpression twice per UpdateItem, and the bank sends a handful of different ones. The
    tree is shared: moto's validators work on a deep copy of it, never on the tree itself."""
    if cls is UpdateExpressionParser:
        return _update_expression(expression)
    return _MAKE_UPDATE_EXPRESSION(cls, expression)


@functools.lru_cache(maxsize=1024)
def _filter_expression(expression: str | None, names: str, values: str) -> Any:
    return _GET_FILTER_EXPRESSION(expression, json.loads(names), json.loads(values))


def get_filter_expression(
    expression: str | None, names: dict[str, str] | None, values: dict[str, dict[str, str]] | None
) -> Any:
    """moto's ``get_filter_expression`` (a ConditionExpression parsed into operators), once per
    expression, names and values: a transaction parses each of its conditions twice. The operators
    only read the item they are given."""
    try:
        key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
    except (TypeError, ValueError):  # values that are not JSON: parse them as moto does
        return _GET_FILTER_EXPRESSION(expression, names, values)
    return _filter_expression(expression, *key)


@functools.lru_cache(maxsize=1024)
def _parsed_condition(
    expression: str | None, names: str, values: str
) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
    parser = ConditionExpressionParser(expression, json.loads(names), json.loads(values))
    op = parser.parse()
    return op, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)


class ParsedCondition:
    """moto's ``ConditionExpressionParser``, its ``parse`` remembered per expression, names and values.

    moto's responses parse each ConditionExpression to validate the request (then its backend
    parses it again to evaluate it): in a transaction of the ledger, one parse per item. ``parse``
    raises as moto's does, where moto's callers expect it to.
    """

    def __init__(
        self, expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
    ) -> None:
        self._args = (expression, names, values)
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> Any:
        expression, names, values = self._args
        try:
            key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except (TypeError, ValueError):  # values that are not JSON: moto's parser, as moto calls it
            parser = ConditionExpressionParser(expression, names, values)
            op = parser.parse()
            self.expr_attr_names_found, self.expr_attr_values_found = (
                parser.expr_attr_names_found,
                parser.expr_attr_values_found,
            )
            return op
        op, found_names, found_values = _parsed_condition(expression, *key)
        self.expr_attr_names_found, self.expr_attr_values_found = list(found_names), list(found_values)
        return op


_possible_keys: dict[tuple[Any, ...], tuple[str, ...]] = {}


def possible_keys(self: XFormedAttributePicker, context: AttributePickerContext) -> Any:
    """moto's response serializer's candidate names for one member of a response, remembered.

    For every member of every structure of every response (ten per DynamoDB attribute value),
    moto asks six alias providers for the names the value may go by in the Python object: half the
    CPU of a GetItem. For an object without a ``Meta`` class (a plain dict, as DynamoDB's items
    are) the answer depends only on the object's type, the member's name and its shape, so it is
    worked out once.
    """
    obj = context.obj
    if hasattr(obj, "Meta"):
        return _POSSIBLE_KEYS(self, context)
    key = (type(obj), context.key, context.shape, tuple(self.alias_providers))
    found = _possible_keys.get(key)
    if found is None:
        if len(_possible_keys) > 50_000:  # shapes are few; this only bounds the unexpected
            _possible_keys.clear()
        found = _possible_keys[key] = tuple(_POSSIBLE_KEYS(self, context))
    return found


def pick_attribute(self: XFormedAttributePicker, context: AttributePickerContext) -> Any:
    """moto's ``AttributePicker.__call__``: a member's value in the Python object of a response.

    For a plain dict (DynamoDB's items, most results) it tests the candidate names with ``in``
    instead of moto's lookup, which raises and catches a KeyError for each absent member (nine of
    the ten members of every DynamoDB attribute value). Same candidates, same order, same value.
    """
    obj = context.obj
    if type(obj) is not dict:
        return _PICK_ATTRIBUTE(self, context)
    value = None
    for key in possible_keys(self, context):
        if "." in key:  # a path into nested objects: moto's own lookup
            return _PICK_ATTRIBUTE(self, context)
        if key in obj:
            value = obj[key]
            break
    if self.response_transformers:
        key_path = f"{context.key_path}.{context.key}"
        for transform_path, transform in self.response_transformers.items():
            if key_path.endswith(transform_path):
                return transform(value)
    return value


def create_account_specific_backend(self: BackendDict, account_id: str) -> None:  # type: ignore[type-arg]
    """moto's ``BackendDict._create_account_specific_backend``, with a fast way out when there is
    nothing to create. moto runs it on every lookup of a backend (several per request), and it
    compares the dict with every other service's (``self not in BackendDict._instances``) to find
    what an identity check finds."""
    if dict.__contains__(self, account_id) and any(other is self for other in BackendDict._instances):  # type: ignore[misc]
        return
    _CREATE_ACCOUNT_SPECIFIC_BACKEND(self, account_id)


def generate_receipt_handle() -> str:
    """moto's SQS receipt handle (185 lowercase letters from moto's seedable random), in one draw."""
    from moto.moto_api._internal import mock_random

    return "".join(mock_random.choices(string.ascii_lowercase, k=185))


def apply() -> None:
    """Install the fixes (idempotent)."""
    EventTemplateParser.parse = staticmethod(parse_event_template)  # type: ignore[method-assign,assignment]
    EventPattern.matches_event = matches_event  # type: ignore[method-assign]
    if not isinstance(events_utils._BASE_EVENT_MESSAGE, _BaseEventMessage):
        events_utils._BASE_EVENT_MESSAGE = _BaseEventMessage(events_utils._BASE_EVENT_MESSAGE)
    events_models._BASE_EVENT_MESSAGE = events_utils._BASE_EVENT_MESSAGE
    moto_responses.method_names_from_class = method_names_from_class
    moto_responses.gen_amzn_requestid_long = gen_amzn_requestid_long
    moto_responses.camelcase_to_underscores = camelcase_to_underscores
    sqs_models.camelcase_to_underscores = camelcase_to_underscores
    sqs_models.generate_receipt_handle = generate_receipt_handle
    BackendDict._create_account_specific_backend = create_account_specific_backend  # type: ignore[method-assign]
    XFormedAttributePicker.get_possible_keys = possible_keys  # type: ignore[method-assign,assignment]
    XFormedAttributePicker.__call__ = pick_attribute  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(make_update_expression)  # type: ignore[method-assign,assignment]
    dynamodb_models.get_filter_expression = get_filter_expression
    dynamodb_table.get_filter_expression = get_filter_expression
    dynamodb_responses.create_condition_expression_parser = ParsedCondition
    Queue.add_message = add_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Message.visible = property(_visible)  # type: ignore[method-assign,assignment]
    Message.delayed = property(_delayed)  # type: ignore[method-assign,assignment]
    Queue.messages = property(_messages)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages = property(_visible_count)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_delayed = property(_delayed_count)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = property(_not_visible_count)  # type: ignore[method-assign,assignment]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
    Queue.attributes = property(queue_attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]
