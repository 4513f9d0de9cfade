"""``bankdemo tour`` and ``bankdemo reset``: the presenter's scripted live demo, and a clean slate in seconds.

The handlers only parse options and print; the beats, the stage and the reset live in ``demo.workshop``
(imported on first use, so that ``bankdemo --help`` stays quick).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from demo import settings
from demo.cli.chaos import ClientControlOption, MonolithOption
from demo.cli.common import ApiOption, AwsOption, StageOption, console, fail

TOUR_HELP = """The talk's live demo, beat by beat: the monolith, a broker restart, the same notifications serverless, duplicates, the client down and a redrive, DynamoDB down, a compliance review, sealed card data, the storm's scorecard. Each beat says what it does and what to look at, shows the real result and checks it; the tour exits 1 if a beat did not go as expected.

Where it runs: keep `bankdemo up` running in another terminal (and `bankdemo client up` if you want to show the client's own log): the tour finds it at --aws-endpoint, resets it first (`bankdemo reset`), and runs a fintech client of its own on the bank's webhook URL if none answers at --client-control. If no local cloud answers there, the tour starts one in this process for its duration, on free ports, and says so. The monolith always runs inside the tour. It never needs the network.

Between beats it waits for Enter (q then Enter quits; end of input goes on); --auto does not wait."""

RESET_HELP = """Put the running system back to a clean state, without restarting it: every fault off, the fintech client up with an empty log, every queue and DLQ purged, the review executions stopped and forgotten, the ledger, counters, reviews, cards and audit emptied; the running monolith's faults mended (its ledger is kept). Prints what it reset and how long it took. Exit 1 if no local cloud answers."""


def _beats() -> list[Any]:
    from demo.workshop.beats import BEATS

    return BEATS


def tour(
    auto: Annotated[
        bool, typer.Option("--auto", help="Do not wait between beats (rehearsals, tests).")
    ] = False,
    start: Annotated[
        int, typer.Option("--from", min=1, metavar="BEAT", help="Start at this beat (see --list).")
    ] = 1,
    until: Annotated[
        int | None,
        typer.Option("--until", min=1, metavar="BEAT", help="Stop after this beat (default: the last)."),
    ] = None,
    list_beats: Annotated[bool, typer.Option("--list", help="List the beats and exit.")] = False,
    api: ApiOption = settings.API_URL,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    client_control: ClientControlOption = settings.CLIENT_CONTROL_URL,
    stage: StageOption = "local",
) -> None:
    from demo.workshop.stage import BadInput, NothingRunning, check_url, embedded_stage, running_stage
    from demo.workshop.tour import run_beats, summary

    beats = _beats()
    if start > len(beats):
        raise fail(f"--from {start}: there are {len(beats)} beats (see `bankdemo tour --list`)", code=2)
    if until is not None and until > len(beats):
        raise fail(f"--until {until}: there are {len(beats)} beats (see `bankdemo tour --list`)", code=2)
    if until is not None and until < start:
        raise fail(f"--until {until} comes before --from {start}", code=2)
    if list_beats:
        for number, beat in enumerate(beats, 1):
            console.print(f"{number:2}. [bold]{beat.title}[/]", highlight=False)
            console.print(f"    {beat.does}", style="dim", highlight=False)
        return
    try:
        api, aws_endpoint = check_url("--api", api), check_url("--aws-endpoint", aws_endpoint)
        client_control = check_url("--client-control", client_control)
    except BadInput as error:
        raise fail(str(error), code=2) from None
    started = time.perf_counter()
    try:
        with running_stage(api, aws_endpoint, client_control, stage) as found:
            console.print(f"Touring the system running at {aws_endpoint} (API {api}); first, a reset:")
            _reset(aws_endpoint, found.client_control, None, stage)
            outcomes = run_beats(beats, found, start=start, until=until, auto=auto, stdin=sys.stdin)
    except NothingRunning:
        console.print(
            f"No local cloud answers at {aws_endpoint}: the tour starts its own (local cloud, bank, fintech "
            "client) for its duration. (`bankdemo up` in another terminal keeps one running.)"
        )
        with embedded_stage() as found:
            outcomes = run_beats(beats, found, start=start, until=until, auto=auto, stdin=sys.stdin)
    except BadInput as error:
        raise fail(str(error), code=2) from None
    if not summary(outcomes, time.perf_counter() - started):
        raise typer.Exit(1)


def _reset(aws_endpoint: str, client_control: str, monolith: str | None, stage: str) -> None:
    started = time.perf_counter()  # boto3's import counted: it is part of the wait
    from demo.workshop.reset import reset
    from demo.workshop.stage import BadInput, NothingRunning

    try:
        with console.status("Resetting..."):
            report = reset(aws_endpoint, client_control, monolith, stage)
    except NothingRunning:
        raise fail(
            f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up` "
            "(and `bankdemo client up`), or pass --aws-endpoint"
        ) from None
    except BadInput as error:
        raise fail(str(error), code=2) from None
    table = Table(title="Reset", show_header=False)
    table.add_column("what")
    table.add_column("done")
    for what, done in report.done:
        table.add_row(what, done)
    console.print(table)
    console.print(f"[green]Clean[/] in {time.perf_counter() - started:.1f} s.")


def reset(
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    client_control: ClientControlOption = settings.CLIENT_CONTROL_URL,
    monolith: MonolithOption = settings.MONOLITH_URL,
    stage: StageOption = "local",
) -> None:
    _reset(aws_endpoint, client_control, monolith, stage)


def register(app: typer.Typer) -> None:
    app.command(name="tour", help=TOUR_HELP)(tour)
    app.command(name="reset", help=RESET_HELP)(reset)
