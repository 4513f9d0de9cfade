"""``bankdemo client``: the fintech client that receives the bank's webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.table import Table

from demo import settings
from demo.cli.common import (
    HostOption,
    WebhookSecretOption,
    console,
    ensure_ports_free,
    fail,
    run_until_stopped,
)
from demo.parties.client import format_cents
from demo.parties.fintech import Mode

app = typer.Typer(
    help="The fintech client: receives, verifies and deduplicates the bank's webhooks.", no_args_is_help=True
)

ControlOption = Annotated[
    str, typer.Option("--control-url", envvar="CLIENT_CONTROL_URL", help="The client's control URL.")
]


@app.command()
def up(
    port: Annotated[
        int, typer.Option(help="Port receiving webhooks (0: any free port).")
    ] = settings.CLIENT_WEBHOOK_PORT,
    control_port: Annotated[
        int, typer.Option(help="Port of the log and mode commands.")
    ] = settings.CLIENT_CONTROL_PORT,
    secret: WebhookSecretOption = settings.LOCAL_WEBHOOK_SECRET,
    host: HostOption = settings.HOST,
) -> None:
    """Run the fintech client until Ctrl-C or SIGTERM."""
    from demo.parties.fintech import FintechClient

    ensure_ports_free(host, {"webhook": port, "control": control_port})
    client = FintechClient(host=host, port=port, control_port=control_port, secret=secret).start()
    console.print(f"[green]Fintech client up[/]: webhooks at {client.webhook_url}")
    console.print(f"  control   {client.control_url}  (bankdemo client log | bankdemo client mode MODE)")
    if secret == settings.LOCAL_WEBHOOK_SECRET:
        console.print("  secret    the local demo's (set CLIENT_WEBHOOK_SECRET for another)")
    run_until_stopped(client.stop, "Fintech client")


def _control(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.request(method, f"{url.rstrip('/')}/{path}", json=body, timeout=10)
    except httpx.HTTPError as error:
        raise fail(
            f"no fintech client answers at {url}: {error}. Start it with `bankdemo client up`."
        ) from None
    if response.status_code != 200:
        raise fail(response.json().get("error", {}).get("message", response.text))
    answer: dict[str, Any] = response.json()
    return answer


@app.command()
def log(
    control_url: ControlOption = settings.CLIENT_CONTROL_URL,
    last: Annotated[int, typer.Option(min=0, help="How many of the latest webhooks to list.")] = 15,
) -> None:
    """Show what the client received: counters, the latest webhooks, the balances it was told."""
    found = _control(control_url, "GET", "log")
    stats = found["stats"]
    console.print(
        f"mode [bold]{found['mode']}[/] (delay {found['delay']} s): {stats['received']} received, "
        f"{stats['duplicates']} duplicates ignored, {stats['rejected']} rejected, {stats['refused']} answered 500"
    )
    webhooks = found["webhooks"][-last:] if last else []
    if webhooks:
        table = Table(title=f"Latest {len(webhooks)} webhooks")
        for column in ("received at", "webhook", "object", "webhook_id"):
            table.add_column(column)
        for w in webhooks:
            at = dt.datetime.fromtimestamp(w["received_at"]).strftime("%H:%M:%S.%f")[:-3]
            table.add_row(at, w["webhook"], str(w["object_id"]), w["webhook_id"][:8] + "...")
        console.print(table)
    if stats["balances"]:
        table = Table(title="Balances the client was told (EUR)")
        for column in ("wallet", "current", "authorizations", "authorized"):
            table.add_column(column, justify="right" if column != "wallet" else "left")
        for wallet_id, b in sorted(stats["balances"].items()):
            table.add_row(
                wallet_id,
                format_cents(b["current_balance"]),
                format_cents(b["authorizations"]),
                format_cents(b["authorized_balance"]),
            )
        console.print(table)


@app.command()
def mode(
    new_mode: Annotated[Mode, typer.Argument(metavar="MODE", help="up, slow, error or down.")],
    delay: Annotated[
        float, typer.Option(min=0, max=60, help="Seconds before answering, in slow mode.")
    ] = 1.0,
    control_url: ControlOption = settings.CLIENT_CONTROL_URL,
) -> None:
    """Switch the client to up, slow (answers after --delay), error (answers 500) or down (refuses)."""
    found = _control(control_url, "POST", "mode", {"mode": new_mode.value, "delay": delay})
    suffix = f" ({found['delay']} s per webhook)" if found["mode"] == "slow" else ""
    console.print(f"The fintech client is now [bold]{found['mode']}[/]{suffix}.")
