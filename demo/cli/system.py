"""The running serverless system, worked from outside: send a stream, read a balance, the queues
and counters (``status``), move dead letters back (``redrive``), a wallet's audit trail.

The command line (``bankdemo send|balance|status|redrive|audit``) and the presenter's tour
(``demo.workshop.tour``) are two faces of these: the tour calls them and prints what the commands print.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from demo import settings
from demo.aws.queues import queue_depths
from demo.aws.queues import redrive as redrive_queue
from demo.cli import reviews
from demo.cli.common import (
    ApiOption,
    AwsOption,
    CountOption,
    DuplicatesOption,
    SeedOption,
    StageOption,
    WalletsOption,
    aws_client,
    console,
    err,
    fail,
    signing_secret,
    unreachable,
)
from demo.localcloud.session import chalicelib_module
from demo.parties import processor
from demo.parties.client import BankApi, format_cents


def register(app: typer.Typer) -> None:
    for command in (send, balance, status, redrive, audit):
        app.command()(command)


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


def send(
    count: CountOption = 200,
    seed: SeedOption = 42,
    wallets: WalletsOption = 4,
    duplicates: DuplicatesOption = 0.2,
    shuffle: Annotated[bool, typer.Option(help="Deliver out of order, as processors do.")] = True,
    api: ApiOption = settings.API_URL,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    stage: StageOption = "local",
    secret: Annotated[
        str | None,
        typer.Option(envvar="BANK_SIGNING_SECRET", help="Signing secret (default: read from SSM)."),
    ] = None,
) -> None:
    """Send a seeded stream of signed payment notifications to the bank's API."""
    stream = processor.generate(count, seed=seed, wallets=wallets, duplicates=duplicates, shuffle=shuffle)
    secret = secret or signing_secret(aws_endpoint, stage)
    started = time.perf_counter()
    try:
        with BankApi(api, secret) as client:
            accepted, rejected = send_stream(client, stream)
    except Exception as error:
        raise fail(f"cannot send to {api}: {error}") from None
    elapsed = time.perf_counter() - started
    console.print(
        f"{accepted} accepted, {len(rejected)} rejected in {elapsed:.1f} s "
        f"({len(stream.deliveries) / elapsed:.0f}/s); {stream.distinct} distinct, {stream.duplicates} duplicates"
    )
    for line in rejected[:10]:
        err.print(f"  rejected {line}")
    if rejected:
        raise typer.Exit(1)


def balance(wallet_id: str, api: ApiOption = settings.API_URL) -> None:
    """Show one wallet's balance."""
    try:
        with BankApi(api) as client:
            found = client.balance(wallet_id)
    except Exception as error:
        raise fail(f"cannot read from {api}: {error}") from None
    if found is None:
        raise fail(f"no wallet {wallet_id!r}", code=2)
    frozen = " [bold red]frozen: card authorizations refused[/]" if found.get("frozen") else ""
    table = Table(title=f"Wallet {wallet_id} ({found['currency']}){frozen}")
    for column in ("current_balance", "authorizations", "authorized_balance"):
        table.add_column(column.replace("_", " "), justify="right")
    table.add_row(
        *(format_cents(found[c]) for c in ("current_balance", "authorizations", "authorized_balance"))
    )
    console.print(table)


def queue_table(depths: dict[str, dict[str, int]]) -> Table:
    table = Table(title="Queues")
    table.add_column("queue")
    for column in ("visible", "in flight", "delayed"):
        table.add_column(column, justify="right")
    for name in sorted(depths):
        d = depths[name]
        style = "red" if name.endswith("-dlq") and d["visible"] else None
        table.add_row(name, str(d["visible"]), str(d["in_flight"]), str(d["delayed"]), style=style)
    return table


def status(aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local") -> None:
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
    faults = _faults(aws_endpoint)
    if faults:
        console.print(
            f"[bold red]faults injected[/]: {', '.join(faults)} (`bankdemo chaos reset` mends them)"
        )


def _faults(aws_endpoint: str) -> list[str]:
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


def redrive(
    queue: Annotated[
        str | None,
        typer.Argument(help="Queue whose DLQ to move back (e.g. bank-webhooks); default: every one."),
    ] = None,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
) -> None:
    """Move dead letters back to their queue, once what made them fail is fixed (the client is up)."""
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


def audit(
    wallet_id: str, aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local"
) -> None:
    """Show a wallet's history: every event the audit writer recorded, oldest first."""
    import botocore.exceptions

    trail = chalicelib_module("audit").AuditTrail(aws_client(aws_endpoint, "dynamodb"), f"bank-audit-{stage}")
    try:
        history = trail.history(wallet_id)
    except botocore.exceptions.EndpointConnectionError:
        raise unreachable(aws_endpoint) from None
    if not history:
        raise fail(f"no audited event for wallet {wallet_id!r}", code=2)
    table = Table(title=f"Audit trail of {wallet_id}")
    for column in ("occurred at", "event", "object", "status / balance", "event_id"):
        table.add_column(column)
    for event in history:
        payload = event["payload"]
        if "current_balance" in payload:
            what = f"current {format_cents(payload['current_balance'])}"
        elif "review_id" in payload:
            what = f"review {payload['review_id']}"
        else:
            what = payload["status"]
        at = time.strftime("%H:%M:%S", time.localtime(event["occurred_at"]))
        table.add_row(at, event["type"], event["object_id"], what, event["event_id"][:8] + "...")
    console.print(table)


def balance_table(stream: processor.Stream, actual: dict[str, dict[str, Any] | None]) -> tuple[Table, bool]:
    """Per wallet, the balance expected from the stream above the one the bank reports; all equal?"""
    table = Table(title="Balances (EUR): expected from the stream, reported by the bank")
    table.add_column("wallet")
    table.add_column("source")
    for column in ("current", "authorizations", "authorized"):
        table.add_column(column, justify="right")
    table.add_column("match", justify="center")
    keys = ("current_balance", "authorizations", "authorized_balance")
    all_match = True
    for wallet_id, expected in sorted(stream.expected.items()):
        want = (expected.current_balance, expected.authorizations, expected.authorized_balance)
        got = tuple((actual.get(wallet_id) or {}).get(k) for k in keys)
        match = want == got
        all_match &= match
        table.add_row(wallet_id, "expected", *(format_cents(v) for v in want), "")
        table.add_row(
            "",
            "bank",
            *(format_cents(v) if isinstance(v, int) else "missing" for v in got),
            "[green]yes[/]" if match else "[bold red]NO[/]",
            end_section=True,
        )
    return table, all_match
