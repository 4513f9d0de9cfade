"""Fixes to moto's request handling, shared by every service: the same answers, less work per request.

A class's method names worked out once, request ids drawn in one call, the snake-case names of
attributes remembered, the response serializer's candidate names for a member remembered (and
looked up in a plain dict without raising a KeyError per absent member), and backends looked up
without comparing whole dicts. Installed by :func:`demo.localcloud.moto_patches.apply`.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from typing import Any

import moto.core.utils as moto_core_utils
from moto.core.base_backend import BackendDict
from moto.core.serialize import AttributePickerContext, XFormedAttributePicker

_METHOD_NAMES_FROM_CLASS = moto_core_utils.method_names_from_class  # what moto.core.responses imports
_CAMELCASE_TO_UNDERSCORES = moto_core_utils.camelcase_to_underscores
_POSSIBLE_KEYS = XFormedAttributePicker.get_possible_keys
_CREATE_ACCOUNT_SPECIFIC_BACKEND = BackendDict._create_account_specific_backend
_PICK_ATTRIBUTE = XFormedAttributePicker.__call__


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


_possible_keys: dict[tuple[Any, ...], tuple[str, ...]] = {}


def possible_keys(self: XFormedAttributePicker, context: AttributePickerContext) -> Iterable[str]:
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


def create_account_specific_backend(self: BackendDict[Any], account_id: str) -> None:
    """moto's ``BackendDict._create_account_specific_backend``, with a fast way out when there is
    nothing to create. moto runs it on every lookup of a backend (several per request), and it
    compares the dict with every other service's (``self not in BackendDict._instances``) to find
    what an identity check finds."""
    if dict.__contains__(self, account_id) and any(other is self for other in BackendDict._instances):  # type: ignore[misc]  # a generic class's attribute read on the class, as moto does
        return
    _CREATE_ACCOUNT_SPECIFIC_BACKEND(self, account_id)
