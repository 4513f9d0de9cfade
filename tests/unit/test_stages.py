"""The stages of .chalice/config.json differ only where they must, each difference with its reason.

local is the local cloud's stage, dev and prod ship to AWS. Every key of one stage is in every
other (but the IAM settings, which the local cloud has no use for), and a value differs between
two stages only for a key of the allow-lists below.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from demo.aws.shipping import POLICY_STAGE, aws_stages, merge_template, stage_environment, stage_policy
from demo.settings import SERVERLESS_PROJECT

CONFIG = json.loads((SERVERLESS_PROJECT / ".chalice" / "config.json").read_text())
STAGES = ("local", "dev", "prod")
ENV = "environment_variables."

# --8<-- [start:allow-lists]
# Keys whose value is named after the stage: exactly this, with the stage's name.
NAMED = {
    ENV + "BANK_STAGE": "{stage}",  # Settings.stage: the stage itself
    # the stage's own tables: resources.yaml names them bank-ledger-${Stage}, bank-audit-${Stage}
    ENV + "LEDGER_TABLE": "bank-ledger-{stage}",
    ENV + "AUDIT_TABLE": "bank-audit-{stage}",
    # the stage's SSM parameters: the deploy (or the local cloud) puts the secrets there, the
    # template the URL (resources.yaml: /bank/${Stage}/client-webhook-url)
    ENV + "SIGNING_SECRET_PARAMETER": "/bank/{stage}/processor-signing-secret",
    ENV + "CLIENT_WEBHOOK_URL_PARAMETER": "/bank/{stage}/client-webhook-url",
    ENV + "CLIENT_WEBHOOK_SECRET_PARAMETER": "/bank/{stage}/client-webhook-secret",
}
# Keys whose value is a timing the local cloud shortens, and why. dev and prod share them: dev
# runs what prod runs.
LOCAL_TIMINGS = {
    # a webhook retry, and an outage's requeue, seen within a demo: seconds, not AWS's minutes
    ENV + "WEBHOOK_RETRY_BASE_SECONDS",
    ENV + "WEBHOOK_RETRY_MAX_SECONDS",
    ENV + "OUTAGE_RETRY_BASE_SECONDS",
    ENV + "OUTAGE_RETRY_MAX_SECONDS",
    # a review's timeout reached in a notebook (10 min), where a human has two days on AWS
    ENV + "REVIEW_DECISION_TIMEOUT_SECONDS",
}
# Keys only the AWS stages have: one IAM policy per function (the local cloud enforces no IAM), and
# each function's timeout (the local cloud's functions run in its process, with no timeout; each
# queue's visibility timeout is 6x it on AWS: tests/integration/test_shipping.py).
AWS_ONLY = re.compile(r"^(autogen_policy|lambda_functions\.\w+\.(iam_policy_file|lambda_timeout))$")
# Settings.from_env reads these, and no stage sets them; why.
NOT_IN_CONFIG = {
    "AWS_REGION": "Lambda sets it; the local cloud passes its own region",
    "AWS_DEFAULT_REGION": "the fallback of AWS_REGION, as in boto3",
    "AWS_ENDPOINT_URL": "the local cloud's endpoint: never set on AWS",
    "REVIEW_STATE_MACHINE_ARN": "a resource of the stack: aws-overrides.yaml sets it from the template",
    "CARD_KEY_ID": "a resource of the stack: aws-overrides.yaml sets it from the template",
    "OUTAGE_MAX_RETRIES": "the code's default, the same in every stage",
}
# The app's variables no Settings field reads, and why they are set (for every stage alike).
NOT_A_SETTING = {
    "WEBHOOKS_QUEUE": "app.py binds its consumers to the queue names at import (bootstrap's constants)",
    "AUDIT_QUEUE": "as WEBHOOKS_QUEUE",
    "REVIEWS_QUEUE": "as WEBHOOKS_QUEUE",
}
# --8<-- [end:allow-lists]


def flat(stage: str) -> dict[str, Any]:
    """A stage's settings as dotted keys, the app's environment variables merged in, as Chalice does."""
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}{key}.", value)
        else:
            out[prefix.rstrip(".")] = node

    walk("", {k: v for k, v in CONFIG["stages"][stage].items() if k != "environment_variables"})
    walk(ENV, stage_environment(stage))
    return out


def differing(a: str, b: str) -> set[str]:
    left, right = flat(a), flat(b)
    return {key for key in left.keys() & right.keys() if left[key] != right[key]}


def settings_read() -> set[str]:
    """The environment variables Settings.from_env reads: its env.get("...") calls."""
    tree = ast.parse((SERVERLESS_PROJECT / "chalicelib" / "bootstrap.py").read_text())
    [settings] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    [from_env] = [n for n in settings.body if isinstance(n, ast.FunctionDef) and n.name == "from_env"]
    return {
        node.args[0].value
        for node in ast.walk(from_env)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and ast.unparse(node.func.value) == "env"
    }


def test_the_stages_are_local_dev_and_prod_and_only_local_stays_offline():
    assert tuple(CONFIG["stages"]) == STAGES
    assert aws_stages() == ["dev", "prod"]


@pytest.mark.parametrize(("a", "b"), [("local", "dev"), ("dev", "prod"), ("local", "prod")])
def test_every_key_of_one_stage_is_in_the_other_but_the_aws_only_ones(a, b):
    only_a = {key for key in flat(a).keys() - flat(b).keys() if not (b == "local" and AWS_ONLY.match(key))}
    only_b = {key for key in flat(b).keys() - flat(a).keys() if not (a == "local" and AWS_ONLY.match(key))}
    assert not only_a, f"in {a}, not in {b}"
    assert not only_b, f"in {b}, not in {a}"


@pytest.mark.parametrize("stage", STAGES)
def test_the_named_keys_carry_the_stage_name(stage):
    settings = flat(stage)
    for key, pattern in NAMED.items():
        assert settings[key] == pattern.format(stage=stage), key


def test_dev_and_prod_differ_exactly_in_the_stage_names():
    assert differing("dev", "prod") == set(NAMED)


@pytest.mark.parametrize("aws", ["dev", "prod"])
def test_local_differs_from_an_aws_stage_exactly_in_the_names_and_its_short_timings(aws):
    assert differing("local", aws) == set(NAMED) | LOCAL_TIMINGS
    for key in LOCAL_TIMINGS:  # shorter, never longer
        assert float(flat("local")[key]) < float(flat(aws)[key]), key


def test_every_setting_is_set_in_every_stage_or_says_why_not():
    read = settings_read()
    assert {"LEDGER_TABLE", "OUTAGE_RETRY_MAX_SECONDS", "AWS_ENDPOINT_URL"} <= read  # the parse works
    for stage in STAGES:
        configured = set(stage_environment(stage))
        assert read - configured == set(NOT_IN_CONFIG), stage
        assert configured - read == set(NOT_A_SETTING), stage


@pytest.mark.parametrize("path", sorted((SERVERLESS_PROJECT / ".chalice").glob("policy-*.json")), ids=str)
def test_prod_gets_the_policy_files_with_prods_names_and_nothing_else_changed(path):
    text = path.read_text()
    prod = stage_policy(text, "prod")
    assert stage_policy(text, POLICY_STAGE) == text
    json.loads(prod)
    assert not re.search(r"(?<![A-Za-z0-9])dev(?![A-Za-z0-9])", prod)
    # renamed back, the prod policy is the dev policy, character for character
    assert re.sub(r"(?<![A-Za-z0-9])prod(?![A-Za-z0-9])", "dev", prod) == text
    for name in ("bank-ledger-prod", "bank-audit-prod", "/bank/prod/", "/aws/lambda/bank-prod-"):
        assert (name in prod) == (name.replace("prod", "dev") in text), name


def test_a_dev_name_the_renaming_does_not_know_is_an_error_not_a_grant():
    policy = '{"Resource": "arn:aws:dynamodb:eu-west-1:1:table/bank-cards-dev"}'
    with pytest.raises(ValueError, match="still names stage 'dev'"):
        stage_policy(policy, "prod")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_packaged_template_defaults_to_the_stage_it_was_packaged_for(stage):
    assert merge_template(stage)["Parameters"]["Stage"]["Default"] == stage
