"""Packaging the Chalice app for AWS: the deployment zip and one CloudFormation (SAM) template.

``chalice package --merge-template`` takes one template to merge. We give it resources.yaml (the
resources the local cloud deploys too) merged with aws-overrides.yaml (what Chalice cannot say:
partial batch responses on the SQS event sources). Chalice zips only app.py, chalicelib/ and
vendor/, so the domain core (demo/bank) is copied into vendor/ of a build copy of the project.
Nothing else is vendored: the code needs only boto3, which Lambda's Python runtime has (the card
vault asks KMS to encrypt, with no cryptography library: ADR 0011), so the zip is pure Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from demo.aws.cfn import deep_merge, inline_definitions, load_template
from demo.settings import SERVERLESS_PROJECT

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_DIR = SERVERLESS_PROJECT


# The stage the per-function policy files (.chalice/policy-<function>.json) are written for: they
# name its log groups, tables and parameters. Packaging another stage renames those in the build copy.
POLICY_STAGE = "dev"


def chalice_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return config


def aws_stages() -> list[str]:
    """The stages that ship to AWS: every stage of .chalice/config.json but the local cloud's."""
    return [stage for stage in chalice_config()["stages"] if stage != "local"]


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables a stage's Lambda functions get: the app's, then the stage's."""
    config = chalice_config()
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


# --8<-- [start:stage_policy]
def stage_policy(text: str, stage: str) -> str:
    """A policy file's text for ``stage``: the names of POLICY_STAGE's resources replaced by the stage's.

    The names come from the stages' environment (the tables and SSM parameters, whatever their
    value) and Chalice's function naming (``<app>-<stage>-<function>``, the log groups). A name of
    POLICY_STAGE left over after the renaming is an error, not a policy that silently grants the
    other stage's resources.
    """
    if stage == POLICY_STAGE:
        return text
    ours, theirs = stage_environment(POLICY_STAGE), stage_environment(stage)
    app = chalice_config()["app_name"]
    names = {
        ours[key]: theirs[key]
        for key in ours
        if key.endswith(("_TABLE", "_PARAMETER")) and ours[key] != theirs.get(key, ours[key])
    }
    names[f"/aws/lambda/{app}-{POLICY_STAGE}-"] = f"/aws/lambda/{app}-{stage}-"
    for old in sorted(names, key=len, reverse=True):  # the longest first: no name is cut in two
        text = text.replace(old, names[old])
    left = re.search(rf"(?<![A-Za-z0-9]){POLICY_STAGE}(?![A-Za-z0-9])", text)
    if left:
        line = text[: left.start()].count("\n") + 1
        raise ValueError(f"line {line} still names stage {POLICY_STAGE!r} after renaming it to {stage!r}")
    return text


# --8<-- [end:stage_policy]


def merge_template(stage: str = POLICY_STAGE) -> dict[str, Any]:
    """resources.yaml with aws-overrides.yaml merged over it, definitions inlined: the one
    --merge-template. Its ``Stage`` parameter defaults to the stage packaged."""
    merged = deep_merge(
        load_template(PROJECT_DIR / "resources.yaml"), load_template(PROJECT_DIR / "aws-overrides.yaml")
    )
    merged["Parameters"]["Stage"]["Default"] = stage
    return inline_definitions(merged, PROJECT_DIR)


def build_project(build_dir: Path, stage: str = POLICY_STAGE) -> Path:
    """A copy of the Chalice project for ``stage``, with the domain core vendored; returns its directory."""
    project = build_dir / "bank"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "vendor", "deployments")
    )
    for policy in (project / ".chalice").glob("policy-*.json"):
        try:
            policy.write_text(stage_policy(policy.read_text(), stage))
        except ValueError as error:
            raise ValueError(f".chalice/{policy.name}: {error}") from None
    vendor = project / "vendor" / "demo"
    shutil.copytree(PACKAGE_DIR / "bank", vendor / "bank", ignore=shutil.ignore_patterns("__pycache__"))
    (vendor / "__init__.py").write_text("")
    (project / "merge-template.yaml").write_text(yaml.safe_dump(merge_template(stage), sort_keys=False))
    return project


def package(stage: str, out_dir: Path, build_dir: Path) -> Path:
    """Run ``chalice package`` for ``stage`` into ``out_dir``; returns the SAM template's path."""
    project = build_project(build_dir, stage)
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
    resolve_policy_placeholders(out_dir / "sam.yaml")
    return out_dir / "sam.yaml"


def resolve_policy_placeholders(sam: Path) -> None:
    """Wrap, in place, every string of the roles' policies that holds a ``${...}`` in ``Fn::Sub``.

    The per-function policies (.chalice/policy-<function>.json) are static JSON, which Chalice
    copies as they are into the roles it generates. They name ARNs with ``${AWS::Partition}``,
    ``${AWS::Region}``, ``${AWS::AccountId}`` and the bank's key as ``${BankKey.Arn}``: placeholders
    that CloudFormation resolves only inside ``Fn::Sub``.
    """
    template = load_template(sam)

    def sub(node: Any) -> Any:
        if isinstance(node, str):
            return {"Fn::Sub": node} if "${" in node else node
        if isinstance(node, list):
            return [sub(item) for item in node]
        if isinstance(node, dict) and not any(key == "Ref" or key.startswith("Fn::") for key in node):
            return {key: sub(value) for key, value in node.items()}
        return node  # an intrinsic function already

    class Unaliased(yaml.SafeDumper):  # CloudFormation refuses YAML aliases (Chalice writes some)
        def ignore_aliases(self, data: Any) -> bool:
            return True

    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                policy["PolicyDocument"] = sub(policy["PolicyDocument"])
    sam.write_text(yaml.dump(template, Dumper=Unaliased, sort_keys=False, allow_unicode=True))
