"""Step 0's monolith worked from outside, through its admin routes: its parts' state, its faults."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from demo.monolith.faults import FAULTS
from demo.operations.output import console, fail


def _admin(url: str, method: str, path: str) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.request(method, f"{url.rstrip('/')}/_admin/{path}", timeout=150)
    except httpx.HTTPError as error:
        raise fail(f"no monolith answers at {url}: {error}. Start it with `bankdemo monolith up`.") from None
    if response.status_code != 200:
        raise fail(response.json().get("error", {}).get("message", response.text))
    answer: dict[str, Any] = response.json()
    return answer


def status(url: str) -> None:
    """Show the monolith's parts: database, broker queue, worker, and the backlog per wallet."""
    found = _admin(url, "GET", "status")
    table = Table(title=f"Monolith at {url}", show_header=False)
    table.add_column("part")
    table.add_column("state")
    table.add_row("database", found["database"])
    table.add_row("broker", f"{found['broker']}, {found['broker_restarts']} restart(s)")
    table.add_row("queue depth", str(found.get("queue_depth")))
    table.add_row("worker", found["worker"])
    stats = found["worker_stats"]
    table.add_row("applied / duplicates", f"{stats['applied']} / {stats['duplicates']}")
    table.add_row("webhooks sent / failed", f"{stats['webhooks_sent']} / {stats['webhooks_failed']}")
    if "inbox" in found:
        inbox = found["inbox"]
        table.add_row(
            "accepted (202) / distinct / applied",
            f"{inbox['accepted']} / {inbox['distinct']} / {inbox['applied']}",
        )
        pending = found["pending_by_wallet"]
        table.add_row(
            "backlog per wallet", ", ".join(f"{w}: {n}" for w, n in sorted(pending.items())) or "none"
        )
    console.print(table)


def fault(name: str, url: str) -> None:
    """Break (or mend) a part of the running monolith, on cue."""
    if name not in FAULTS:
        raise fail(f"unknown fault {name!r}; one of {', '.join(FAULTS)}", code=2)
    result = _admin(url, "POST", f"faults/{name}")
    extra = f": {result['messages_lost']} queued message(s) lost" if "messages_lost" in result else ""
    console.print(f"{name} done{extra}.")
