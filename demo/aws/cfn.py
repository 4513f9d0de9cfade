"""CloudFormation templates as data: read with their short tags, merged, and made deployable.

The one resources template names the review workflow's definition by file
(``DefinitionS3Location`` plus ``DefinitionSubstitutions``), as ``aws cloudformation package``
wants it. moto reads ``DefinitionString`` only, and ``chalice package`` does not upload files, so
:func:`inline_definitions` turns the pair into the equivalent ``DefinitionString: !Join [...]``.
(Not ``!Sub``: moto's Sub turns the ``$$`` of ``$$.Task.Token`` into ``$``.)
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, cast

import yaml


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub...) kept as their long forms."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:  # neither a scalar nor a sequence: a mapping
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    return template


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def inline_definitions(template: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """A copy of ``template`` whose state machines carry their definition inline."""
    out = copy.deepcopy(template)
    for name, resource in out.get("Resources", {}).items():
        props = resource.get("Properties", {})
        location = props.get("DefinitionS3Location")
        if resource.get("Type") != "AWS::StepFunctions::StateMachine" or not isinstance(location, str):
            continue
        path = base_dir / location
        if not path.is_file():
            raise FileNotFoundError(f"{name}: definition {location} not found under {base_dir}")
        del props["DefinitionS3Location"]
        substitutions = props.pop("DefinitionSubstitutions", {})
        props["DefinitionString"] = {"Fn::Join": ["", _substituted(path.read_text(), substitutions, name)]}
    return out


def _substituted(text: str, substitutions: dict[str, Any], resource: str) -> list[Any]:
    """``text`` split at its ``${Name}`` placeholders, each replaced by its value."""
    parts: list[Any] = []
    for i, piece in enumerate(re.split(r"\$\{([A-Za-z0-9_]+)\}", text)):
        if i % 2 == 0:
            parts.append(piece)
        elif piece in substitutions:
            parts.append(substitutions[piece])
        else:
            raise KeyError(f"{resource}: no DefinitionSubstitutions value for ${{{piece}}}")
    return parts
