"""``bankdemo secret``: rotate the processor signing secret in SSM, and say where a rotation stands.

Neither command prints a secret: ``rotate`` says where the new one is (the processor reads it
from there), ``status`` says when each was set and how long the previous one stays accepted.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Annotated

import typer

from demo import settings
from demo.cli.common import AwsOption, StageOption, console, fail
from demo.localcloud.session import chalicelib_module, local_session

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_ssm.client import SSMClient

app = typer.Typer(
    help="The processor signing secret: rotate it, see where a rotation stands.", no_args_is_help=True
)

WindowOption = Annotated[
    int,
    typer.Option(min=0, help="Seconds the previous secret stays accepted, while the processor switches."),
]


def _parameter(stage: str) -> str:
    return f"/bank/{stage}/processor-signing-secret"


def _ssm(aws_endpoint: str) -> SSMClient:
    return local_session().client("ssm", endpoint_url=aws_endpoint)


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command()
def rotate(
    window: WindowOption = 3600, aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local"
) -> None:
    """Make a new signing secret current; the old one stays accepted for --window seconds."""
    import botocore.exceptions

    ssm, name = _ssm(aws_endpoint), _parameter(stage)
    try:
        found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        if not found:
            raise fail(
                f"no parameter {name} at {aws_endpoint}: is the local cloud of stage {stage!r} up?", code=2
            )
        rotated = chalicelib_module("secrets").rotate(ssm, name, found[0]["KeyId"], window)
    except botocore.exceptions.EndpointConnectionError:
        raise fail(f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up`") from None
    console.print(
        f"rotated {name}: the processor signs with the new secret from now on (it reads it from SSM); "
        f"the previous one is accepted until {_when(rotated['previous_accepted_until'])}.",
        soft_wrap=True,
    )


@app.command()
def status(aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local") -> None:
    """When the signing secret was last set, and until when the previous one is accepted."""
    import botocore.exceptions

    ssm, name = _ssm(aws_endpoint), _parameter(stage)
    previous = name + chalicelib_module("secrets").PREVIOUS_SUFFIX
    try:
        got = ssm.get_parameters(Names=[name, previous], WithDecryption=True)["Parameters"]
    except botocore.exceptions.EndpointConnectionError:
        raise fail(f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up`") from None
    by_name = {p["Name"]: p for p in got}
    if name not in by_name:
        raise fail(f"no parameter {name} at {aws_endpoint}", code=2)
    console.print(
        f"{name}: version {by_name[name]['Version']}, set {by_name[name]['LastModifiedDate']:%Y-%m-%d %H:%M:%S %Z}"
    )
    if previous in by_name:
        until = json.loads(by_name[previous]["Value"])["accepted_until"]
        state = (
            "still accepted"
            if until > datetime.datetime.now(datetime.UTC).timestamp()
            else "no longer accepted"
        )
        console.print(f"previous secret: {state} (until {_when(until)})")
    else:
        console.print("previous secret: none (never rotated)")
