"""Before a deploy changes anything: the names, the credentials, the packaged artefacts, the plan.

The first two steps of shipping a stage (``demo.aws.deploy`` makes the changes that follow):

1. :func:`check_credentials`: ``sts:GetCallerIdentity``, before anything else. No credentials, no
   region or refused credentials stop here, with nothing created.
2. :func:`make_plan`: the account, the region, the stack and every resource of the packaged
   template (:class:`Artefacts`, from ``make package`` or :func:`build`), and the cost estimate.
   No AWS call.

Also here: the names a stage's stack, deploy bucket and secrets take, and :class:`DeployError`,
what stops a deploy or a destroy. Every client comes from the session given (:func:`client`).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.aws import cfn

APP = "bank"

HOW_TO_CONFIGURE = (
    "Configure credentials with `aws configure` (or `aws configure sso` and `aws sso login`), "
    "pick a profile with AWS_PROFILE=<name>, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(and AWS_SESSION_TOKEN for temporary ones); `aws sts get-caller-identity` shows who they are."
)


class DeployError(Exception):
    """What stops a deploy or a destroy; its message says why, and what to do."""


def stack_name(stage: str) -> str:
    return f"{APP}-{stage}"


def bucket_name(account: str, region: str) -> str:
    return f"{APP}-deploy-{account}-{region}"


def secret_parameters(stage: str) -> dict[str, str]:
    """The SecureStrings a deploy puts in SSM (the local cloud's names: the stage's environment)."""
    return {
        "signing": f"/{APP}/{stage}/processor-signing-secret",
        "client": f"/{APP}/{stage}/client-webhook-secret",
    }


# -- credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    region: str
    endpoint: str | None = None  # AWS_ENDPOINT_URL: every call goes there, not to AWS (moto, say)


def open_session(region: str | None = None) -> Any:
    """A boto3 session: credentials and region as the AWS CLI finds them, ``region`` first.

    The region, as the AWS CLI v2 picks it: ``--region``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``,
    the profile's. (boto3 alone does not read ``AWS_REGION``.)
    """
    import boto3
    import botocore.exceptions

    try:
        return boto3.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    except botocore.exceptions.ProfileNotFound as error:
        raise DeployError(f"{error}. {HOW_TO_CONFIGURE}") from None


def client(session: Any, service: str) -> Any:
    from botocore.config import Config

    return session.client(service, config=Config(retries={"mode": "standard", "max_attempts": 5}))


# --8<-- [start:check_credentials]
def check_credentials(session: Any) -> Identity:
    """Who the session's credentials are, in which region: the first AWS call, and a harmless one.

    ``sts:GetCallerIdentity`` needs no permission: it fails only for missing, expired or invalid
    credentials, which is what it checks.
    """
    import botocore.exceptions

    region = session.region_name
    if not region:
        raise DeployError(
            "no AWS region: pass --region, or set AWS_REGION, or a region in your profile (`aws configure`)."
        )
    try:
        answer = client(session, "sts").get_caller_identity()
    except botocore.exceptions.ClientError as error:  # refused: expired or invalid credentials
        raise DeployError(f"AWS refused the credentials ({error}). {HOW_TO_CONFIGURE}") from None
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError) as error:
        raise DeployError(f"no AWS credentials found ({error}). {HOW_TO_CONFIGURE}") from None
    except botocore.exceptions.BotoCoreError as error:  # an SSO token expired, no network...
        raise DeployError(f"cannot check the AWS credentials ({error}). {HOW_TO_CONFIGURE}") from None
    return Identity(
        account=answer["Account"],
        arn=answer["Arn"],
        region=region,
        endpoint=os.environ.get("AWS_ENDPOINT_URL") or None,
    )


# --8<-- [end:check_credentials]


# -- the packaged artefacts --------------------------------------------------------------------


@dataclass(frozen=True)
class Artefacts:
    """What ``make package`` writes for a stage: the SAM template and the deployment zip."""

    directory: Path

    @property
    def template_path(self) -> Path:
        return self.directory / "sam.yaml"

    @property
    def zip_path(self) -> Path:
        return self.directory / "deployment.zip"

    def template(self) -> dict[str, Any]:
        return cfn.load_template(self.template_path)

    def check(self, stage: str) -> Artefacts:
        """These artefacts, if they are there and were packaged for ``stage``."""
        missing = [p.name for p in (self.template_path, self.zip_path) if not p.is_file()]
        if missing:
            raise DeployError(
                f"{', '.join(missing)} missing in {self.directory}: run `make package STAGE={stage}`"
            )
        packaged_for = self.template().get("Parameters", {}).get("Stage", {}).get("Default")
        if packaged_for != stage:
            raise DeployError(
                f"{self.directory} holds stage {packaged_for!r}, not {stage!r}: run `make package STAGE={stage}`"
            )
        return self


def build(stage: str, out_dir: Path) -> Artefacts:
    """Package ``stage`` into ``out_dir`` (emptied first): ``chalice package`` in a build copy."""
    from demo.aws.shipping import package

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="bank-build-") as build_dir:
        try:
            package(stage, out_dir.resolve(), Path(build_dir))  # chalice runs in the build copy
        except subprocess.CalledProcessError as error:
            raise DeployError(f"`chalice package` failed:\n{error.stderr or error.stdout}") from None
        except ValueError as error:
            raise DeployError(f"cannot package stage {stage!r}: {error}") from None
    return Artefacts(out_dir)


def resources(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(logical id, type) of every resource of the template, by type then id."""
    found = [(name, resource["Type"]) for name, resource in template["Resources"].items()]
    return sorted(found, key=lambda item: (item[1], item[0]))


def resource_counts(template: dict[str, Any]) -> dict[str, int]:
    return dict(sorted(Counter(kind for _, kind in resources(template)).items()))


def with_code_location(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with each function's ``CodeUri`` (the local zip) replaced by its S3 location."""
    out = copy.deepcopy(template)
    for name, resource in out["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        code = resource["Properties"].get("CodeUri")
        if not (isinstance(code, str) and code.endswith("deployment.zip")):
            raise DeployError(f"{name}: CodeUri {code!r} is not the packaged deployment.zip")
        resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return out


def template_url(bucket: str, region: str, key: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


# -- the plan ----------------------------------------------------------------------------------


def cost_line(notifications_per_month: int) -> str:
    """The plan's estimate: the serverless cost model (``bankdemo cost``) at that volume."""
    from demo.aws import costs

    estimate = costs.serverless_monthly(notifications_per_month)
    top = ", ".join(f"{service} ${cost:,.2f}" for service, cost in list(estimate.by_service().items())[:3])
    return (
        f"estimated monthly cost: ${estimate.total:,.2f} at {notifications_per_month:,} notifications a month "
        f"({top}, ...; free tiers not counted; `bankdemo cost --per-month {notifications_per_month}` itemises it)"
    )


@dataclass(frozen=True)
class Plan:
    identity: Identity
    stage: str
    stack: str
    bucket: str
    resources: list[tuple[str, str]]
    parameters: dict[str, str]
    cost: str


def make_plan(
    identity: Identity,
    stage: str,
    template: dict[str, Any],
    notifications_per_month: int,
    client_webhook_url: str | None = None,
) -> Plan:
    parameters = {"Stage": stage}
    if client_webhook_url:
        parameters["ClientWebhookUrl"] = client_webhook_url
    return Plan(
        identity=identity,
        stage=stage,
        stack=stack_name(stage),
        bucket=bucket_name(identity.account, identity.region),
        resources=resources(template),
        parameters=parameters,
        cost=cost_line(notifications_per_month),
    )
