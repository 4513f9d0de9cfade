"""Faults on cue, and what is in force: in the local cloud's services (its ``/_chaos`` control),
the fintech client (its control port) and the monolith (its admin routes)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from demo import settings
from demo.localcloud.chaos import ChaosError, Fault, parse_fault
from demo.operations.output import console, fail

CLIENT_MODES = ("up", "down", "slow", "error")


MONOLITH_FAULTS = {
    ("broker", "restart"): "broker-restart",
    ("database", "down"): "database-down",
    ("database", "up"): "database-up",
}


def _call(method: str, url: str, what: str, start: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.request(method, url, json=body, timeout=30)
    except httpx.HTTPError as error:
        raise fail(f"no {what} answers at {url}: {error}. Start it with `{start}`.") from None
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200:
        raise fail(answer.get("error", {}).get("message") or response.text, code=2)
    return answer


def _value(mode: str, value: float | None) -> float | None:
    if mode in ("errors", "slow") and value is None:
        raise fail(f"{mode} needs a value: `errors 0.3` (a fraction) or `slow 500` (ms)", code=2)
    return value


def inject(
    target: str,
    mode: str | None = None,
    value: float | None = None,
    *,
    aws_endpoint: str = settings.AWS_ENDPOINT,
    client_control: str = settings.CLIENT_CONTROL_URL,
    monolith: str = settings.MONOLITH_URL,
) -> None:
    """Inject a fault on ``target`` (``mode``, with ``value`` for errors and slow), mend it (up), or
    ``status`` (every fault in force) or ``reset`` (every local cloud service back up)."""
    target = target.lower()
    cloud = f"{aws_endpoint.rstrip('/')}/_chaos"
    if target == "status":
        _status(cloud, client_control, monolith)
        return
    if target == "reset":
        _call("POST", f"{cloud}/reset", "local cloud", "bankdemo up")
        console.print("Every local cloud service is up again.")
        return
    if mode is None:
        raise fail(f"{target} needs a mode; see `bankdemo chaos --help`", code=2)
    if target == "client":
        if mode not in CLIENT_MODES:
            raise fail(f"unknown client mode {mode!r}; one of {', '.join(CLIENT_MODES)}", code=2)
        body: dict[str, Any] = {"mode": mode} | ({"delay": value} if value is not None else {})
        found = _call(
            "POST", f"{client_control.rstrip('/')}/mode", "fintech client", "bankdemo client up", body
        )
        console.print(
            f"client: {found['mode']}" + (f" ({found['delay']:g} s)" if found["mode"] == "slow" else "")
        )
        return
    if target in ("broker", "database"):
        fault = MONOLITH_FAULTS.get((target, mode))
        if fault is None:
            allowed = " | ".join(m for t, m in MONOLITH_FAULTS if t == target)
            raise fail(f"{target} takes {allowed}", code=2)
        result = _call(
            "POST", f"{monolith.rstrip('/')}/_admin/faults/{fault}", "monolith", "bankdemo monolith up"
        )
        lost = f": {result['messages_lost']} queued message(s) lost" if "messages_lost" in result else ""
        console.print(f"{target} {mode}{lost}.")
        return
    try:
        target, _ = parse_fault(target, mode, _value(mode, value))
    except ChaosError as error:
        raise fail(str(error), code=2) from None
    body = {"target": target, "mode": mode} | ({"value": value} if value is not None else {})
    found = _call("POST", cloud, "local cloud", "bankdemo up", body)
    console.print(f"{found['target']}: {Fault(found['mode'], found['value']).describe()}")


def _status(cloud: str, client_control: str, monolith: str) -> None:
    import httpx

    table = Table(title="Faults")
    for column in ("target", "where", "mode", "calls failed"):
        table.add_column(column)
    answered = 0
    try:
        for target, fault in httpx.get(cloud, timeout=10).json().items():
            mode = fault["mode"] + (f" {fault['value']:g}" if fault["mode"] in ("errors", "slow") else "")
            style = None if fault["mode"] == "up" else "bold red"
            table.add_row(target, "local cloud", mode, str(fault["failed_calls"]), style=style)
        answered += 1
    except (httpx.HTTPError, ValueError):
        table.add_row("(services)", "local cloud", "not running", "")
    try:
        client = httpx.get(f"{client_control.rstrip('/')}/log", timeout=10).json()
        table.add_row("client", "fintech client", client["mode"], str(client["stats"]["refused"]))
        answered += 1
    except (httpx.HTTPError, ValueError, KeyError):
        table.add_row("client", "fintech client", "not running", "")
    try:
        status = httpx.get(f"{monolith.rstrip('/')}/_admin/status", timeout=10).json()
        table.add_row("database", "monolith", status["database"], "")
        table.add_row("broker", "monolith", f"{status['broker_restarts']} restart(s)", "")
        answered += 1
    except (httpx.HTTPError, ValueError, KeyError):
        table.add_row("(broker, database)", "monolith", "not running", "")
    console.print(table)
    if not answered:
        raise fail("nothing answers: start `bankdemo up`, `bankdemo client up` or `bankdemo monolith up`")
