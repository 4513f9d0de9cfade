"""Fixes to moto's DynamoDB: a transaction backs up the items it touches, expressions are parsed once.

moto 5.2 deep-copies every table a transaction names before it runs, so that it can roll back;
:func:`transact_write_items` backs up exactly the items of the transaction (a deep copy of each,
or "absent") and puts them back on failure, and a transaction of Puts and ConditionChecks (the
ledger's) checks everything before it writes anything. UpdateExpressions and ConditionExpressions
are parsed once per expression (names and values). Installed by
:func:`demo.localcloud.moto_patches.apply`.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

import moto.dynamodb.comparisons as dynamodb_comparisons
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
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # the module opts out of type checking (a file-wide ignore): mypy sees none of its names

if TYPE_CHECKING:
    from moto.dynamodb.comparisons import Func, Op

_ORIGINAL = DynamoDBBackend.transact_write_items
_MAKE_UPDATE_EXPRESSION = UpdateExpressionParser.make.__func__
_GET_FILTER_EXPRESSION = dynamodb_comparisons.get_filter_expression


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

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []  # (code, message, item)
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
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))
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
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []  # (code, message, item)
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
                    errors.append(("ConditionalCheckFailed", _CONDITION_FAILED, original_item))
                    continue
            if op_type == "Put":
                _check_put(table, attrs)
                writes.append((table, attrs))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as e:
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for table, attrs in writes:
        table.put_item(attrs, overwrite=True)  # its conditions were checked above, under the same lock


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
def _filter_expression(expression: str | None, names: str, values: str) -> Op | Func:
    return _GET_FILTER_EXPRESSION(expression, json.loads(names), json.loads(values))


def get_filter_expression(
    expr: str | None, names: dict[str, str] | None, values: dict[str, dict[str, str]] | None
) -> Op | Func:
    """moto's ``get_filter_expression`` (a ConditionExpression parsed into operators), once per
    expression, names and values: a transaction parses each of its conditions twice. The operators
    only read the item they are given."""
    try:
        key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
    except (TypeError, ValueError):  # values that are not JSON: parse them as moto does
        return _GET_FILTER_EXPRESSION(expr, names, values)
    return _filter_expression(expr, *key)


@functools.lru_cache(maxsize=1024)
def _parsed_condition(
    expression: str | None, names: str, values: str
) -> tuple[Op | Func, tuple[str, ...], tuple[str, ...]]:
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

    def parse(self) -> Op | Func:
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
