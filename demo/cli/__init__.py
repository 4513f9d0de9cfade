"""``bankdemo``: run the embedded local cloud, send notifications, read balances and queues.

Step 0's commands live in their own modules: ``bankdemo monolith ...`` and ``bankdemo client ...``.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from demo import processor, settings
from demo.cli import chaos, fintech, monolith, reviews, secret, ship, tour
from demo.cli import compare as compare_cli
from demo.cli import cost as cost_cli
from demo.cli.common import (
    ApiOption,
    ApiPortOption,
    AwsOption,
    AwsPortOption,
    ClientUrlOption,
    CountOption,
    DuplicatesOption,
    HostOption,
    SeedOption,
    StageOption,
    WalletsOption,
    console,
    ensure_ports_free,
    err,
    fail,
    run_until_stopped,
)
from demo.client import BankApi, format_cents
from demo.localcloud.session import chalicelib_module, local_session
from demo.queues import queue_depths
from demo.queues import redrive as redrive_queue

app = typer.Typer(
    help="The serverless bank demo: a PHP monolith's migration to AWS Lambda, retold with Chalice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(monolith.app, name="monolith")
app.add_typer(fintech.app, name="client")
app.add_typer(secret.app, name="secret")
app.command(name="chaos", help=chaos.HELP)(chaos.chaos)
app.command(name="compare")(compare_cli.compare)
app.command(name="cost")(cost_cli.cost)


def _signing_secret(aws_endpoint: str, stage: str) -> str:
    """The processor signing secret, as the local cloud stored it in SSM (SecureString)."""
    import botocore.exceptions

    ssm = local_session().client("ssm", endpoint_url=aws_endpoint)
    name = f"/bank/{stage}/processor-signing-secret"
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except botocore.exceptions.EndpointConnectionError:
        raise fail(f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up`") from None
    except botocore.exceptions.ClientError as error:
        raise fail(f"cannot read {name} from SSM at {aws_endpoint}: {error}") from None


@app.command()
def up(
    aws_port: AwsPortOption = settings.AWS_PORT,
    api_port: ApiPortOption = settings.API_PORT,
    client_url: ClientUrlOption = settings.CLIENT_WEBHOOK_URL,
    host: HostOption = settings.HOST,
) -> None:
    """Run the embedded local cloud and the bank on it, until Ctrl-C or SIGTERM."""
    ensure_ports_free(host, {"AWS": aws_port, "API": api_port})  # before the seconds moto takes to import
    started = time.perf_counter()
    from demo.localcloud import LocalCloud, PortInUse  # moto: seconds to import, counted in "up in"

    with console.status("Starting the local cloud (moto, the stack, the Chalice app)..."):
        try:
            cloud = LocalCloud(host=host, aws_port=aws_port, api_port=api_port, client_url=client_url).start()
        except PortInUse as error:
            raise fail(f"{error}. Stop what uses it, or pick another port.") from None
    console.print(f"[green]Local cloud up[/] in {time.perf_counter() - started:.1f} s")
    console.print(f"  API           {cloud.api_url}")
    console.print(f"  AWS endpoint  {cloud.aws_endpoint}")
    console.print(f"  queues        {', '.join(sorted(cloud.queue_depths()))}")
    console.print(f"  secret        SSM {cloud.signing_secret_parameter} (SecureString)")
    console.print(f"  client        {cloud.client_url}")
    console.print("\nIn another terminal:")
    console.print(f"  export BANK_API_URL={cloud.api_url} AWS_ENDPOINT_URL={cloud.aws_endpoint}")
    console.print("  bankdemo send --count 50 && bankdemo balance w-1 && bankdemo status")
    run_until_stopped(cloud.stop, "Local cloud")


def _send_stream(api: BankApi, stream: processor.Stream) -> tuple[int, list[str]]:
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


@app.command()
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
    secret = secret or _signing_secret(aws_endpoint, stage)
    started = time.perf_counter()
    try:
        with BankApi(api, secret) as client:
            accepted, rejected = _send_stream(client, stream)
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


@app.command()
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


def _aws(aws_endpoint: str, service: str) -> Any:
    from botocore.config import Config

    # two tries, not legacy mode's ten for DynamoDB: with DynamoDB down, status answers at once
    config = Config(retries={"mode": "standard", "max_attempts": 2})
    return local_session().client(service, endpoint_url=aws_endpoint, config=config)


def _unreachable(aws_endpoint: str) -> typer.Exit:
    return fail(f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up`")


@app.command()
def status(aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local") -> None:
    """Show every queue with its dead-letter queue, the backlog, the events and webhooks counted, the faults.

    Each part is read on its own: with DynamoDB down (`bankdemo chaos dynamodb down`) the queues
    and the backlog still show, and the counters say they cannot be read.
    """
    import botocore.exceptions

    try:
        depths = queue_depths(_aws(aws_endpoint, "sqs"))
    except botocore.exceptions.EndpointConnectionError:
        raise _unreachable(aws_endpoint) from None
    except botocore.exceptions.ClientError as error:
        raise fail(f"SQS is unavailable ({error}): `bankdemo chaos sqs up` mends it") from None
    console.print(queue_table(depths))
    waiting = depths.get("bank-notifications", {})
    console.print(
        f"backlog: {sum(waiting.values())} notification(s) accepted and not yet applied "
        f"({waiting.get('delayed', 0)} put back for later by an outage)"
    )
    dynamodb = _aws(aws_endpoint, "dynamodb")
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
        executions = reviews.execution_counts(_aws(aws_endpoint, "stepfunctions"))
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


@app.command()
def redrive(
    queue: Annotated[
        str | None,
        typer.Argument(help="Queue whose DLQ to move back (e.g. bank-webhooks); default: every one."),
    ] = None,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
) -> None:
    """Move dead letters back to their queue, once what made them fail is fixed (the client is up)."""
    import botocore.exceptions

    sqs = _aws(aws_endpoint, "sqs")
    try:
        depths = queue_depths(sqs)
    except botocore.exceptions.EndpointConnectionError:
        raise _unreachable(aws_endpoint) from None
    sources = [queue] if queue else [q.removesuffix("-dlq") for q in sorted(depths) if q.endswith("-dlq")]
    for source in sources:
        if f"{source}-dlq" not in depths:
            raise fail(f"no dead-letter queue {source}-dlq; queues: {', '.join(sorted(depths))}", code=2)
        moved = redrive_queue(sqs, source, use_move_task=False)  # the local cloud has no move task
        console.print(f"{source}: {moved} message(s) moved back from {source}-dlq")


@app.command()
def audit(
    wallet_id: str, aws_endpoint: AwsOption = settings.AWS_ENDPOINT, stage: StageOption = "local"
) -> None:
    """Show a wallet's history: every event the audit writer recorded, oldest first."""
    import botocore.exceptions

    trail = chalicelib_module("audit").AuditTrail(_aws(aws_endpoint, "dynamodb"), f"bank-audit-{stage}")
    try:
        history = trail.history(wallet_id)
    except botocore.exceptions.EndpointConnectionError:
        raise _unreachable(aws_endpoint) from None
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


@app.command()
def demo(
    count: CountOption = 200,
    seed: SeedOption = 42,
    wallets: WalletsOption = 4,
    duplicates: DuplicatesOption = 0.2,
    aws_port: AwsPortOption = 0,
    api_port: ApiPortOption = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the queues to drain.")] = 120.0,
    storm: Annotated[
        bool, typer.Option(help="End with the storm scenario's scorecard, monolith against serverless.")
    ] = True,
    storm_count: Annotated[int, typer.Option(min=10, help="Deliveries of the storm.")] = 60,
) -> None:
    """The whole flow: local cloud up, a stream in, balances checked, then the storm's scorecard. Exit 0 if all hold."""
    started = time.perf_counter()
    from demo.localcloud import LocalCloud, PortInUse  # moto: seconds to import, counted in "up in"

    stream = processor.generate(count, seed=seed, wallets=wallets, duplicates=duplicates)
    from demo.fintech import FintechClient

    client = FintechClient(port=0, control_port=0).start()  # the webhooks' receiver, in this process
    with console.status("Starting the local cloud (moto, the stack, the Chalice app)..."):
        try:
            cloud = LocalCloud(aws_port=aws_port, api_port=api_port, client_url=client.webhook_url).start()
        except PortInUse as error:
            client.stop()
            raise fail(str(error)) from None
    with client, cloud:
        console.print(
            f"[green]Local cloud up[/] in {time.perf_counter() - started:.1f} s: API {cloud.api_url}"
        )
        sent_at = time.perf_counter()
        with BankApi(cloud.api_url, cloud.signing_secret) as api:
            accepted, rejected = _send_stream(api, stream)
            console.print(
                f"{accepted} notifications accepted ({stream.distinct} distinct, {stream.duplicates} duplicates, "
                f"shuffled), {len(rejected)} rejected"
            )
            with console.status(
                "Waiting for the worker, the dispatcher and the audit to drain their queues..."
            ):
                try:
                    depths = cloud.wait_until_drained(timeout=timeout)
                except TimeoutError as error:
                    raise fail(str(error)) from None
            console.print(f"Queues drained {time.perf_counter() - sent_at:.1f} s after the first send.")
            heard = client.log()["stats"]
            console.print(
                f"The fintech client received {heard['received']} webhooks "
                f"({heard['duplicates']} duplicate deliveries ignored)."
            )
            actual = {w: api.balance(w) for w in stream.expected}
        console.print(queue_table(depths))
        table, all_match = balance_table(stream, actual)
        console.print(table)
        if rejected or not all_match:
            raise fail(
                "balances do NOT match the stream" if not all_match else "some notifications were rejected"
            )
        console.print(
            "[bold green]All balances match the stream[/]: duplicates and reordering changed nothing."
        )
        if storm:
            _storm(cloud, client, storm_count)
    console.print(f"Total {time.perf_counter() - started:.1f} s.")


def _storm(cloud: Any, client: Any, count: int) -> None:
    """Step 5's finale: the storm scenario against the monolith and the serverless side just used."""
    from demo.cli.compare import scorecard_table
    from demo.compare import MonolithSystem, ServerlessSystem, compare

    console.print(
        f"\n[bold]The storm[/]: {count} deliveries, every fault of step 5 at once, against both systems."
    )
    monolith = MonolithSystem()
    try:
        with console.status("Storm: faults on cue, then both systems drain (and serverless redrives)..."):
            result = compare("storm", count=count, systems=(monolith, ServerlessSystem(cloud, client)))
    finally:
        monolith.stop()
    console.print(scorecard_table(result))
    serverless = result["scorecard"]["serverless"]
    if serverless["lost"] or serverless["applied_twice"] != 0 or not serverless["balances_equal_full_oracle"]:
        raise fail("the serverless side lost or doubled something in the storm: see the scorecard")
    console.print(
        f"[bold green]Serverless lost nothing in the storm[/]; the monolith lost "
        f"{result['scorecard']['monolith']['lost']} notification(s) and "
        f"{result['scorecard']['monolith']['webhooks_lost']} webhook(s)."
    )


reviews.register(app)  # step 3: payin, card, reviews, approve, reject
ship.register(app)  # step 6: package, deploy, destroy
tour.register(app)  # the presenter's live demo: tour, reset


def main() -> None:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    app()
