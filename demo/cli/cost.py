"""``bankdemo cost --per-month N``: a month of the serverless bank against the always-on "before".

The model is ``demo.aws.costs`` (the counts per notification, the assumptions); the prices are
``demo/aws/prices.yaml``, each with its source and the date it was read.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from demo.aws import costs
from demo.cli.common import console


class Broker(StrEnum):
    SELF_HOSTED = "self-hosted"
    AMAZON_MQ = "amazon-mq"


_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+]?[0-9]+)?")


def parse_per_month(text: str) -> int:
    """A monthly count: ``1000000``, ``1,000,000``, ``1_000_000`` or ``1e6`` (a whole number, >= 1)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not _NUMBER.fullmatch(cleaned):
        raise typer.BadParameter(f"{text!r} is not a count of notifications: write 1000000, 1,000,000 or 1e6")
    value = float(cleaned)
    if not math.isfinite(value) or value != math.floor(value):
        raise typer.BadParameter(f"{text!r} is not a whole number of notifications")
    if value < 1:
        raise typer.BadParameter(f"{text!r}: the count of notifications must be at least 1")
    return int(cleaned) if cleaned.isdigit() else int(value)


def money(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars >= 0.01 or dollars == 0 else f"${dollars:.4f}"


def unit_price(dollars: float) -> str:
    return f"${dollars * 1e6:.4g}/M" if 0 < dollars < 0.001 else f"${dollars:.4g}"


def quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def breakdown_table(month: costs.MonthlyCost) -> Table:
    """The line items of one month, then its total."""
    table = Table(title=f"{month.label}: {month.notifications:,} notifications a month")
    table.add_column("service")
    table.add_column("item")
    table.add_column("quantity", justify="right")
    table.add_column("unit")
    table.add_column("unit price", justify="right")
    table.add_column("$ / month", justify="right")
    for line in month.lines:
        amount = quantity(line.quantity)
        if line.free:
            amount += f" ({quantity(line.free)} free)"
        table.add_row(
            line.service, line.item, amount, line.unit, unit_price(line.unit_price), money(line.cost)
        )
    table.add_row("", "[bold]total[/]", "", "", "", f"[bold]{money(month.total)}[/]", end_section=True)
    return table


def cost(
    per_month: Annotated[
        int,
        typer.Option(
            "--per-month",
            parser=parse_per_month,
            metavar="N",
            help="Notifications a month: 1000000, 1,000,000 or 1e6.",
        ),
    ],
    free_tier: Annotated[
        bool,
        typer.Option(
            "--free-tier/--no-free-tier",
            help="Take the AWS free tiers off the serverless side (off: a business comparison).",
        ),
    ] = False,
    broker: Annotated[
        Broker, typer.Option("--broker", help="The always-on side's RabbitMQ: on EC2, or Amazon MQ.")
    ] = Broker.SELF_HOSTED,
    cluster: Annotated[
        bool,
        typer.Option("--cluster/--single", help="A three-node RabbitMQ cluster, or one broker (as before)."),
    ] = False,
) -> None:
    """A month's cost of the serverless bank against the always-on monolith and its RabbitMQ."""
    serverless = costs.serverless_monthly(per_month, free_tier=free_tier)
    always_on = costs.always_on_monthly(per_month, broker.value, cluster=cluster)
    console.print(breakdown_table(serverless))
    console.print(breakdown_table(always_on))

    summary = Table(title="Per month", show_header=False)
    summary.add_column("")
    summary.add_column("", justify="right")
    summary.add_row(serverless.label, money(serverless.total))
    summary.add_row(always_on.label, money(always_on.total))
    ratio = serverless.total / always_on.total
    summary.add_row(
        "serverless / always-on",
        f"{ratio:.3g}x ({'serverless' if ratio < 1 else 'always-on'} is cheaper)",
    )
    found = costs.break_even(broker.value, cluster=cluster, free_tier=free_tier)
    summary.add_row(
        "break-even",
        f"{found.notifications:,} notifications a month ({money(found.always_on)})"
        if found
        else f"none between {costs.LOW:,} and {costs.HIGH:,} a month",
    )
    console.print(summary)

    dates = sorted({read_on for _, read_on in costs.price_sources().values()})
    console.print(
        f"Prices: us-east-1, USD, from {costs.PRICES.name}, read on {', '.join(dates)} "
        f"(each service's source is in the file). Assumptions: demo.aws.costs.Assumptions."
    )
