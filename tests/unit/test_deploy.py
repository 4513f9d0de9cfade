"""Step 6 offline: ``bankdemo package``, and ``deploy`` / ``destroy`` against stubbed AWS.

No test here can reach AWS: every test runs without credentials (the environment emptied, the
config files empty, no instance metadata), and the clients the code gets come either from a real
session with no credentials, whose every call is counted, or from a fake session whose clients
are botocore Stubbers: a call that no test queued fails. Every call, across clients, is recorded
in order.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from demo.aws import costs, deploy, preflight
from demo.cli import app

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BUCKET = f"bank-deploy-{ACCOUNT}-{REGION}"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bank-dev/6e1f3d70-0000-4000-8000-000000000001"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
API_URL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/api/"
IDENTITY = {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/deployer"}
NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
POLICY = Path(__file__).resolve().parents[2] / "docs" / "deployer-policy.json"

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "BANK_CLIENT_WEBHOOK_SECRET",
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch, tmp_path):
    """No AWS credentials anywhere: the environment, the config files, instance metadata."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("COLUMNS", "200")


def squash(text: str) -> str:
    """The output with its line wrapping undone."""
    return " ".join(text.split())


# -- sessions the code is handed ---------------------------------------------------------------


class StubbedSession:
    """What ``deploy.open_session`` returns in these tests: every client a Stubber, every call recorded."""

    def __init__(self, region: str | None = REGION) -> None:
        self.region_name = region
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._botocore = botocore.session.get_session()
        self._clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}

    def client(self, service: str, **_: Any) -> Any:
        if service not in self._clients:
            client = self._botocore.create_client(
                service,
                region_name=self.region_name or REGION,
                aws_access_key_id="AKIDTEST",
                aws_secret_access_key="test",
            )

            def record(params: dict[str, Any], model: Any, **__: Any) -> None:
                self.calls.append((service, model.name, copy.deepcopy(params)))

            client.meta.events.register_first("before-parameter-build.*.*", record)  # before the Stubber's
            self.stubs[service] = Stubber(client)
            self.stubs[service].activate()
            self._clients[service] = client
        return self._clients[service]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self.stubs[service]

    def operations(self) -> list[tuple[str, str]]:
        return [(service, operation) for service, operation, _ in self.calls]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for _, name, params in self.calls if name == operation]

    def assert_all_answered(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def aws(monkeypatch):
    """A stubbed session, for the CLI's ``deploy.open_session``; sts answers who we are."""
    session = StubbedSession()
    session.stub("sts").add_response("get_caller_identity", IDENTITY, {})
    for service in ("cloudformation", "s3", "ssm", "logs"):  # nothing queued: any call fails
        session.stub(service)

    def open_session(region: str | None = None) -> StubbedSession:
        session.region_name = region or REGION
        return session

    monkeypatch.setattr(deploy, "open_session", open_session)
    return session


@pytest.fixture
def counted(monkeypatch):
    """The real session, with no credentials, every AWS call counted; and packaging forbidden."""
    calls: list[tuple[str, str]] = []
    real = preflight.open_session

    def open_session(region: str | None = None) -> Any:
        session = real(region)
        session.events.register(
            "before-call", lambda model, **_: calls.append((model.service_model.service_name, model.name))
        )
        return session

    def no_packaging(*_: Any) -> None:
        raise AssertionError("packaged before the credentials were checked")

    monkeypatch.setattr(deploy, "open_session", open_session)
    monkeypatch.setattr(deploy, "build", no_packaging)
    return calls


# -- canned answers ----------------------------------------------------------------------------


def stack(status: str, stack_id: str = STACK_ID, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "StackId": stack_id,
        "StackName": "bank-dev",
        "CreationTime": NOW,
        "StackStatus": status,
    }
    if outputs:
        found["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [found]}


def events(*rows: tuple[str, str, str, str]) -> dict[str, Any]:
    """StackEvents, newest first as CloudFormation returns them: (event id, logical id, status, reason)."""
    return {
        "StackEvents": [
            {
                "StackId": STACK_ID,
                "EventId": event_id,
                "StackName": "bank-dev",
                "LogicalResourceId": logical,
                "ResourceType": "AWS::CloudFormation::Stack" if logical == "bank-dev" else "AWS::SQS::Queue",
                "Timestamp": NOW,
                "ResourceStatus": status,
                **({"ResourceStatusReason": reason} if reason else {}),
            }
            for event_id, logical, status, reason in rows
        ]
    }


def no_stack(session: StubbedSession, name: str = "bank-dev") -> None:
    session.stub("cloudformation").add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {name} does not exist",
        http_status_code=400,
        expected_params={"StackName": name},
    )


OUTPUTS = {"BankKeyId": KEY_ID, "EndpointURL": API_URL, "LedgerTableName": "bank-ledger-dev"}


# -- package -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """`bankdemo package --stage dev`, once for the module, from a fresh directory: its artefacts
    (in dist/dev/ there, the default) and what it printed."""
    root = tmp_path_factory.mktemp("repo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = runner.invoke(app, ["package", "--stage", "dev"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return preflight.Artefacts(root / "dist" / "dev"), result.output


def test_package_writes_the_template_and_the_zip_and_says_what_they_hold(packaged):
    artefacts, output = packaged
    assert artefacts.template_path.is_file() and artefacts.zip_path.is_file()
    assert "template  dist/dev/sam.yaml" in output and "zip       dist/dev/deployment.zip" in output
    size = artefacts.zip_path.stat().st_size / 1_000_000
    assert f"({size:.2f} MB)" in output
    counts = preflight.resource_counts(artefacts.template())
    assert counts["AWS::Serverless::Function"] == 5 and counts["AWS::SQS::Queue"] == 8
    for kind, count in counts.items():
        assert re.search(rf"{re.escape(kind)}\s*│\s*{count}\s*│", output), kind
    assert f"{sum(counts.values())} resources in the template" in output
    assert artefacts.check("dev") == artefacts  # packaged for dev: deployable as dev...
    with pytest.raises(preflight.DeployError, match="holds stage 'dev', not 'prod'"):
        artefacts.check("prod")  # ...not as prod


@pytest.mark.parametrize("command", ["package", "deploy", "destroy"])
@pytest.mark.parametrize("stage", ["qa", "local"])
def test_an_unknown_stage_is_a_usage_error_before_any_aws_call(counted, command, stage):
    result = runner.invoke(app, [command, "--stage", stage])
    assert result.exit_code == 2, result.output
    assert f"unknown stage '{stage}'" in result.output and "dev, prod" in result.output
    assert counted == []


# -- deploy: the credentials first -------------------------------------------------------------


@pytest.mark.parametrize(("command", "nothing"), [("deploy", "created"), ("destroy", "deleted")])
def test_without_credentials_it_stops_at_the_first_call_and_says_how_to_configure_them(
    counted, command, nothing
):
    result = runner.invoke(app, [command, "--stage", "dev", "--yes"])
    assert result.exit_code == 1, result.output
    text = squash(result.output)
    assert "no AWS credentials found" in text
    for how in ("aws configure", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "aws sts get-caller-identity"):
        assert how in text
    assert f"Nothing was {nothing}." in text
    assert counted == [("sts", "GetCallerIdentity")]  # the one call, refused before it left


def test_without_a_region_it_stops_before_any_call(counted, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = runner.invoke(app, ["deploy", "--stage", "dev"])
    assert result.exit_code == 1
    assert "no AWS region: pass --region" in squash(result.output)
    assert counted == []


def test_the_region_is_found_as_the_aws_cli_finds_it(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")  # what boto3 alone ignores
    assert preflight.open_session().region_name == "eu-central-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    assert preflight.open_session().region_name == "eu-central-1"  # AWS_REGION first, as the CLI v2
    assert preflight.open_session("ap-south-1").region_name == "ap-south-1"  # --region before both
    monkeypatch.delenv("AWS_REGION")
    assert preflight.open_session().region_name == "us-east-2"


def test_refused_credentials_stop_there_too(monkeypatch):
    session = StubbedSession()
    session.stub("sts").add_client_error(
        "get_caller_identity",
        service_error_code="InvalidClientTokenId",
        service_message="The security token included in the request is invalid.",
        http_status_code=403,
    )
    monkeypatch.setattr(deploy, "open_session", lambda region=None: session)
    result = runner.invoke(app, ["deploy", "--stage", "dev", "--yes"])
    assert result.exit_code == 1
    text = squash(result.output)
    assert "AWS refused the credentials" in text and "InvalidClientTokenId" in text
    assert "Nothing was created." in text
    assert session.operations() == [("sts", "GetCallerIdentity")]


# -- deploy: the plan, and "no" --------------------------------------------------------------


def test_the_plan_lists_every_resource_then_no_creates_nothing(aws, packaged):
    artefacts, _ = packaged
    result = runner.invoke(
        app,
        [
            "deploy",
            "--stage",
            "dev",
            "--package-dir",
            str(artefacts.directory),
            "--notifications-per-month",
            "250000",
        ],
        input="n\n",
    )
    assert result.exit_code == 1, result.output
    output = result.output
    for line in (f"account   {ACCOUNT}", f"region    {REGION}", "stage     dev", "stack     bank-dev"):
        assert line in output
    assert f"bucket    {BUCKET}" in output
    planned = preflight.resources(artefacts.template())
    assert len(planned) == len(artefacts.template()["Resources"]) > 30
    assert f"The {len(planned)} resources of the template" in output
    for name, kind in planned:
        assert re.search(rf"│ {re.escape(name)}\s+│ {re.escape(kind)}\s+│", output), (name, kind)
    total = costs.serverless_monthly(250_000).total
    assert f"estimated monthly cost: ${total:,.2f} at 250,000 notifications a month" in squash(output)
    assert "Deploy stack bank-dev to account 123456789012 in eu-west-1? [y/N]" in output
    assert "nothing was created." in output
    assert aws.operations() == [("sts", "GetCallerIdentity")]  # nothing after the prompt, nothing before it


def test_the_plan_says_when_the_calls_go_to_another_endpoint(aws, packaged, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    artefacts, _ = packaged
    result = runner.invoke(app, ["deploy", "--package-dir", str(artefacts.directory)], input="n\n")
    assert result.exit_code == 1
    assert "AWS_ENDPOINT_URL is set: every call goes to http://127.0.0.1:4566, not to AWS" in squash(
        result.output
    )
    assert aws.operations() == [("sts", "GetCallerIdentity")]


def test_the_local_demos_webhook_secret_is_refused(counted):
    result = runner.invoke(app, ["deploy", "--client-webhook-secret", "whsec-local-demo-only"])
    assert result.exit_code == 2
    assert counted == []


def test_the_cost_line_is_the_cost_models_total_and_its_largest_services():
    estimate = costs.serverless_monthly(1_000_000)
    line = preflight.cost_line(1_000_000)
    assert line.startswith(
        f"estimated monthly cost: ${estimate.total:,.2f} at 1,000,000 notifications a month"
    )
    biggest = next(iter(estimate.by_service()))
    assert f"({biggest} $" in line
    assert "`bankdemo cost --per-month 1000000`" in line


# -- deploy: yes -------------------------------------------------------------------------------


def test_yes_uploads_creates_the_stack_waits_and_stores_the_secrets_under_its_key(aws, packaged):
    artefacts, _ = packaged
    s3, cloudformation, ssm = aws.stub("s3"), aws.stub("cloudformation"), aws.stub("ssm")
    s3.add_response(
        "create_bucket",
        {"Location": f"http://{BUCKET}.s3.amazonaws.com/"},
        {"Bucket": BUCKET, "CreateBucketConfiguration": {"LocationConstraint": REGION}},
    )
    for _ in range(2):
        s3.add_response(
            "put_object",
            {"ETag": '"etag"'},
            {"Bucket": BUCKET, "Key": ANY, "Body": ANY, "ExpectedBucketOwner": ACCOUNT},
        )
    no_stack(aws)
    cloudformation.add_response(
        "create_stack",
        {"StackId": STACK_ID},
        {
            "StackName": "bank-dev",
            "TemplateURL": ANY,
            "Parameters": [
                {"ParameterKey": "Stage", "ParameterValue": "dev"},
                {"ParameterKey": "ClientWebhookUrl", "ParameterValue": "https://client.example/webhooks"},
            ],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Tags": [{"Key": "bank:stage", "Value": "dev"}],
            "OnFailure": "DELETE",
        },
    )
    cloudformation.add_response(
        "describe_stacks", stack("CREATE_COMPLETE", outputs=OUTPUTS), {"StackName": STACK_ID}
    )
    cloudformation.add_response(
        "describe_stack_events",
        events(
            ("e3", "bank-dev", "CREATE_COMPLETE", ""),
            ("e2", "NotificationsQueue", "CREATE_COMPLETE", ""),
            ("e1", "bank-dev", "CREATE_IN_PROGRESS", "User Initiated"),
        ),
        {"StackName": STACK_ID},
    )
    for name, overwrite in (
        ("/bank/dev/processor-signing-secret", False),
        ("/bank/dev/client-webhook-secret", True),
    ):
        ssm.add_response(
            "put_parameter",
            {"Version": 1, "Tier": "Standard"},
            {
                "Name": name,
                "Value": ANY,
                "Type": "SecureString",
                "KeyId": KEY_ID,
                "Overwrite": overwrite,
                "Description": ANY,
            },
        )
    result = runner.invoke(
        app,
        [
            *("deploy", "--stage", "dev", "--yes", "--package-dir", str(artefacts.directory)),
            *("--client-webhook-url", "https://client.example/webhooks"),
            *("--client-webhook-secret", "whsec-from-the-client"),
        ],
    )
    assert result.exit_code == 0, result.output
    aws.assert_all_answered()
    assert aws.operations() == [
        ("sts", "GetCallerIdentity"),
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "PutObject"),
        ("cloudformation", "DescribeStacks"),
        ("cloudformation", "CreateStack"),
        ("cloudformation", "DescribeStacks"),
        ("cloudformation", "DescribeStackEvents"),
        ("ssm", "PutParameter"),
        ("ssm", "PutParameter"),
    ]
    # the zip, under its content's hash; the template, its functions' code pointing at it
    zip_upload, template_upload = aws.params("PutObject")
    code = artefacts.zip_path.read_bytes()
    assert zip_upload["Key"] == f"dev/{hashlib.sha256(code).hexdigest()}.zip" and zip_upload["Body"] == code
    body = template_upload["Body"]
    assert template_upload["Key"] == f"dev/{hashlib.sha256(body).hexdigest()}.template.json"
    uploaded, original = json.loads(body), artefacts.template()
    for name, resource in original["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert uploaded["Resources"][name]["Properties"]["CodeUri"] == {
                "Bucket": BUCKET,
                "Key": zip_upload["Key"],
            }
            resource["Properties"]["CodeUri"] = uploaded["Resources"][name]["Properties"]["CodeUri"]
    assert uploaded == original  # nothing else changed
    [create] = aws.params("CreateStack")
    assert create["TemplateURL"] == f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{template_upload['Key']}"
    signing, client = aws.params("PutParameter")
    assert re.fullmatch(r"[0-9a-f]{64}", signing["Value"])  # random
    assert client["Value"] == "whsec-from-the-client"  # given: replaces the stored one
    output = squash(result.output)
    assert "NotificationsQueue (AWS::SQS::Queue)" in output  # the events, as they came
    assert output.index("CREATE_IN_PROGRESS") < output.index("NotificationsQueue (AWS::SQS::Queue)")
    assert API_URL in output and "Deployed. The API:" in output
    assert "whsec-from-the-client" not in output and signing["Value"] not in output  # no secret printed


# -- deploy: an update, and what waiting sees --------------------------------------------------


@pytest.fixture
def tiny(tmp_path):
    """Artefacts of a one-function template: enough for the calls of an update."""
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        },
    }
    (tmp_path / "sam.yaml").write_text(yaml.safe_dump(template))
    (tmp_path / "deployment.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    return preflight.Artefacts(tmp_path).check("dev")


def identity() -> preflight.Identity:
    return preflight.Identity(account=ACCOUNT, arn=IDENTITY["Arn"], region=REGION)


def test_a_redeploy_updates_keeps_the_url_and_the_secrets_under_the_key_and_replaces_the_others(tiny):
    session, said, slept = StubbedSession(), [], []
    s3, cloudformation, ssm = session.stub("s3"), session.stub("cloudformation"), session.stub("ssm")
    s3.add_client_error("create_bucket", service_error_code="BucketAlreadyOwnedByYou", http_status_code=409)
    s3.add_response("put_object", {})
    s3.add_response("put_object", {})
    cloudformation.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": "bank-dev"})
    cloudformation.add_response("describe_stack_events", events(("old", "bank-dev", "UPDATE_COMPLETE", "")))
    cloudformation.add_response(
        "update_stack",
        {"StackId": STACK_ID},
        {
            "StackName": "bank-dev",
            "TemplateURL": ANY,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Tags": ANY,
            "Parameters": [
                {"ParameterKey": "Stage", "ParameterValue": "dev"},
                {"ParameterKey": "ClientWebhookUrl", "UsePreviousValue": True},
            ],
        },
    )
    cloudformation.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"))
    cloudformation.add_response(
        "describe_stack_events",
        events(
            ("new", "bank-dev", "UPDATE_IN_PROGRESS", "User Initiated"),
            ("old", "bank-dev", "UPDATE_COMPLETE", ""),
        ),
    )
    cloudformation.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs=OUTPUTS))
    cloudformation.add_response("describe_stack_events", events(("done", "bank-dev", "UPDATE_COMPLETE", "")))
    exists = {"service_error_code": "ParameterAlreadyExists", "http_status_code": 400}
    ssm.add_client_error("put_parameter", **exists)
    ssm.add_response(
        "describe_parameters",
        {"Parameters": [{"Name": "s", "KeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"}]},
    )
    ssm.add_client_error("put_parameter", **exists)
    ssm.add_response(
        "describe_parameters", {"Parameters": [{"Name": "c", "KeyId": "0000-a-deleted-stacks-key"}]}
    )
    ssm.add_response(
        "put_parameter",
        {"Version": 2},
        {
            "Name": "/bank/dev/client-webhook-secret",
            "Value": ANY,
            "Type": "SecureString",
            "KeyId": KEY_ID,
            "Description": ANY,
            "Overwrite": True,
        },
    )
    deployment = deploy.Deployment(session, identity(), say=said.append, sleep=slept.append)
    plan = preflight.make_plan(identity(), "dev", tiny.template(), 1000)
    outputs = deployment.deploy(plan, tiny)
    session.assert_all_answered()
    assert outputs == OUTPUTS
    assert slept == [deploy.POLL_SECONDS]
    shown = "\n".join(said)
    assert "reusing the deploy bucket" in shown
    # the events of the update, not the earlier ones: "old" was there before it began
    assert [line.split()[1] for line in said if line.startswith("  ")] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    assert "kept /bank/dev/processor-signing-secret" in shown
    assert "replaced /bank/dev/client-webhook-secret: it was encrypted with another key" in shown


def test_a_failed_creation_says_the_first_failure_and_that_cloudformation_cleaned_up():
    session, said = StubbedSession(), []
    cloudformation = session.stub("cloudformation")
    cloudformation.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"))
    cloudformation.add_response(
        "describe_stack_events",
        events(
            ("e3", "AuditQueue", "CREATE_FAILED", "Resource creation cancelled"),
            (
                "e2",
                "LedgerTable",
                "CREATE_FAILED",
                "User: deployer is not authorized to perform: dynamodb:CreateTable",
            ),
            ("e1", "bank-dev", "CREATE_IN_PROGRESS", "User Initiated"),
        ),
    )
    cloudformation.add_response("describe_stacks", stack("DELETE_COMPLETE"))
    cloudformation.add_response("describe_stack_events", events(("e4", "bank-dev", "DELETE_COMPLETE", "")))
    deployment = deploy.Deployment(session, identity(), say=said.append, sleep=lambda s: None)
    with pytest.raises(preflight.DeployError) as raised:
        deployment.wait(STACK_ID, set(), {"CREATE_COMPLETE"}, timeout=600)
    message = str(raised.value)
    assert "ended DELETE_COMPLETE" in message
    assert "LedgerTable: User: deployer is not authorized to perform: dynamodb:CreateTable" in message
    assert "CloudFormation deleted what it had created" in message
    assert [line.split()[2] for line in said] == ["bank-dev", "LedgerTable", "AuditQueue", "bank-dev"]


def test_waiting_gives_up_at_the_deadline():
    session = StubbedSession()
    cloudformation = session.stub("cloudformation")
    for _ in range(2):
        cloudformation.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"))
        cloudformation.add_response("describe_stack_events", events())
    clock = iter([0.0, 5.0, 11.0])
    deployment = deploy.Deployment(
        session, identity(), say=lambda s: None, sleep=lambda s: None, clock=lambda: next(clock)
    )
    with pytest.raises(preflight.DeployError, match="still CREATE_IN_PROGRESS after 0 min: follow it"):
        deployment.wait(STACK_ID, set(), {"CREATE_COMPLETE"}, timeout=10)
    session.assert_all_answered()


def test_a_stack_that_cannot_be_updated_is_refused_before_any_change(tiny):
    session = StubbedSession()
    session.stub("s3").add_response("create_bucket", {})
    session.stub("s3").add_response("put_object", {})
    session.stub("s3").add_response("put_object", {})
    session.stub("cloudformation").add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
    deployment = deploy.Deployment(session, identity(), say=lambda s: None)
    with pytest.raises(
        preflight.DeployError, match="ROLLBACK_COMPLETE and cannot be updated: `bankdemo destroy"
    ):
        deployment.deploy(preflight.make_plan(identity(), "dev", tiny.template(), 1), tiny)
    assert ("cloudformation", "UpdateStack") not in session.operations()


# -- destroy -----------------------------------------------------------------------------------


def stack_resources() -> dict[str, Any]:
    rows = [
        ("LedgerTable", "AWS::DynamoDB::Table", "bank-ledger-dev"),
        ("BankKey", "AWS::KMS::Key", KEY_ID),
        (
            "NotificationsQueue",
            "AWS::SQS::Queue",
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/bank-notifications",
        ),
    ]
    return {
        "StackResources": [
            {
                "StackName": "bank-dev",
                "StackId": STACK_ID,
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": kind,
                "Timestamp": NOW,
                "ResourceStatus": "CREATE_COMPLETE",
            }
            for logical, kind, physical in rows
        ]
    }


def queue_survey(session: StubbedSession) -> None:
    cloudformation = session.stub("cloudformation")
    cloudformation.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": "bank-dev"})
    cloudformation.add_response("describe_stack_resources", stack_resources(), {"StackName": STACK_ID})
    template = {
        "Resources": {
            "LedgerTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "BankKey": {"Type": "AWS::KMS::Key"},
            "NotificationsQueue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
        }
    }
    cloudformation.add_response(
        "get_template", {"TemplateBody": json.dumps(template)}, {"StackName": STACK_ID}
    )


def test_destroy_deletes_the_stack_the_secrets_and_uploads_then_lists_what_is_left(aws):
    queue_survey(aws)
    cloudformation, ssm, s3, logs = (
        aws.stub("cloudformation"),
        aws.stub("ssm"),
        aws.stub("s3"),
        aws.stub("logs"),
    )
    cloudformation.add_response("describe_stack_events", events(("e1", "bank-dev", "CREATE_COMPLETE", "")))
    cloudformation.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cloudformation.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cloudformation.add_response(
        "describe_stack_events",
        events(("e3", "bank-dev", "DELETE_COMPLETE", ""), ("e2", "LedgerTable", "DELETE_SKIPPED", "")),
    )
    names = [
        "/bank/dev/processor-signing-secret",
        "/bank/dev/client-webhook-secret",
        "/bank/dev/processor-signing-secret-previous",
    ]
    ssm.add_response(
        "delete_parameters",
        {"DeletedParameters": names[:2], "InvalidParameters": names[2:]},
        {"Names": names},
    )
    s3.add_response(
        "list_objects_v2",
        {
            "Contents": [{"Key": "dev/a.zip"}, {"Key": "dev/b.template.json"}],
            "KeyCount": 2,
            "IsTruncated": False,
        },
        {"Bucket": BUCKET, "Prefix": "dev/"},
    )
    s3.add_response(
        "delete_objects",
        {"Deleted": [{"Key": "dev/a.zip"}, {"Key": "dev/b.template.json"}]},
        {
            "Bucket": BUCKET,
            "Delete": {"Objects": [{"Key": "dev/a.zip"}, {"Key": "dev/b.template.json"}], "Quiet": True},
        },
    )
    logs.add_response(
        "describe_log_groups",
        {"logGroups": [{"logGroupName": "/aws/lambda/bank-dev-APIHandler-Ab12Cd34"}]},
        {"logGroupNamePrefix": "/aws/lambda/bank-dev-"},
    )
    ssm.add_response(
        "describe_parameters",
        {"Parameters": []},
        {"ParameterFilters": [{"Key": "Name", "Option": "BeginsWith", "Values": ["/bank/dev/"]}]},
    )
    s3.add_response(
        "list_objects_v2",
        {"KeyCount": 3, "IsTruncated": False},
        {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT},
    )
    result = runner.invoke(app, ["destroy", "--stage", "dev", "--yes"])
    assert result.exit_code == 0, result.output
    aws.assert_all_answered()
    assert aws.operations() == [
        ("sts", "GetCallerIdentity"),
        ("cloudformation", "DescribeStacks"),
        ("cloudformation", "DescribeStackResources"),
        ("cloudformation", "GetTemplate"),
        ("cloudformation", "DescribeStackEvents"),
        ("cloudformation", "DeleteStack"),
        ("cloudformation", "DescribeStacks"),
        ("cloudformation", "DescribeStackEvents"),
        ("ssm", "DeleteParameters"),
        ("s3", "ListObjectsV2"),
        ("s3", "DeleteObjects"),
        ("logs", "DescribeLogGroups"),
        ("ssm", "DescribeParameters"),
        ("s3", "ListObjectsV2"),
    ]
    output = squash(result.output)
    assert "Retain: kept" in output  # said before the deletion
    assert "deleted 2 object(s)" in output
    assert "Left behind in eu-west-1: 4" in output
    for line in (
        "AWS::DynamoDB::Table LedgerTable (DeletionPolicy Retain: retained): bank-ledger-dev "
        "to remove it: aws dynamodb delete-table --table-name bank-ledger-dev --region eu-west-1",
        "AWS::KMS::Key BankKey, pending deletion",
        "/aws/lambda/bank-dev-APIHandler-Ab12Cd34 to remove it: aws logs delete-log-group "
        "--log-group-name /aws/lambda/bank-dev-APIHandler-Ab12Cd34 --region eu-west-1",
        f"(3 objects): {BUCKET} to remove it: aws s3 rb s3://{BUCKET} --force --region eu-west-1",
    ):
        assert line in output, line
    assert "NotificationsQueue (" not in output.split("Left behind")[1]  # deleted with the stack


def test_destroy_answered_no_deletes_nothing(aws):
    queue_survey(aws)
    result = runner.invoke(app, ["destroy", "--stage", "dev"], input="n\n")
    assert result.exit_code == 1
    assert "nothing was deleted." in result.output
    assert "Destroy stage dev in eu-west-1? [y/N]" in result.output
    assert aws.operations() == [
        ("sts", "GetCallerIdentity"),
        ("cloudformation", "DescribeStacks"),
        ("cloudformation", "DescribeStackResources"),
        ("cloudformation", "GetTemplate"),
    ]


def test_a_leftover_check_that_fails_is_reported_not_raised():
    session = StubbedSession()
    session.stub("logs").add_client_error("describe_log_groups", service_error_code="AccessDeniedException")
    session.stub("ssm").add_response(
        "describe_parameters", {"Parameters": [{"Name": "/bank/dev/client-webhook-url", "Type": "String"}]}
    )
    session.stub("s3").add_client_error(
        "list_objects_v2", service_error_code="NoSuchBucket", http_status_code=404
    )
    left = deploy.Deployment(session, identity()).leftovers("dev", deploy.Survey(stack=None), BUCKET)
    assert [item.name for item in left] == [
        "log groups /aws/lambda/bank-dev-*",
        "/bank/dev/client-webhook-url",
    ]
    assert "could not check" in left[0].what and "AccessDeniedException" in left[0].what


# -- the deploying user's IAM policy -----------------------------------------------------------

# cfn-lint's copies of the CloudFormation resource schemas (with the permissions each handler
# needs) and of the Service Authorization Reference.
SCHEMAS = resources.files("cfnlint.data.schemas")
PROVIDERS = json.loads(SCHEMAS.joinpath("providers", f"{REGION}.json").read_text())
SERVICE_AUTHORIZATION = json.loads(
    resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
)
# What the SAM transform makes of its resources in our template: Chalice gives each function its
# role, and its SQS events become event source mappings; the API a REST API, its deployment and stage.
SAM = {
    "AWS::Serverless::Function": ["AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping"],
    "AWS::Serverless::Api": [
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
    ],
}
# What the handlers of our resource types list, and the policy does not grant: each for a
# property the template does not set (the handlers list the permissions of every property).
NOT_GRANTED = {
    "dynamodb:AssociateTableReplica": "no Replicas",
    "dynamodb:CreateTableReplica": "no Replicas",
    "iam:CreateServiceLinkedRole": "DynamoDB's, for replicas and auto scaling: neither is used",
    "dynamodb:ImportTable": "no ImportSourceSpecification",
    "dynamodb:DescribeImport": "no ImportSourceSpecification",
    "s3:GetObjectMetadata": "an import's source (and no IAM action)",
    **dict.fromkeys(
        ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "an import's error log (no ImportSourceSpecification); the functions log with their own roles",
    ),
    **dict.fromkeys(
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        "item access, for imports and replicas: the deployer never reads nor writes the ledger's items",
    ),
    **dict.fromkeys(
        [
            "dynamodb:EnableKinesisStreamingDestination",
            "dynamodb:DisableKinesisStreamingDestination",
            "dynamodb:UpdateKinesisStreamingDestination",
            "kinesis:DescribeStream",
            "kinesis:PutRecords",
        ],
        "no KinesisStreamSpecification",
    ),
    "dynamodb:UpdateContributorInsights": "no ContributorInsightsSpecification",
    "dynamodb:UpdateTimeToLive": "no TimeToLiveSpecification",
    "dynamodb:PutResourcePolicy": "no ResourcePolicy on the tables",
    "dynamodb:DeleteResourcePolicy": "no ResourcePolicy on the tables",
    "events:PutPermission": "no Policy on the bus",
    **dict.fromkeys(
        ["kms:ReEncrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"],
        "no KmsKeyIdentifier on the bus",
    ),
    "kms:EnableKey": "Enabled is not set: the key stays enabled",
    "kms:DisableKey": "Enabled is not set: the key stays enabled",
    "kms:DisableKeyRotation": "EnableKeyRotation stays true",
    "iam:AttachRolePolicy": "no managed policy on the roles (test_iam checks it): nor can the deployer attach one",
    "iam:DetachRolePolicy": "no managed policy on the roles",
    "iam:PutRolePermissionsBoundary": "no PermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary": "no PermissionsBoundary",
    **dict.fromkeys(
        ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
        "no VpcConfig on the functions",
    ),
    "elasticfilesystem:DescribeMountTargets": "no FileSystemConfigs",
    "s3files:ListMountTargets": "no FileSystemConfigs",
    "lambda:PutFunctionConcurrency": "no ReservedConcurrentExecutions",
    "lambda:DeleteFunctionConcurrency": "no ReservedConcurrentExecutions",
    "lambda:GetLayerVersion": "no Layers",
    "lambda:GetCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:PutFunctionCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:DeleteFunctionCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:PutRuntimeManagementConfig": "no RuntimeManagementConfig",
    "lambda:PutFunctionRecursionConfig": "no RecursiveLoop",
    "lambda:PutFunctionScalingConfig": "no capacity provider",
    "lambda:PassCapacityProvider": "no capacity provider",
    "lambda:AssociateRuntimeAlias": "no runtime alias",
    "lambda:PublishVersion": "no AutoPublishAlias: no versions",
    "apigateway:UpdateRestApiPolicy": "no Policy on the API",
    **dict.fromkeys(
        [
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
        ],
        "no KmsKeyId on the log groups: CloudWatch's own encryption",
    ),
    "logs:PutDataProtectionPolicy": "no DataProtectionPolicy",
    "logs:CreateLogDelivery": "no log delivery",
    "firehose:TagDeliveryStream": "no log delivery",
    "s3:REST.PUT.OBJECT": "no log delivery (and no IAM action)",
    "logs:PutResourcePolicy": "no ResourcePolicyDocument",
    "logs:DeleteResourcePolicy": "no ResourcePolicyDocument",
    "logs:PutIndexPolicy": "no FieldIndexPolicies",
    "logs:DeleteIndexPolicy": "no FieldIndexPolicies",
    "logs:PutBearerTokenAuthentication": "no BearerTokenAuthenticationEnabled",
    "logs:PutLogGroupDeletionProtection": "no DeletionProtectionEnabled",
}
# What demo/aws/deploy.py and demo/aws/preflight.py call themselves, and the action each needs
# (sts:GetCallerIdentity needs none).
DEPLOY_CALLS = {
    "create_bucket": "s3:CreateBucket",
    "put_object": "s3:PutObject",
    "list_objects_v2": "s3:ListBucket",
    "delete_objects": "s3:DeleteObject",
    "describe_stacks": "cloudformation:DescribeStacks",
    "describe_stack_events": "cloudformation:DescribeStackEvents",
    "describe_stack_resources": "cloudformation:DescribeStackResources",
    "get_template": "cloudformation:GetTemplate",
    "create_stack": "cloudformation:CreateStack",
    "update_stack": "cloudformation:UpdateStack",
    "delete_stack": "cloudformation:DeleteStack",
    "put_parameter": "ssm:PutParameter",
    "describe_parameters": "ssm:DescribeParameters",
    "delete_parameters": "ssm:DeleteParameters",
    "describe_log_groups": "logs:DescribeLogGroups",
}


def statements() -> list[dict[str, Any]]:
    policy = json.loads(POLICY.read_text())
    assert policy["Version"] == "2012-10-17"
    return policy["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted() -> set[str]:
    return {action for s in statements() for action in as_list(s["Action"])}


def handler_permissions(kind: str) -> set[str]:
    schema = json.loads(SCHEMAS.joinpath("resources", f"{PROVIDERS[kind]}.json").read_text())
    return {
        p
        for h in ("create", "read", "update", "delete")
        for p in schema["handlers"].get(h, {}).get("permissions", [])
    }


def expanded_types(template: dict[str, Any]) -> set[str]:
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    return {t for kind in kinds for t in SAM.get(kind, [kind])}


def test_the_deployer_policy_is_valid_json_and_names_only_real_actions():
    for statement in statements():
        assert statement["Effect"] == "Allow" and statement["Sid"], statement
        assert not {"NotAction", "NotResource"} & set(statement)
        for action in as_list(statement["Action"]):
            service, name = action.split(":")
            assert "*" not in action, action
            assert name.lower() in SERVICE_AUTHORIZATION[service]["Actions"], action


def test_the_deployer_policy_covers_every_service_of_the_template(packaged):
    artefacts, _ = packaged
    prefixes = {action.split(":")[0] for action in granted()}
    for kind in {r["Type"] for r in artefacts.template()["Resources"].values()}:
        _, service, resource = kind.split("::")
        if service == "Serverless":  # what the transform makes of it
            prefix = {"Function": "lambda", "Api": "apigateway"}[resource]
        else:
            prefix = {"StepFunctions": "states"}.get(service, service.lower())
        assert prefix in prefixes, kind


def test_the_deployer_policy_grants_what_cloudformation_needs_for_each_resource_but_the_unused(packaged):
    artefacts, _ = packaged
    needed = {p for kind in expanded_types(artefacts.template()) for p in handler_permissions(kind)}
    missing = needed - granted() - set(NOT_GRANTED)
    assert not missing, f"grant these, or say in NOT_GRANTED why not: {sorted(missing)}"
    assert not set(NOT_GRANTED) & granted(), "granted after all: drop from NOT_GRANTED"
    assert set(NOT_GRANTED) <= needed, f"stale: {sorted(set(NOT_GRANTED) - needed)}"
    assert all(NOT_GRANTED.values())


def test_the_deployer_policy_grants_what_the_deploy_script_calls():
    source = "\n".join(Path(module.__file__).read_text() for module in (preflight, deploy))
    for call, action in DEPLOY_CALLS.items():
        assert re.search(rf"[.\"]{call}[(\"]", source), (
            f"deploy.py and preflight.py no longer call {call}: drop it"
        )
        assert action in granted(), action
    for service in ("s3", "cloudformation", "ssm", "logs", "sts"):  # and nothing else of these clients
        model = botocore.session.get_session().get_service_model(service)
        operations = {botocore.xform_name(op) for op in model.operation_names}
        used = {op for op in operations if re.search(rf"[.\"]{op}[(\"]", source)}
        assert used <= set(DEPLOY_CALLS) | {"get_caller_identity"}, f"{service}: {used - set(DEPLOY_CALLS)}"


# The resources the policy names without naming the bank, and why.
NOT_THE_BANKS_NAME = {
    "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31": "AWS's SAM transform, run for the stack",
    "arn:aws:lambda:*:*:event-source-mapping:*": "a mapping's id is a random UUID; creating one names its function",
    "arn:aws:apigateway:*::/restapis": "creating the API: its id is random",
    "arn:aws:apigateway:*::/restapis/*": "the API, its deployment and stage: the id is random",
    "arn:aws:apigateway:*::/tags/*": "tagging the API's stage",
    "arn:aws:kms:*:*:key/*": "the key's id is random; its uses through a service are bound to DynamoDB and SSM",
    "arn:aws:states:*:*:stateMachine:large-payment-review": "the bank's review workflow (resources.yaml names it)",
}


def test_the_deployer_policy_names_the_banks_resources_and_takes_a_wildcard_only_where_iam_must():
    unnamed = set()
    for statement in statements():
        if as_list(statement["Resource"]) != ["*"]:
            for resource in as_list(statement["Resource"]):
                if "bank" not in resource:
                    assert resource in NOT_THE_BANKS_NAME, resource
                    unnamed.add(resource)
            continue
        for action in as_list(statement["Action"]):
            service, name = action.split(":")
            types = SERVICE_AUTHORIZATION[service]["Actions"][name.lower()].get("Resources")
            assert not types or "Condition" in statement, f"{action} can name its resource"
    assert unnamed == set(NOT_THE_BANKS_NAME), "stale entries"


# -- the whole flow on moto --------------------------------------------------------------------


def without_sam(template: dict[str, Any]) -> dict[str, Any]:
    """The packaged template minus what only AWS can deploy: moto does not expand the SAM
    transform, so the functions, the API and their permission go, and what refers to them."""
    out = copy.deepcopy(template)
    gone = {
        name
        for name, r in out["Resources"].items()
        if r["Type"].startswith("AWS::Serverless::") or r["Type"] == "AWS::Lambda::Permission"
    } | {"RestAPI"}
    out.pop("Transform")
    out["Resources"] = {name: r for name, r in out["Resources"].items() if name not in gone}
    out["Outputs"] = {
        name: o for name, o in out["Outputs"].items() if not any(g in json.dumps(o) for g in gone)
    }
    out["Resources"]["LedgerTable"]["DeletionPolicy"] = "Retain"  # something for the report
    return out


# A moto server in a process of its own: moto's state is per process, and a `mock_aws` here would
# reset the local cloud that other tests on this pytest-xdist worker are using.
MOTO_SERVER = (
    "import sys; from moto.server import ThreadedMotoServer; "
    "s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False); s.start(); "
    "print(s.get_host_and_port()[1], flush=True); sys.stdin.read()"
)


@pytest.fixture
def moto_endpoint(monkeypatch):
    server = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # moto takes any
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stdin.close()  # its stdin closes: it exits
        server.wait(timeout=30)


# moto skips the QueuePolicy (not supported), which the flow does not need
def test_deploy_then_destroy_on_moto_without_the_sam_resources(packaged, tmp_path, moto_endpoint):
    import boto3

    artefacts, _ = packaged
    (tmp_path / "sam.yaml").write_text(yaml.safe_dump(without_sam(artefacts.template())))
    (tmp_path / "deployment.zip").write_bytes(artefacts.zip_path.read_bytes())
    # every client below, the CLI's included, goes to moto_endpoint (AWS_ENDPOINT_URL)
    result = runner.invoke(app, ["deploy", "--stage", "dev", "--yes", "--package-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"every call goes to {moto_endpoint}" in squash(result.output)
    ssm = boto3.client("ssm", region_name=REGION)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName="bank-dev")[
            "Stacks"
        ][0]["Outputs"]
    }
    for name in preflight.secret_parameters("dev").values():
        [found] = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        assert found["Type"] == "SecureString" and found["KeyId"] == outputs["BankKeyId"]
    assert boto3.client("sqs", region_name=REGION).get_queue_url(QueueName="bank-notifications")["QueueUrl"]
    boto3.client("logs", region_name=REGION).create_log_group(
        logGroupName="/aws/lambda/bank-dev-write_audit-late"
    )

    result = runner.invoke(app, ["destroy", "--stage", "dev", "--yes"])
    assert result.exit_code == 0, result.output
    output = squash(result.output)
    assert "aws dynamodb delete-table --table-name bank-ledger-dev --region eu-west-1" in output
    assert "aws logs delete-log-group --log-group-name /aws/lambda/bank-dev-write_audit-late" in output
    assert f"aws s3 rb s3://{BUCKET} --force" in output
    assert not ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/bank/dev/"]}]
    )["Parameters"]
    assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
