"""``bankdemo``: run the embedded local cloud (``up``), or the whole flow at once (``demo``).

Each other group of commands lives in its own module: working the running system from outside
(``send``, ``balance``, ``status``, ``redrive``, ``audit``: ``system``), step 0's ``bankdemo
monolith ...`` and ``bankdemo client ...``, and one module per step after. Each command parses its options
and calls an operation of ``demo.operations``, as the presenter's tour (``demo.workshop``) does;
nothing imports this package but the ``bankdemo`` script.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from demo import settings
from demo.cli import chaos, fintech, monolith, reviews, secret, ship, system, tour
from demo.cli import compare as compare_cli
from demo.cli import cost as cost_cli
from demo.cli.common import (
    ApiPortOption,
    AwsPortOption,
    ClientUrlOption,
    CountOption,
    DuplicatesOption,
    HostOption,
    SeedOption,
    WalletsOption,
    console,
    ensure_ports_free,
    fail,
    run_until_stopped,
)
from demo.operations import tables
from demo.operations.system import send_stream
from demo.parties import processor
from demo.parties.client import BankApi

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


@app.command()
def up(
    aws_port: AwsPortOption = settings.AWS_PORT,
    api_port: ApiPortOption = settings.API_PORT,
    client_url: ClientUrlOption = settings.CLIENT_WEBHOOK_URL,
    host: HostOption = settings.HOST,
    state: Annotated[
        Path,
        typer.Option(
            "--state",
            envvar="BANKDEMO_STATE",
            help="Folder that keeps the signing secret across restarts (the tables and queues are not kept).",
        ),
    ] = settings.STATE_DIR,
) -> None:
    """Run the embedded local cloud and the bank on it, until Ctrl-C or SIGTERM."""
    from demo.localcloud import state as local_state

    ensure_ports_free(host, {"AWS": aws_port, "API": api_port})  # before the seconds moto takes to import
    try:
        secret = local_state.signing_secret(state)
    except (local_state.BadState, OSError) as error:
        raise fail(f"cannot use the state folder {state}: {error}", code=2) from None
    started = time.perf_counter()
    from demo.localcloud import LocalCloud, PortInUse  # moto: seconds to import, counted in "up in"

    with console.status("Starting the local cloud (moto, the stack, the Chalice app)..."):
        try:
            cloud = LocalCloud(
                host=host, aws_port=aws_port, api_port=api_port, client_url=client_url, signing_secret=secret
            ).start()
        except PortInUse as error:
            raise fail(f"{error}. Stop what uses it, or pick another port.") from None
    console.print(f"[green]Local cloud up[/] in {time.perf_counter() - started:.1f} s")
    console.print(f"  API           {cloud.api_url}")
    console.print(f"  AWS endpoint  {cloud.aws_endpoint}")
    console.print(f"  queues        {', '.join(sorted(cloud.queue_depths()))}")
    console.print(
        f"  secret        SSM {cloud.signing_secret_parameter} (SecureString), kept in {state}/ across restarts"
    )
    console.print(f"  client        {cloud.client_url}")
    console.print("\nIn another terminal:")
    console.print(f"  export BANK_API_URL={cloud.api_url} AWS_ENDPOINT_URL={cloud.aws_endpoint}")
    console.print("  bankdemo send --count 50 && bankdemo balance w-1 && bankdemo status")

    def stop() -> None:
        try:
            local_state.keep_current(state, cloud)  # a rotated secret outlives the restart too
        except Exception as error:
            console.print(f"[yellow]the signing secret was not saved to {state}: {error}[/]")
        cloud.stop()

    run_until_stopped(stop, "Local cloud")


system.register(app)  # send, balance, status, redrive, audit


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
    from demo.parties.fintech import FintechClient

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
            accepted, rejected = send_stream(api, stream)
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
        console.print(tables.queue_table(depths))
        table, all_match = tables.balance_table(stream, actual)
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
    from demo.resilience.compare import MonolithSystem, ServerlessSystem, compare

    console.print(
        f"\n[bold]The storm[/]: {count} deliveries, every fault of step 5 at once, against both systems."
    )
    monolith = MonolithSystem()
    try:
        with console.status("Storm: faults on cue, then both systems drain (and serverless redrives)..."):
            result = compare("storm", count=count, systems=(monolith, ServerlessSystem(cloud, client)))
    finally:
        monolith.stop()
    console.print(tables.scorecard_table(result))
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
