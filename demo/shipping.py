"""Packaging the Chalice app for AWS: the deployment zip and one CloudFormation (SAM) template.

``chalice package --merge-template`` takes one template to merge. We give it resources.yaml (the
resources the local cloud deploys too) merged with aws-overrides.yaml (what Chalice cannot say:
partial batch responses on the SQS event sources). Chalice zips only app.py, chalicelib/ and
vendor/, so the domain core (demo/bank) is copied into vendor/ of a build copy of the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from demo.settings import SERVERLESS_PROJECT

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = SERVERLESS_PROJECT


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
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_template() -> dict[str, Any]:
    """resources.yaml with aws-overrides.yaml merged over it: the one --merge-template."""
    return deep_merge(
        load_template(PROJECT_DIR / "resources.yaml"), load_template(PROJECT_DIR / "aws-overrides.yaml")
    )


def build_project(build_dir: Path) -> Path:
    """A copy of the Chalice project with the domain core vendored; returns its directory."""
    project = build_dir / "bank"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "vendor", "deployments")
    )
    vendor = project / "vendor" / "demo"
    shutil.copytree(PACKAGE_DIR / "bank", vendor / "bank", ignore=shutil.ignore_patterns("__pycache__"))
    (vendor / "__init__.py").write_text("")
    (project / "merge-template.yaml").write_text(yaml.safe_dump(merge_template(), sort_keys=False))
    return project


def package(stage: str, out_dir: Path, build_dir: Path) -> Path:
    """Run ``chalice package`` for ``stage`` into ``out_dir``; returns the SAM template's path."""
    project = build_project(build_dir)
    env = {
        **os.environ,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"),
    }
    chalice = str(Path(sys.executable).with_name("chalice"))
    command = [chalice, "package", "--stage", stage, "--template-format", "yaml", "--merge-template"]
    subprocess.run(  # noqa: S603 - our own command line
        [*command, "merge-template.yaml", str(out_dir)],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out_dir / "sam.yaml"
