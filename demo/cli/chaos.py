"""``bankdemo chaos TARGET MODE [VALUE]``: faults on cue, for the presenter and the scenarios.

Targets and where the fault lives (never in the app's code):

- ``dynamodb``, ``sqs``, ``events``, ``kms``, ``ssm``, ``stepfunctions``: the local cloud's
  middleware in front of the emulated service (``up``, ``down``, ``errors P``, ``slow MS``);
- ``client``: the fintech client's receiver (``up``, ``down``, ``slow SECONDS``, ``error``);
- ``broker``: the monolith's broker (``restart``: what it held is lost);
- ``database``: the monolith's SQLite database (``down``, ``up``).

``bankdemo chaos status`` shows them all; ``bankdemo chaos reset`` puts every one back up.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from demo import settings
from demo.cli.common import AwsOption, console, fail
from demo.localcloud.chaos import MODES, TARGETS, ChaosError, Fault, parse_fault

CLIENT_MODES = ("up", "down", "slow", "error")
MONOLITH_FAULTS = {
    ("broker", "restart"): "broker-restart",
    ("database", "down"): "database-down",
    ("database", "up"): "database-up",
}

ClientControlOption = Annotated[
    str,
    typer.Option("--client-control", envvar="CLIENT_CONTROL_URL", help="The fintech client's control URL."),
]
MonolithOption = Annotated[str, typer.Option("--monolith", envvar="MONOLITH_URL", help="The monolith's URL.")]

HELP = (
    "Inject a fault on cue, or mend it (up). TARGET: "
    f"{', '.join(TARGETS)} (the local cloud; MODE {' | '.join(MODES)}, with P for errors and MS for slow); "
    "client (up | down | slow SECONDS | error); broker (restart); database (down | up) (the monolith's); "
    "or status, or reset (every local cloud service back up)."
)


def _call(method: str, url: str, what: str, start: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.request(method, url, json=body, timeout=30)
    except httpx.HTTPError as error:
        raise fail(f"no {what} answers at {url}: {error}. Start it with `{start}`.") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200:
        raise fail(answer.get("error", {}).get("message") or response.text, code=2)
    return answer


def _value(mode: str, value: float | None) -> float | None:
    if mode in ("errors", "slow") and value is None:
        raise fail(f"{mode} needs a value: `errors 0.3` (a fraction) or `slow 500` (ms)", code=2)
    return value


def chaos(
    target: Annotated[str, typer.Argument(help="What to break: see above; or status, reset.")],
    mode: Annotated[str | None, typer.Argument(help="How: up, down, errors, slow, error, restart.")] = None,
    value: Annotated[
        float | None, typer.Argument(help="errors: fraction failing; slow: ms (client: s).")
    ] = None,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    client_control: ClientControlOption = settings.CLIENT_CONTROL_URL,
    monolith: MonolithOption = settings.MONOLITH_URL,
) -> None:
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
