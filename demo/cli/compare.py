"""``bankdemo compare --scenario NAME``: the monolith and serverless side by side, under the same faults."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from demo.cli.common import SeedOption, WalletsOption, console, fail
from demo.operations.tables import scorecard_table
from demo.resilience.scenarios import SCENARIOS

ScenarioName = StrEnum("ScenarioName", {name: name for name in SCENARIOS})  # type: ignore[misc]  # an Enum built from a dict: mypy wants literal members


def compare(
    scenario: Annotated[
        ScenarioName, typer.Option("--scenario", help="The fault schedule to throw at both.")
    ],
    seed: SeedOption = 42,
    count: Annotated[
        int, typer.Option(min=10, max=100_000, help="Deliveries to send, duplicates included.")
    ] = 60,
    rate: Annotated[
        float, typer.Option(min=0.5, max=200, help="Deliveries per second (the processor's pace).")
    ] = 6.0,
    wallets: WalletsOption = 4,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", dir_okay=False, help="Also write the scorecard and timelines here."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds each system may take to drain.")] = 600.0,
) -> None:
    """Run the same seeded stream and fault schedule against the monolith and serverless; print the scorecard."""
    from demo.resilience.compare import compare as run

    chosen = SCENARIOS[scenario.value]
    console.print(f"[bold]{chosen.name}[/]: {chosen.summary}")
    for step in chosen.steps:
        console.print(f"  at {step.at:4.0%} of the stream: {step.describe()}")
    started = time.perf_counter()
    with console.status(f"Both systems up, {count} deliveries at {rate:g}/s, faults on cue, then drain..."):
        try:
            result = run(scenario.value, count=count, seed=seed, wallets=wallets, rate=rate, timeout=timeout)
        except TimeoutError as error:
            raise fail(str(error)) from None
    console.print(scorecard_table(result))
    console.print(
        f"The monolith was to lose {chosen.monolith_loss}. Took {time.perf_counter() - started:.0f} s."
    )
    serverless = result["scorecard"]["serverless"]
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(result, indent=1) + "\n")
        console.print(f"Scorecard and timelines written to {json_file}")
    if serverless["lost"] or serverless["applied_twice"] != 0 or not serverless["balances_equal_full_oracle"]:
        raise fail("the serverless side lost or doubled something: see the scorecard")
