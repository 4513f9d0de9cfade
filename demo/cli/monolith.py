"""``bankdemo monolith``: step 0, the "before" system, and its failures on cue."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from demo import settings
from demo.cli.common import (
    ClientUrlOption,
    HostOption,
    WebhookSecretOption,
    console,
    ensure_ports_free,
    fail,
    run_until_stopped,
)
from demo.monolith.faults import FAULTS
from demo.operations import monolith as monolith_

app = typer.Typer(
    help="Step 0: the monolith (Flask + broker + SQLite), and its faults on cue.", no_args_is_help=True
)

UrlOption = Annotated[str, typer.Option("--url", envvar="MONOLITH_URL", help="Base URL of the monolith.")]


@app.command()
def up(
    port: Annotated[
        int, typer.Option(help="Port of the monolith's HTTP API (0: any free port).")
    ] = settings.MONOLITH_PORT,
    client_url: ClientUrlOption = settings.CLIENT_WEBHOOK_URL,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file of the ledger (default: a temporary one).", dir_okay=False),
    ] = None,
    broker_url: Annotated[
        str | None,
        typer.Option(envvar="BROKER_URL", help="amqp://... for RabbitMQ; default: the embedded broker."),
    ] = None,
    webhook_secret: WebhookSecretOption = settings.LOCAL_WEBHOOK_SECRET,
    host: HostOption = settings.HOST,
) -> None:
    """Run the monolith until Ctrl-C or SIGTERM. Its signing secret comes from BANK_SIGNING_SECRET."""
    from demo.monolith import Monolith

    ensure_ports_free(host, {"monolith": port})
    secret = os.environ.get("BANK_SIGNING_SECRET")
    generated = not secret
    secret = secret or secrets.token_hex(32)
    monolith = Monolith(
        host=host,
        port=port,
        db_path=db,
        broker_url=broker_url,
        client_url=client_url,
        signing_secret=secret,
        webhook_secret=webhook_secret,
    )
    try:
        monolith.start()
    except Exception as error:
        raise fail(f"the monolith did not start: {error}") from None
    console.print(f"[green]Monolith up[/]: {monolith.url}")
    console.print(f"  broker    {monolith.broker.display_url}")
    console.print(f"  database  {monolith.db_path}")
    console.print(f"  client    {monolith.client_url}")
    if generated:
        console.print(
            "  BANK_SIGNING_SECRET was not set: generated one. To send notifications, in another terminal:"
        )
        console.print(f"  export BANK_SIGNING_SECRET={secret}", highlight=False, soft_wrap=True)
    console.print(f"  bankdemo send --api {monolith.url} --count 50")
    console.print(f"  bankdemo monolith status    bankdemo monolith fault {{{'|'.join(FAULTS)}}}")
    run_until_stopped(monolith.stop, "Monolith")


@app.command()
def status(url: UrlOption = settings.MONOLITH_URL) -> None:
    """Show the monolith's parts: database, broker queue, worker, and the backlog per wallet."""
    monolith_.status(url)


@app.command()
def fault(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(FAULTS)}.")],
    url: UrlOption = settings.MONOLITH_URL,
) -> None:
    """Break (or mend) a part of the running monolith, on cue."""
    monolith_.fault(name, url)
