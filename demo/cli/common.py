"""What the ``bankdemo`` commands share: the console, the options, failing clearly, running until stopped."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from demo.operations.output import console, err, fail
from demo.settings import ensure_free

__all__ = ["console", "err", "fail"]  # what every command module takes from here

ApiOption = Annotated[str, typer.Option("--api", envvar="BANK_API_URL", help="Base URL of the bank's API.")]
AwsOption = Annotated[
    str, typer.Option("--aws-endpoint", envvar="AWS_ENDPOINT_URL", help="The local cloud's AWS endpoint.")
]
StageOption = Annotated[
    str,
    typer.Option(
        "--stage", help="The stage (.chalice/config.json) whose secret, tables and queues are used."
    ),
]
CountOption = Annotated[int, typer.Option(min=1, help="Deliveries to send, duplicates included.")]
SeedOption = Annotated[int, typer.Option(help="Seed of the stream: the same seed, the same stream.")]
WalletsOption = Annotated[int, typer.Option(min=1, help="Number of wallets.")]
DuplicatesOption = Annotated[float, typer.Option(min=0, max=0.9, help="Share of repeated deliveries.")]
AwsPortOption = Annotated[int, typer.Option(help="Port of the local AWS endpoint (0: any free port).")]
ApiPortOption = Annotated[int, typer.Option(help="Port of the bank's HTTP API (0: any free port).")]
HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
ClientUrlOption = Annotated[
    str, typer.Option(envvar="CLIENT_WEBHOOK_URL", help="Where the bank sends the fintech client's webhooks.")
]
WebhookSecretOption = Annotated[
    str,
    typer.Option(
        envvar="CLIENT_WEBHOOK_SECRET",
        help="Secret the bank signs the client's webhooks with (default: the local demo's).",
        show_default=False,
    ),
]


def ensure_ports_free(host: str, ports: dict[str, int]) -> None:
    """Fail clearly, and at once, if one of the named ports is taken."""
    for name, port in ports.items():
        try:
            ensure_free(host, port)
        except OSError as error:
            raise fail(
                f"{name} port {host}:{port} is in use ({error.strerror}). "
                "Stop what uses it, or pick another port (see --help)."
            ) from None


def run_until_stopped(stop: Callable[[], None], what: str) -> None:
    """Block until Ctrl-C or SIGTERM, then call ``stop`` and say so."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    console.print("\nCtrl-C to stop.", highlight=False)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        with console.status("Stopping..."):
            stop()
        console.print(f"{what} stopped.")
