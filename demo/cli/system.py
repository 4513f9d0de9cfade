"""``bankdemo send|balance|status|redrive|audit``: the running serverless system worked from outside.

``status`` and ``redrive`` are faces of ``demo.operations.system``, which the presenter's tour calls
too; ``send``, ``balance`` and ``audit`` are the command line's own.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from demo import settings
from demo.cli.common import (
    ApiOption,
    AwsOption,
    CountOption,
    DuplicatesOption,
    SeedOption,
    StageOption,
    WalletsOption,
    console,
    err,
    fail,
)
from demo.localcloud.session import chalicelib_module
from demo.operations import system
from demo.operations.output import Failed, unreachable
from demo.operations.system import aws_client, send_stream, signing_secret
from demo.parties import processor
from demo.parties.client import BankApi, format_cents


def register(app: typer.Typer) -> None:
    for command in (send, balance, status, redrive, audit):
        app.command()(command)


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
        raise Failed(1)


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


def status(aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local") -> None:
    """Show every queue with its dead-letter queue, the backlog, the events and webhooks counted, the faults.

    Each part is read on its own: with DynamoDB down (`bankdemo chaos dynamodb down`) the queues
    and the backlog still show, and the counters say they cannot be read.
    """
    system.status(aws_endpoint, stage)


def redrive(
    queue: Annotated[
        str | None,
        typer.Argument(help="Queue whose DLQ to move back (e.g. bank-webhooks); default: every one."),
    ] = None,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
) -> None:
    """Move dead letters back to their queue, once what made them fail is fixed (the client is up)."""
    system.redrive(queue, aws_endpoint)
