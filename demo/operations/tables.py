"""The tables the command line and the tour both print: the queues, the balances against the
oracle, the resilience scorecard."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from demo.parties import processor
from demo.parties.client import format_cents
from demo.resilience.scenarios import ROWS, cell


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


SYSTEMS = ("monolith", "serverless")


def scorecard_table(result: dict[str, Any]) -> Table:
    """The scorecard of a ``demo.resilience.compare.compare`` result, one column per system."""
    cards = result["scorecard"]
    table = Table(title=f"Scorecard: {result['scenario']} ({result['summary']})")
    table.add_column("")
    for system in SYSTEMS:
        table.add_column(system, justify="right")
    for label, key in ROWS:
        values = [cell(cards[s], key) for s in SYSTEMS]
        bad = key in ("lost", "webhooks_lost", "broker_messages_lost", "gave_up") and values[0] != values[1]
        table.add_row(label, *values, style="bold" if bad else None)
    return table
