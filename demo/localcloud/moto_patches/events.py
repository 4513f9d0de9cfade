"""Fixes to moto's EventBridge: a target's input and a rule's match, with less work per event.

The JSONPaths of a target's input parsed once (and the default input built directly), a rule's
pattern matched on the fields it names, not on a JSON copy of the whole event flattened, and
moto's base event message copied without ``copy.deepcopy``'s generic machinery. Installed by
:func:`demo.localcloud.moto_patches.apply`.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

if TYPE_CHECKING:
    from jsonpath_ng.jsonpath import JSONPath
    from moto.events.utils import EventMessageType

_MATCHES_EVENT = EventPattern.matches_event


@functools.cache
def _jsonpath(expression: str) -> JSONPath:
    """A JSONPath expression, parsed once (moto builds a PLY parser for each one, each time)."""
    from jsonpath_ng.ext.parser import parse  # the parse jsonpath_ng.ext gives moto

    return parse(expression)


def parse_event_template(
    input_template: str, input_paths_map: dict[str, Any], event: EventMessageType
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
    answer: dict[str, Any] = json.loads(template)
    return answer


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


def matches_event(self: EventPattern, event: EventMessageType) -> bool:
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


def _default_input(event: Mapping[str, Any]) -> dict[str, Any] | None:
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
