"""The serverless system worked from outside, on the local cloud or on AWS: its signing secret,
a stream sent with a progress bar, ``status`` (queues, backlog, counters, reviews, faults) and
``redrive`` (dead letters moved back)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from demo.aws.queues import queue_depths
from demo.aws.queues import redrive as redrive_queue
from demo.localcloud.session import chalicelib_module, local_session
from demo.operations import reviews
from demo.operations.output import console, err, fail, unreachable
from demo.operations.tables import queue_table
from demo.parties import processor
from demo.parties.client import BankApi

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_stepfunctions.client import SFNClient


def signing_secret(aws_endpoint: str, stage: str) -> str:
    """The processor signing secret, as the local cloud stored it in SSM (SecureString)."""
    import botocore.exceptions

    ssm = local_session().client("ssm", endpoint_url=aws_endpoint)
    name = f"/bank/{stage}/processor-signing-secret"
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except botocore.exceptions.EndpointConnectionError:
        raise unreachable(aws_endpoint) from None
    except botocore.exceptions.ClientError as error:
        raise fail(f"cannot read {name} from SSM at {aws_endpoint}: {error}") from None


@overload
def aws_client(aws_endpoint: str, service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def aws_client(aws_endpoint: str, service: Literal["sqs"]) -> SQSClient: ...
@overload
def aws_client(aws_endpoint: str, service: Literal["stepfunctions"]) -> SFNClient: ...
def aws_client(
    aws_endpoint: str, service: Literal["dynamodb", "sqs", "stepfunctions"]
) -> DynamoDBClient | SQSClient | SFNClient:
    from botocore.config import Config

    # two tries, not legacy mode's ten for DynamoDB: with DynamoDB down, status answers at once
    config = Config(retries={"mode": "standard", "max_attempts": 2})
    return local_session().client(service, endpoint_url=aws_endpoint, config=config)


def send_stream(api: BankApi, stream: processor.Stream) -> tuple[int, list[str]]:
    accepted, rejected = 0, []
    with Progress(
        TextColumn("Sending notifications"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("send", total=len(stream.deliveries))
        for envelope in stream.deliveries:
            response = api.send(envelope)
            if response.status_code == 202:
                accepted += 1
            else:
                rejected.append(f"{envelope['webhook_id']}: {response.status_code} {response.text}")
            progress.advance(task)
    return accepted, rejected


def status(aws_endpoint: str, stage: str = "local") -> None:
    """Show every queue with its dead-letter queue, the backlog, the events and webhooks counted, the faults.

    Each part is read on its own: with DynamoDB down (`bankdemo chaos dynamodb down`) the queues
    and the backlog still show, and the counters say they cannot be read.
    """
    import botocore.exceptions

    try:
        depths = queue_depths(aws_client(aws_endpoint, "sqs"))
    except botocore.exceptions.EndpointConnectionError:
        raise unreachable(aws_endpoint) from None
    except botocore.exceptions.ClientError as error:
        raise fail(f"SQS is unavailable ({error}): `bankdemo chaos sqs up` mends it") from None
    console.print(queue_table(depths))
    waiting = depths.get("bank-notifications", {})
    console.print(
        f"backlog: {sum(waiting.values())} notification(s) accepted and not yet applied "
        f"({waiting.get('delayed', 0)} put back for later by an outage)"
    )
    dynamodb = aws_client(aws_endpoint, "dynamodb")
    try:
        audit = chalicelib_module("audit")
        counters = audit.Counters(dynamodb, f"bank-ledger-{stage}").read()
        events = audit.AuditTrail(dynamodb, f"bank-audit-{stage}").count()
    except botocore.exceptions.ClientError as error:
        err.print(f"[yellow]DynamoDB cannot be read ({error.response['Error']['Code']}): no counters.[/]")
    else:
        console.print(
            f"events published: {events} (distinct, as the audit recorded them), "
            f"webhooks delivered: {counters.get('webhooks_delivered', 0)} (client answers 2xx, duplicates included)"
        )
        console.print(
            f"replays refused: {counters.get('replays_refused', 0)} (a seen notification id with another body)"
        )
    try:
        executions = reviews.execution_counts(aws_client(aws_endpoint, "stepfunctions"))
    except botocore.exceptions.ClientError as error:
        err.print(f"[yellow]Step Functions cannot be read ({error.response['Error']['Code']}).[/]")
    else:
        counted = ", ".join(f"{n} {s.lower()}" for s, n in sorted(executions.items())) or "none"
        console.print(f"review executions ({reviews.STATE_MACHINE}): {counted}")
    on = faults(aws_endpoint)
    if on:
        console.print(f"[bold red]faults injected[/]: {', '.join(on)} (`bankdemo chaos reset` mends them)")


def faults(aws_endpoint: str) -> list[str]:
    """The local cloud's injected faults, as `target mode` strings (none on AWS)."""
    import httpx

    from demo.localcloud.chaos import Fault

    try:
        state = httpx.get(f"{aws_endpoint.rstrip('/')}/_chaos", timeout=5).json()
        return [
            f"{t} {Fault(f['mode'], f['value']).describe()}" for t, f in state.items() if f["mode"] != "up"
        ]
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return []


def redrive(queue: str | None, aws_endpoint: str) -> None:
    """Move dead letters back to their queue (``None``: every one), once what made them fail is
    fixed (the client is up)."""
    import botocore.exceptions

    sqs = aws_client(aws_endpoint, "sqs")
    try:
        depths = queue_depths(sqs)
    except botocore.exceptions.EndpointConnectionError:
        raise unreachable(aws_endpoint) from None
    sources = [queue] if queue else [q.removesuffix("-dlq") for q in sorted(depths) if q.endswith("-dlq")]
    for source in sources:
        if f"{source}-dlq" not in depths:
            raise fail(f"no dead-letter queue {source}-dlq; queues: {', '.join(sorted(depths))}", code=2)
        moved = redrive_queue(sqs, source, use_move_task=False)  # the local cloud has no move task
        console.print(f"{source}: {moved} message(s) moved back from {source}-dlq")
