"""Shipping one stage to AWS, in boto3: what ``aws cloudformation package`` and ``deploy`` do, with a plan first.

The steps, each a few boto3 calls (``bankdemo deploy`` and ``bankdemo destroy`` print and confirm
around them, demo/cli/ship.py):

1. :func:`check_credentials`: ``sts:GetCallerIdentity``, before anything else. No credentials, no
   region or refused credentials stop here, with nothing created.
2. :func:`make_plan`: the account, the region, the stack and every resource of the packaged
   template, and the cost estimate. No AWS call.
3. :meth:`Deployment.deploy`: the deploy bucket (``bank-deploy-<account>-<region>``), the zip and
   the template uploaded to it (the functions' ``CodeUri`` pointing at the zip), the stack
   created or updated from the template's S3 URL, its events printed until it completes, then the
   two signing secrets stored as SecureStrings under the stack's KMS key (CloudFormation cannot
   create a SecureString).
4. :meth:`Deployment.survey`, :meth:`Deployment.destroy`, :meth:`Deployment.leftovers`: what the
   stack holds, its deletion, the secrets and uploads removed, and what is still there after.

Steps 1 and 2, and the packaged artefacts, are in ``demo.aws.preflight``: this module holds the
calls that change the account (3 and 4), and hands on what demo/cli/ship.py takes from the
preflight, so that the command finds every step here.

Every client comes from the session given, so that tests hand in clients stubbed with botocore's
Stubber, and the tests of the CLI a session whose every call is counted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import yaml

from demo.aws import cfn
from demo.aws.preflight import (
    APP,
    client,
    template_url,
    with_code_location,
)

# What demo/cli/ship.py calls here besides: the tests of the CLI stub open_session and build on
# this module, where the command looks them up.
from demo.aws.preflight import Artefacts as Artefacts
from demo.aws.preflight import DeployError as DeployError
from demo.aws.preflight import Identity as Identity
from demo.aws.preflight import Plan as Plan
from demo.aws.preflight import bucket_name as bucket_name
from demo.aws.preflight import build as build
from demo.aws.preflight import check_credentials as check_credentials
from demo.aws.preflight import make_plan as make_plan
from demo.aws.preflight import open_session as open_session
from demo.aws.preflight import resource_counts as resource_counts
from demo.aws.preflight import secret_parameters as secret_parameters
from demo.aws.preflight import stack_name as stack_name

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_cloudformation.client import CloudFormationClient
    from types_boto3_cloudformation.type_defs import (
        ParameterTypeDef,
        StackEventTypeDef,
        StackResourceTypeDef,
        StackTypeDef,
    )
    from types_boto3_logs.client import CloudWatchLogsClient
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef
    from types_boto3_ssm.client import SSMClient
    from types_boto3_ssm.type_defs import ParameterStringFilterTypeDef

    class _SecureString(TypedDict):
        """PutParameter's arguments but Overwrite, which each call passes."""

        Name: str
        Value: str
        Type: Literal["SecureString"]
        KeyId: str
        Description: str


# CAPABILITY_IAM: the template creates roles (generated names, hence not CAPABILITY_NAMED_IAM).
# CAPABILITY_AUTO_EXPAND: it holds the AWS::Serverless transform, a macro, expanded on AWS.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
POLL_SECONDS = 10.0
TIMEOUT_SECONDS = 45 * 60.0
PREVIOUS_SUFFIX = "-previous"  # chalicelib.secrets: where a rotation keeps the previous signing secret


@dataclass(frozen=True)
class Leftover:
    """Something still in the account after a destroy, and how to remove it."""

    what: str
    name: str
    remove: str


@dataclass
class Survey:
    """What ``destroy`` finds before deleting anything."""

    stack: StackTypeDef | None
    resources: list[StackResourceTypeDef] = field(default_factory=list)
    retained: dict[str, str] = field(default_factory=dict)  # logical id -> its DeletionPolicy


# The DeletionPolicy values that leave something behind when the stack goes.
KEPT = {"Retain": "retained", "RetainExceptOnCreate": "retained", "Snapshot": "a final snapshot kept"}
# How to remove a resource CloudFormation left behind, by type ({name}: its physical id).
REMOVE = {
    "AWS::DynamoDB::Table": "aws dynamodb delete-table --table-name {name}",
    "AWS::Logs::LogGroup": "aws logs delete-log-group --log-group-name {name}",
    "AWS::SQS::Queue": "aws sqs delete-queue --queue-url {name}",
    "AWS::S3::Bucket": "aws s3 rb s3://{name} --force",
    "AWS::KMS::Key": "aws kms schedule-key-deletion --key-id {name} --pending-window-in-days 7",
    "AWS::SSM::Parameter": "aws ssm delete-parameter --name {name}",
    "AWS::Events::EventBus": "aws events delete-event-bus --name {name}",
    "AWS::StepFunctions::StateMachine": "aws stepfunctions delete-state-machine --state-machine-arn {name}",
    "AWS::IAM::Role": "delete its inline policies, then aws iam delete-role --role-name {name}",
}


def template_body(body: Any) -> dict[str, Any]:
    """GetTemplate's TemplateBody: botocore decodes JSON into a dict; YAML comes as text."""
    if isinstance(body, dict):
        return body
    template: dict[str, Any] = yaml.load(body, Loader=cfn._CfnLoader)  # noqa: S506 - a SafeLoader subclass
    return template


class Deployment:
    """The AWS calls of a deploy and of a destroy, on one session's clients."""

    def __init__(
        self,
        session: Any,
        identity: Identity,
        say: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.identity = identity
        self._session = session
        self._clients: dict[str, Any] = {}
        self._say, self._sleep, self._clock, self._poll = say, sleep, clock, poll_seconds

    @overload
    def client(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def client(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["ssm"]) -> SSMClient: ...
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(self._session, service)
        return self._clients[service]

    # --8<-- [start:deploy]
    def deploy(
        self,
        plan: Plan,
        artefacts: Artefacts,
        client_webhook_secret: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> dict[str, str]:
        """Upload, create or update the stack, wait for it, store the secrets; the stack's outputs."""
        self.ensure_bucket(plan.bucket)
        url = self.upload(plan, artefacts)
        started = self.create_or_update(plan, url)
        if started is None:
            stack = self.describe(plan.stack)
        else:
            stack_id, seen = started
            stack = self.wait(stack_id, seen, {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, timeout)
        if stack is None:
            raise DeployError(f"the stack {plan.stack} is gone: see its events in the CloudFormation console")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.store_secrets(plan.stage, outputs["BankKeyId"], client_webhook_secret)
        return outputs

    # --8<-- [end:deploy]

    def ensure_bucket(self, bucket: str) -> None:
        """Create the deploy bucket, or reuse it. New buckets block public access, take no ACL
        and encrypt what they hold (S3's defaults since 2023): nothing more to set."""
        import botocore.exceptions

        kwargs: dict[str, Any] = {"Bucket": bucket}
        if self.identity.region != "us-east-1":  # us-east-1 takes no location constraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.identity.region}
        try:
            self.client("s3").create_bucket(**kwargs)
            self._say(f"created the deploy bucket {bucket}")
        except botocore.exceptions.ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "BucketAlreadyOwnedByYou":
                self._say(f"reusing the deploy bucket {bucket}")
                return
            if code == "BucketAlreadyExists":
                raise DeployError(
                    f"the bucket {bucket} exists in another account: nothing was deployed"
                ) from None
            raise

    def upload(self, plan: Plan, artefacts: Artefacts) -> str:
        """Put the zip and the template (pointing at the zip) in the bucket; the template's URL.

        Keys are content hashes, as ``aws cloudformation package`` names them: an unchanged zip
        keeps its key, and CloudFormation leaves an unchanged function alone.
        """
        code = artefacts.zip_path.read_bytes()
        zip_key = f"{plan.stage}/{hashlib.sha256(code).hexdigest()}.zip"
        self._put(plan.bucket, zip_key, code)
        template = with_code_location(artefacts.template(), plan.bucket, zip_key)
        body = json.dumps(template, indent=1).encode()
        template_key = f"{plan.stage}/{hashlib.sha256(body).hexdigest()}.template.json"
        self._put(plan.bucket, template_key, body)
        return template_url(plan.bucket, self.identity.region, template_key)

    def _put(self, bucket: str, key: str, body: bytes) -> None:
        # ExpectedBucketOwner: never upload into a bucket of the same name in someone else's account
        self.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body, ExpectedBucketOwner=self.identity.account
        )
        self._say(f"uploaded s3://{bucket}/{key} ({len(body) / 1_000_000:.2f} MB)")

    def describe(self, stack: str) -> StackTypeDef | None:
        """The stack (by name or id), or None if there is none."""
        import botocore.exceptions

        try:
            return self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        except botocore.exceptions.ClientError as error:
            if "does not exist" in error.response["Error"].get("Message", ""):
                return None
            raise

    def create_or_update(self, plan: Plan, url: str) -> tuple[str, set[str]] | None:
        """Start the stack's creation or update: its id and the events already seen; None if no change."""
        import botocore.exceptions

        cloudformation = self.client("cloudformation")
        existing = self.describe(plan.stack)
        parameters: list[ParameterTypeDef] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in plan.parameters.items()
        ]
        arguments: dict[str, Any] = {
            "StackName": plan.stack,
            "TemplateURL": url,
            "Capabilities": CAPABILITIES,
            "Tags": [{"Key": f"{APP}:stage", "Value": plan.stage}],
        }
        if existing is None:
            self._say(f"creating the stack {plan.stack}...")
            # OnFailure DELETE: a failed first deploy leaves no stack to delete by hand
            answer = cloudformation.create_stack(**arguments, Parameters=parameters, OnFailure="DELETE")
            return answer["StackId"], set()
        status = existing["StackStatus"]
        if status.endswith("_IN_PROGRESS"):
            raise DeployError(f"the stack {plan.stack} is {status}: wait until it is done, then deploy again")
        if status in {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}:
            raise DeployError(
                f"the stack {plan.stack} is {status} and cannot be updated: "
                f"`bankdemo destroy --stage {plan.stage}`, then deploy again"
            )
        if "ClientWebhookUrl" not in plan.parameters:  # an update keeps the URL it was given
            parameters.append({"ParameterKey": "ClientWebhookUrl", "UsePreviousValue": True})
        seen = {e["EventId"] for e in self._events(existing["StackId"])}
        self._say(f"updating the stack {plan.stack} ({status})...")
        try:
            cloudformation.update_stack(**arguments, Parameters=parameters)
        except botocore.exceptions.ClientError as error:
            if "No updates are to be performed" in error.response["Error"].get("Message", ""):
                self._say("no change to deploy: the stack is up to date")
                return None
            raise
        return existing["StackId"], seen

    def _events(self, stack_id: str) -> list[StackEventTypeDef]:
        """The stack's latest events (one page, newest first: what a poll needs)."""
        return self.client("cloudformation").describe_stack_events(StackName=stack_id)["StackEvents"]

    # --8<-- [start:wait]
    def wait(self, stack_id: str, seen: set[str], success: set[str], timeout: float) -> StackTypeDef:
        """Poll the stack until it leaves *_IN_PROGRESS, printing its new events; the stack."""
        deadline = self._clock() + timeout
        first_failure = ""
        while True:
            stack = self.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0]
            for event in reversed(self._events(stack_id)):  # oldest first
                if event["EventId"] in seen:
                    continue
                seen.add(event["EventId"])
                reason = event.get("ResourceStatusReason", "")
                if event["ResourceStatus"].endswith("FAILED") and reason and not first_failure:
                    first_failure = f"{event['LogicalResourceId']}: {reason}"
                self._say(
                    f"  {event['Timestamp']:%H:%M:%S} {event['ResourceStatus']:<28} "
                    f"{event['LogicalResourceId']} ({event['ResourceType']}) {reason}".rstrip()
                )
            status = stack["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                if status not in success:
                    cause = f"; the first failure: {first_failure}" if first_failure else ""
                    if status == "DELETE_COMPLETE":  # a failed creation, OnFailure=DELETE
                        cause += "; CloudFormation deleted what it had created"
                    raise DeployError(f"the stack {stack['StackName']} ended {status}{cause}")
                return stack
            if self._clock() >= deadline:
                raise DeployError(
                    f"the stack {stack['StackName']} is still {status} after {timeout / 60:.0f} min: "
                    "follow it in the CloudFormation console"
                )
            self._sleep(self._poll)

    # --8<-- [end:wait]

    # --8<-- [start:store_secrets]
    def store_secrets(self, stage: str, key_id: str, client_webhook_secret: str | None) -> None:
        """The two HMAC secrets, as SecureStrings under the stack's key (the local cloud's way).

        An existing secret under this key is kept (the processor and the client already use it);
        one under another key (a previous stack's, gone with it) is replaced. A client webhook
        secret given on the command line always replaces the stored one.
        """
        import botocore.exceptions

        ssm = self.client("ssm")
        names = secret_parameters(stage)
        wanted = {
            names["signing"]: (None, "the card processor signs its notifications with"),
            names["client"]: (client_webhook_secret, "the bank signs the client's webhooks with"),
        }
        for name, (given, what) in wanted.items():
            put: _SecureString = {
                "Name": name,
                "Value": given or secrets.token_hex(32),
                "Type": "SecureString",
                "KeyId": key_id,
                "Description": f"HMAC secret {what}",
            }
            try:
                ssm.put_parameter(**put, Overwrite=given is not None)
                self._say(f"stored {name} (SecureString under the key {key_id})")
            except botocore.exceptions.ClientError as error:
                if error.response["Error"]["Code"] != "ParameterAlreadyExists":
                    raise
                [found] = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
                    "Parameters"
                ]
                if found.get("KeyId", "").endswith(key_id):
                    self._say(f"kept {name}: it exists, under the stack's key")
                    continue
                ssm.put_parameter(**put, Overwrite=True)
                self._say(f"replaced {name}: it was encrypted with another key ({found.get('KeyId')})")

    # --8<-- [end:store_secrets]

    # -- destroy -----------------------------------------------------------------------------

    def survey(self, stage: str) -> Survey:
        """The stage's stack, its resources, and those its template keeps when it goes."""
        stack = self.describe(stack_name(stage))
        if stack is None:
            return Survey(stack=None)
        cloudformation = self.client("cloudformation")
        found = cloudformation.describe_stack_resources(StackName=stack["StackId"])["StackResources"]
        template = template_body(cloudformation.get_template(StackName=stack["StackId"])["TemplateBody"])
        retained = {
            name: resource["DeletionPolicy"]
            for name, resource in template.get("Resources", {}).items()
            if resource.get("DeletionPolicy") in KEPT
        }
        return Survey(stack=stack, resources=found, retained=retained)

    def destroy(self, survey: Survey, timeout: float = TIMEOUT_SECONDS) -> None:
        """Delete the stack and wait until it is gone."""
        if survey.stack is None:
            return
        stack_id = survey.stack["StackId"]
        seen = {e["EventId"] for e in self._events(stack_id)}
        self._say(f"deleting the stack {survey.stack['StackName']}...")
        self.client("cloudformation").delete_stack(StackName=stack_id)
        self.wait(stack_id, seen, {"DELETE_COMPLETE"}, timeout)

    def delete_secrets(self, stage: str) -> list[str]:
        """Delete the SecureStrings a deploy (and a rotation) put; the names deleted."""
        names = [*secret_parameters(stage).values(), secret_parameters(stage)["signing"] + PREVIOUS_SUFFIX]
        answer = self.client("ssm").delete_parameters(Names=names)
        return answer.get("DeletedParameters", [])

    def delete_uploads(self, stage: str, bucket: str) -> int:
        """Delete what deploys of ``stage`` uploaded to the bucket; how many objects."""
        import botocore.exceptions

        s3 = self.client("s3")
        deleted = 0
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{stage}/")
            for page in pages:
                keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:  # at most 1000 a page, as many as delete_objects takes
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise
        return deleted

    # --8<-- [start:leftovers]
    def leftovers(self, stage: str, survey: Survey, bucket: str) -> list[Leftover]:
        """What is still in the account for ``stage`` once its stack is gone, and how to remove it."""
        region = f" --region {self.identity.region}"
        left = list(self._stack_leftovers(survey, region))
        checks: dict[str, Callable[[], Iterable[Leftover]]] = {
            f"log groups /aws/lambda/{APP}-{stage}-*": lambda: self._log_groups(stage, region),
            f"SSM parameters /{APP}/{stage}/*": lambda: self._parameters(stage, region),
            f"the deploy bucket {bucket}": lambda: self._bucket(bucket, region),
        }
        for what, check in checks.items():
            try:
                left.extend(check())
            except Exception as error:  # a check that fails is reported, not a crash after the deletion
                left.append(Leftover(f"could not check {what} ({error})", what, "look in the AWS console"))
        return left

    # --8<-- [end:leftovers]

    def _stack_leftovers(self, survey: Survey, region: str) -> Iterable[Leftover]:
        """The stack's resources its template retains, and its KMS key, pending deletion."""
        for resource in survey.resources:
            name, kind = resource.get("LogicalResourceId", "?"), resource.get("ResourceType", "?")
            physical = resource.get("PhysicalResourceId", "")
            if name in survey.retained:
                policy = survey.retained[name]
                remove = REMOVE.get(kind, f"delete {{name}} in the {kind.split('::')[1]} console")
                yield Leftover(
                    f"{kind} {name} (DeletionPolicy {policy}: {KEPT[policy]})",
                    physical,
                    remove.format(name=physical) + (region if remove.startswith("aws ") else ""),
                )
            elif kind == "AWS::KMS::Key":
                yield Leftover(
                    f"{kind} {name}, pending deletion (CloudFormation schedules it: a 30-day waiting "
                    "period by default); what it encrypted can no longer be read",
                    physical,
                    f"nothing to do (`aws kms cancel-key-deletion --key-id {physical}{region}` would keep it)",
                )

    def _log_groups(self, stage: str, region: str) -> Iterable[Leftover]:
        pages = self.client("logs").get_paginator("describe_log_groups")
        for page in pages.paginate(logGroupNamePrefix=f"/aws/lambda/{APP}-{stage}-"):
            for group in page.get("logGroups", []):
                name = group["logGroupName"]
                yield Leftover(
                    "log group (Lambda makes one when a function logs after its group is gone)",
                    name,
                    f"aws logs delete-log-group --log-group-name {name}{region}",
                )

    def _parameters(self, stage: str, region: str) -> Iterable[Leftover]:
        pages = self.client("ssm").get_paginator("describe_parameters")
        filters: list[ParameterStringFilterTypeDef] = [
            {"Key": "Name", "Option": "BeginsWith", "Values": [f"/{APP}/{stage}/"]}
        ]
        for page in pages.paginate(ParameterFilters=filters):
            for parameter in page.get("Parameters", []):
                yield Leftover(
                    f"SSM parameter ({parameter.get('Type', '?')})",
                    parameter["Name"],
                    f"aws ssm delete-parameter --name {parameter['Name']}{region}",
                )

    def _bucket(self, bucket: str, region: str) -> list[Leftover]:
        import botocore.exceptions

        try:
            listed = self.client("s3").list_objects_v2(
                Bucket=bucket, ExpectedBucketOwner=self.identity.account
            )
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                return []
            raise
        count = f"{listed.get('KeyCount', 0)}{'+' if listed.get('IsTruncated') else ''}"
        return [
            Leftover(
                f"the deploy bucket, shared by every stage of this account and region ({count} objects)",
                bucket,
                f"aws s3 rb s3://{bucket} --force{region}",
            )
        ]
