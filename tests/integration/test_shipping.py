"""Packaging for AWS: Chalice's output merged with our template, and a zip that runs on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from typing import Any

import pytest
import yaml

from demo.aws.cfn import load_template
from demo.aws.shipping import package
from demo.settings import SERVERLESS_PROJECT


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    root = tmp_path_factory.mktemp("package")
    sam = package("dev", root / "out", root / "build")
    return load_template(sam), root / "out" / "deployment.zip"


@pytest.fixture(scope="module")
def packaged_prod(tmp_path_factory):
    root = tmp_path_factory.mktemp("package-prod")
    return load_template(package("prod", root / "out", root / "build"))


def queue_of(event: dict[str, Any]) -> str:
    """The queue name an SQS event source reads: ``arn:...:bank-notifications`` -> ``bank-notifications``."""
    arn = event["Properties"]["Queue"]
    return (arn["Fn::Sub"] if isinstance(arn, dict) else arn).rsplit(":", 1)[1]


def visibility_timeouts(template: dict[str, Any]) -> dict[str, int]:
    """Each queue's visibility timeout as deployed with the template's defaults, by queue name."""
    parameters, found = template["Parameters"], {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::SQS::Queue" or "VisibilityTimeout" not in resource["Properties"]:
            continue
        value = resource["Properties"]["VisibilityTimeout"]
        seconds = parameters[value["Ref"]]["Default"] if isinstance(value, dict) else value
        found[resource["Properties"]["QueueName"]] = int(seconds)
    return found


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_function_has_an_explicit_timeout_and_its_queue_hides_a_batch_six_times_as_long(
    stage, packaged, packaged_prod
):
    template = packaged[0] if stage == "dev" else packaged_prod
    functions = {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r.get("Type") == "AWS::Serverless::Function"
    }
    config = json.loads((SERVERLESS_PROJECT / ".chalice" / "config.json").read_text())
    declared = config["stages"][stage]["lambda_functions"]
    assert all("lambda_timeout" in f for f in declared.values()), declared  # none left to Chalice's default
    assert {f["Timeout"] for f in functions.values()} == {f["lambda_timeout"] for f in declared.values()}
    assert functions["APIHandler"]["Timeout"] <= 29  # API Gateway gives up on an integration at 29 s
    visibility = visibility_timeouts(template)
    consumed = set()
    for name, function in functions.items():
        for event in function.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = queue_of(event)
                consumed.add(queue)
                assert visibility[queue] >= 6 * function["Timeout"], (stage, name, queue, visibility[queue])
    assert consumed == {"bank-notifications", "bank-webhooks", "bank-audit", "bank-reviews"}


def test_every_sqs_handler_reports_partial_batch_failures_on_aws(packaged):
    template, _ = packaged
    functions = {
        name: r for name, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"
    }
    sqs_events = {
        f"{name}.{event_name}": event["Properties"]
        for name, function in functions.items()
        for event_name, event in function["Properties"].get("Events", {}).items()
        if event["Type"] == "SQS"
    }
    assert sorted(sqs_events) == [
        "ApplyNotifications.ApplyNotificationsSqsEventSource",
        "DeliverWebhooks.DeliverWebhooksSqsEventSource",
        "ReviewDesk.ReviewDeskSqsEventSource",
        "WriteAudit.WriteAuditSqsEventSource",
    ]
    assert all(p["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for p in sqs_events.values())
    assert functions["ApplyNotifications"]["DependsOn"] == ["NotificationsQueue"]


def test_the_review_workflow_ships_inline_and_its_starter_knows_its_arn(packaged):
    template, _ = packaged
    resources = template["Resources"]
    machine = resources["ReviewStateMachine"]["Properties"]
    assert "DefinitionS3Location" not in machine and "DefinitionSubstitutions" not in machine
    parts = machine["DefinitionString"]["Fn::Join"][1]
    assert {"Ref": "LedgerTable"} in parts and "$$.Task.Token" in "".join(
        p for p in parts if isinstance(p, str)
    )
    desk = resources["ReviewDesk"]["Properties"]["Environment"]["Variables"]
    assert desk["REVIEW_STATE_MACHINE_ARN"] == {"Ref": "ReviewStateMachine"}
    assert desk["BANK_STAGE"] == "dev"  # Chalice's own variables are still there: merged, not replaced


def test_the_template_holds_our_resources_next_to_chalices(packaged):
    template, _ = packaged
    resources = template["Resources"]
    for name in (
        "LedgerTable",
        "AuditTable",
        "NotificationsQueue",
        "EventBus",
        "WebhooksRule",
        "ReviewStateMachine",
        "ReviewWorkflowRole",
        "APIHandler",
    ):
        assert name in resources
    yaml.safe_dump(template)  # plain data: the short tags were resolved


def test_the_deployment_zip_imports_on_its_own(packaged, tmp_path):
    _, zip_path = packaged
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    assert {"app.py", "chalicelib/bootstrap.py", "demo/bank/ledger.py"} <= names
    assert not any(n.startswith(("demo/monolith", "demo/localcloud", "moto/")) for n in names)
    # -S: no site-packages, so nothing but the zip (and the standard library) can be imported
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import app; print(len(app.app.routes))"
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert (
        "cryptography"
        not in subprocess.run(  # no crypto library at cold start, nor in the zip
            [
                sys.executable,
                "-S",
                "-c",
                code.replace("print(len(app.app.routes))", "print(sorted(sys.modules))"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


ZIP_BUDGET = 512 * 1024  # bytes: pure Python, the domain and the handlers (ADR 0011)


def test_the_zip_is_pure_python_and_within_its_budget(packaged):
    _, zip_path = packaged
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    native = [n for n in names if n.endswith((".so", ".pyd", ".dylib"))]
    assert native == [], native
    assert not any(n.startswith(("cryptography/", "cffi")) for n in names)
    assert zip_path.stat().st_size <= ZIP_BUDGET, f"{zip_path.stat().st_size:,} bytes"


def test_on_aws_the_balance_and_review_routes_need_an_iam_signature_and_the_processor_route_does_not(
    packaged,
):
    template, _ = packaged
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, method in (
        ("/wallets/{wallet_id}/balance", "get"),
        ("/reviews", "get"),
        ("/reviews/{review_id}", "get"),
        ("/reviews/{review_id}/decision", "post"),
    ):
        assert paths[path][method]["security"] == [{"sigv4": []}], path
    assert "security" not in paths["/notifications"]["post"]  # the processor signs with HMAC instead
    assert "security" not in paths["/health"]["get"]
