"""MkDocs hook: the reference pages are generated from the real code when the site is built.

Markers, each on a line of its own in a page's Markdown:

- ``<!-- cli-reference -->``: every command and sub-command of the ``bankdemo`` Typer app
  (``demo.cli.app``, through ``typer.main.get_command``): usage, help, arguments and options with
  their help, default and environment variable. A command added to the app appears by itself.
- ``<!-- make-targets -->``: the Makefile's ``target: ... ## help`` lines, as ``make help`` prints
  them; ``<!-- make-variables -->``: its ``NAME ?= default`` lines, with the comment above each.
- ``<!-- routes: serverless -->``: the Chalice app's routes (``app.routes``), and
  ``<!-- routes: monolith -->`` the Flask app's (``url_map``); ``<!-- sqs-handlers -->`` the
  Chalice app's SQS event sources (``app.event_sources``).
- ``<!-- error-codes -->``: every error of ``demo.bank.errors``, its code and HTTP status.
- ``<!-- http-example -->``: requests sent to the real Chalice app through Chalice's test client,
  with the in-memory adapters of ``demo.bank.memory``, and the answers it gave.
- ``<!-- event-types -->``: every event type published on the bus (the ledger's, from
  ``demo.bank.events``; the review workflow's, from its Amazon States Language definition), the
  EventBridge rules of ``resources.yaml`` that route it, their queues and the handlers that poll
  them; ``<!-- event-rules -->`` the rules themselves; ``<!-- event-example -->`` the events and
  webhooks the real code builds for two notifications.
- ``<!-- stage-settings -->``: every environment variable ``Settings.from_env`` reads, its
  default, and its value in each stage of ``.chalice/config.json``.
- ``<!-- tour-beats -->``: the beats of ``bankdemo tour`` (``demo.workshop.tour.BEATS``), for the talk page.

Registered in mkdocs.yml under ``hooks:``. The functions that collect the data are public: the
tests (tests/docs/test_reference_pages.py) compare the built pages with them.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import re
import time
import types
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "Makefile"
MARKER = re.compile(
    r"^<!--\s*(cli-reference|make-targets|make-variables|routes: serverless|routes: monolith|sqs-handlers"
    r"|error-codes|http-example|event-types|event-rules|event-example|stage-settings|tour-beats)\s*-->\s*$",
    re.MULTILINE,
)
EXAMPLE_SECRET = "docs-example-secret"  # noqa: S105 - signs the example requests, nothing else
EXAMPLE_TIME = 1_764_412_800  # 2025-11-29T10:40:00Z: the examples' fixed clock, where the code takes one


# -- helpers -----------------------------------------------------------------------------------


def _cell(text: object) -> str:
    """``text`` made safe for one Markdown table cell."""
    parts = " ".join(str(text).split()).split("`")
    # a pipe splits a row, except inside a code span (where a backslash would show)
    return "`".join(
        part if index % 2 else _outside_code(part).replace("|", "\\|") for index, part in enumerate(parts)
    )


def _outside_code(text: str) -> str:
    """``text`` with ``<`` and ``>`` escaped: ``dist/<stage>`` is not an HTML tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# -- the CLI -----------------------------------------------------------------------------------


def cli_group() -> Any:
    """The click group of the ``bankdemo`` Typer app."""
    import typer

    from demo.cli import app

    return typer.main.get_command(app)


def _context(command: Any, name: str, parent: Any = None) -> Any:
    """A context for ``command``, of the class its framework uses (Typer vendors its own click)."""
    return command.context_class(command, info_name=name, parent=parent)


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def cli_commands() -> list[tuple[list[str], Any]]:
    """Every command and sub-command of ``bankdemo``, as (path of names, command), in help order."""

    def walk(path: list[str], group: Any, parent: Any) -> Iterator[tuple[list[str], Any]]:
        ctx = _context(group, " ".join(path), parent)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            yield [*path, name], command
            if _is_group(command):
                yield from walk([*path, name], command, ctx)

    return list(walk(["bankdemo"], cli_group(), None))


def _type_name(param: Any, ctx: Any) -> str:
    if getattr(param, "is_flag", False) and not param.secondary_opts:
        return "flag"
    if getattr(param, "is_flag", False):
        return "flag pair"
    label = param.display_type(ctx).strip("<>")
    if label.endswith(" range"):
        low = "" if param.min is None else f"{param.min} ≤ "
        high = "" if param.max is None else f" ≤ {param.max}"
        label = f"{label.removesuffix(' range')} ({low}x{high})"
    if "|" in label:
        return " \\| ".join(f"`{choice}`" for choice in label.split("|"))
    return label


def _default(param: Any) -> str:
    if param.required:
        return "required"
    if param.show_default is False:
        return "see the help"
    value = getattr(param.default, "value", param.default)  # an Enum's value
    if callable(value):
        return "computed"
    if param.secondary_opts and isinstance(value, bool):
        return f"`{param.opts[0] if value else param.secondary_opts[0]}`"
    if value is None or value == "" or (value is False and getattr(param, "is_flag", False)):
        return "—"
    return f"`{value}`"


def _param_row(param: Any, ctx: Any) -> list[str]:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}` (argument)"
    else:
        name = " / ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    envvar = param.envvar if isinstance(param.envvar, str) else ", ".join(param.envvar or [])
    return [
        name,
        _cell(param.help or ""),
        _type_name(param, ctx),
        _default(param),
        f"`{envvar}`" if envvar else "",
    ]


def cli_markdown() -> str:
    """The whole CLI reference: a section per command."""
    commands = cli_commands()
    out = []
    for path, command in commands:
        ctx = _context(command, " ".join(path))
        usage = " ".join([*path, *command.collect_usage_pieces(ctx)])
        level = "#" * min(len(path) + 1, 6)
        out.append(f"{level} `{' '.join(path)}`\n")
        help_text = inspect.cleandoc(command.help or "")
        out.append("\n\n".join(_cell(p) for p in help_text.split("\n\n")) + "\n")
        out.append(f"```text\n{usage}\n```\n")
        if _is_group(command):
            subs = ", ".join(f"`{' '.join(p)}`" for p, _ in commands if p[:-1] == path)
            out.append(f"Sub-commands: {subs}.\n")
            continue
        params = [p for p in command.params if p.name != "help" and not getattr(p, "hidden", False)]
        if params:
            rows = [_param_row(p, ctx) for p in params]
            out.append(_table(["Argument or option", "Help", "Type", "Default", "Environment"], rows) + "\n")
        else:
            out.append("No arguments or options but `--help`.\n")
    return "\n".join(out)


# -- the Makefile ------------------------------------------------------------------------------

TARGET = re.compile(r"^([a-z-]+):.*## (.*)$")
VARIABLE = re.compile(r"^([A-Z_]+) \?= (.*)$")


def make_targets(makefile: Path = MAKEFILE) -> list[tuple[str, str]]:
    """The documented targets, as ``make help`` lists them: (target, help)."""
    found = [TARGET.match(line) for line in makefile.read_text(encoding="utf-8").splitlines()]
    return [(m.group(1), m.group(2)) for m in found if m]


def make_variables(makefile: Path = MAKEFILE) -> list[tuple[str, str, str]]:
    """The variables a caller may set (``NAME ?= default``): (name, default, the comment above it)."""
    lines = makefile.read_text(encoding="utf-8").splitlines()
    out = []
    for index, line in enumerate(lines):
        match = VARIABLE.match(line)
        if not match:
            continue
        comment: list[str] = []
        above = index - 1
        while above >= 0 and lines[above].startswith("#"):
            comment.insert(0, lines[above].lstrip("# ").strip())
            above -= 1
        out.append((match.group(1), match.group(2), " ".join(comment)))
    return out


def _make_targets_markdown() -> str:
    rows = [[f"`make {name}`", _cell(text)] for name, text in make_targets()]
    return _table(["Target", "What it does (its `##` comment in the Makefile)"], rows)


def _make_variables_markdown() -> str:
    rows = [
        [f"`{name}`", _cell(f"`{default}`"), _cell(comment) or "—"]
        for name, default, comment in make_variables()
    ]
    return _table(["Variable", "Default", "The Makefile's comment"], rows)


# -- the HTTP APIs -----------------------------------------------------------------------------


def chalice_app() -> Any:
    """The serverless bank's Chalice app module (``demo/serverless/app.py``), imported as Chalice does."""
    import importlib

    from demo.localcloud.session import on_project_path

    on_project_path()  # not demo.localcloud.cloud's loader: that module imports moto
    return importlib.import_module("app")


def serverless_routes() -> list[tuple[str, str, Any]]:
    """(method, path, route entry) of every route of the Chalice app."""
    app = chalice_app().app
    return [
        (method, path, entry) for path, methods in app.routes.items() for method, entry in methods.items()
    ]


def monolith_routes() -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every route of the monolith's Flask app (no static files)."""
    from demo.monolith.web import create_app

    flask_app = create_app(types.SimpleNamespace(signing_secret=EXAMPLE_SECRET))  # type: ignore[arg-type]
    routes = []
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, rule.endpoint))
    return routes


def _first_line(thing: Any) -> str:
    """The first paragraph of ``thing``'s own docstring (not an inherited one), in Markdown."""
    thing = getattr(thing, "func", thing)  # Chalice wraps an SQS handler; .func is the function
    doc = thing.__doc__ if thing is not None else None
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()).replace("``", "`")


def _serverless_routes_markdown() -> str:
    rows = []
    for method, path, entry in serverless_routes():
        auth = "IAM (SigV4)" if entry.authorizer is not None else "none at the gateway"
        if path == "/notifications" and method == "POST":
            auth = "`Bank-Signature` (checked by the app)"
        rows.append(
            [
                f"`{method}`",
                f"`{path}`",
                f"`{entry.view_name}`",
                auth,
                ", ".join(f"`{c}`" for c in entry.content_types),
                _cell(_first_line(entry.view_function)),
            ]
        )
    return _table(["Method", "Path", "Handler", "Auth", "Content types", "Docstring"], rows)


def _monolith_routes_markdown() -> str:
    from demo.monolith.web import create_app

    flask_app = create_app(types.SimpleNamespace(signing_secret=EXAMPLE_SECRET))  # type: ignore[arg-type]
    rows = []
    for method, path, endpoint in monolith_routes():
        view = flask_app.view_functions.get(endpoint)
        rows.append([f"`{method}`", f"`{path}`", f"`{endpoint}`", _cell(_first_line(view))])
    return _table(["Method", "Path", "View", "Docstring"], rows)


def sqs_handlers() -> list[tuple[str, str, int]]:
    """(handler, queue, batch size) of every SQS event source of the Chalice app."""
    app = chalice_app().app
    return [(s.name, s.queue, s.batch_size) for s in app.event_sources if hasattr(s, "queue")]


def _sqs_handlers_markdown() -> str:
    module = chalice_app()
    rows = [
        [f"`{name}`", f"`{queue}`", str(size), _cell(_first_line(getattr(module, name, None)))]
        for name, queue, size in sqs_handlers()
    ]
    return _table(["Handler", "Queue", "Batch size", "Docstring"], rows)


def error_classes() -> list[type]:
    """Every error of ``demo.bank.errors`` a client can get, with its code and status."""
    from demo.bank import errors

    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.BankError) and cls.__module__ == errors.__name__
    ]


def _error_codes_markdown() -> str:
    rows = sorted(
        (
            [str(cls.status), f"`{cls.code}`", f"`{cls.__name__}`", _cell(_first_line(cls))]
            for cls in error_classes()
        ),
        key=lambda row: (row[0], row[1], row[2]),
    )
    return _table(["Status", "`error.code`", "Class", "When"], rows)


class _FakeContainer:
    """The adapters ``app.py`` asks its container for, in memory (``demo.bank.memory``)."""

    def __init__(self) -> None:
        from demo.bank.memory import (
            InMemoryCardVault,
            InMemoryLedger,
            InMemoryPublisher,
            InMemoryQueue,
            InMemoryReviews,
            StaticSecrets,
        )
        from demo.localcloud.session import chalicelib_module

        self.ledger = InMemoryLedger()
        self.queue = InMemoryQueue()
        self.events = InMemoryPublisher()
        self.secrets = StaticSecrets(EXAMPLE_SECRET)
        self.reviews = self.review_workflow = InMemoryReviews(self.ledger)
        self.cards = InMemoryCardVault(self.ledger)
        self.requeue = None
        self.settings = chalicelib_module("bootstrap").Settings(
            stage="docs",
            ledger_table="bank-ledger-docs",
            signing_secret_parameter="/bank/docs/secret",  # noqa: S106 - a name
        )


def example_envelopes() -> dict[str, dict[str, Any]]:
    """The notifications of the examples, with fixed ids (so that the event ids shown are stable)."""
    return {
        "payin": {
            "webhook": "payin.received",
            "webhook_id": "5f0c1f9e-2b1a-4c39-9d0e-7d1b2a3c4e5f",
            "webhook_created_at": EXAMPLE_TIME,
            "object": "payin",
            "object_id": "pi-0001",
            "object_payload": {"wallet_id": "w-1", "amount": 2500, "currency": "EUR"},
        },
        "authorization": {
            "webhook": "card.authorization",
            "webhook_id": "8a6e0c52-97d4-4f8e-b0a1-3c2d1e0f9a8b",
            "webhook_created_at": EXAMPLE_TIME,
            "object": "cardtransaction",
            "object_id": "ct-0001",
            "object_payload": {
                "wallet_id": "w-1",
                "authorization_id": "a-1",
                "amount": 1250,
                "currency": "EUR",
                "card": {"pan": "5488210000003691", "holder": "ALEX OAK"},
                "merchant": {"name": "Corner Grocery", "mcc": "5411"},
            },
        },
        "large payin": {
            "webhook": "payin.received",
            "webhook_id": "c3b2a190-8f7e-4d6c-9b5a-4e3d2c1b0a99",
            "webhook_created_at": EXAMPLE_TIME,
            "object": "payin",
            "object_id": "pi-0002",
            "object_payload": {"wallet_id": "w-2", "amount": 1_500_000, "currency": "EUR"},
        },
    }


def _http_block(lines: list[str], body: str | None) -> str:
    text = "\n".join(lines)
    if body:
        text += "\n\n" + body
    return f"```http\n{text}\n```"


def _pretty(raw: bytes | str) -> str:
    try:
        return _json(json.loads(raw))
    except ValueError:
        return raw.decode() if isinstance(raw, bytes) else raw


def http_exchanges() -> list[tuple[str, str, str]]:
    """(what, request, response) for a few requests, answered by the real Chalice app in-process."""
    import botocore.exceptions
    from chalice.test import Client

    from demo.bank.signature import sign

    module = chalice_app()
    fake = _FakeContainer()
    original = module.container
    module.container = lambda: fake
    quiet = module.log.level
    module.log.setLevel(logging.CRITICAL)  # the 503 below logs a warning: not for the build's output
    exchanges = []

    def exchange(
        what: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        headers = headers or {}
        response = getattr(client.http, method.lower())(path, headers=headers, body=body)
        request = _http_block(
            [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())],
            _pretty(body) if body else None,
        )
        reply = _http_block(
            [
                f"HTTP/1.1 {response.status_code} {HTTPStatus(response.status_code).phrase}",
                *(f"{k}: {v}" for k, v in response.headers.items()),
            ],
            _pretty(response.body) if response.body else None,
        )
        exchanges.append((what, request, reply))

    try:
        with Client(module.app) as client:
            body = json.dumps(example_envelopes()["payin"]).encode()
            signature = sign(EXAMPLE_SECRET, body, int(time.time()))
            json_type = {"Content-Type": "application/json"}
            exchange(
                "A signed payin: accepted and queued, not applied yet",
                "POST",
                "/notifications",
                body,
                {**json_type, "Bank-Signature": signature},
            )
            exchange(
                "The same body, signed with another secret",
                "POST",
                "/notifications",
                body,
                {**json_type, "Bank-Signature": sign("another-secret", body, int(time.time()))},
            )
            invalid = dict(example_envelopes()["payin"], object_payload={"wallet_id": "w-1", "amount": -5})
            invalid_body = json.dumps(invalid).encode()
            exchange(
                "A signed envelope with a negative amount and no currency",
                "POST",
                "/notifications",
                invalid_body,
                {**json_type, "Bank-Signature": sign(EXAMPLE_SECRET, invalid_body, int(time.time()))},
            )
            # the worker takes the queued message, as Lambda would hand it over
            sqs_event = client.events.generate_sqs_event(
                queue_name="bank-notifications", message_bodies=[fake.queue.items[0][1]]
            )
            client.lambda_.invoke("apply_notifications", sqs_event)
            exchange("The wallet's balance, once the worker applied the payin", "GET", "/wallets/w-1/balance")
            exchange("A wallet the ledger does not know", "GET", "/wallets/w-404/balance")

            def down(*_: object) -> None:
                raise botocore.exceptions.ClientError(
                    {
                        "Error": {"Code": "ServiceUnavailable", "Message": "DynamoDB is down"},
                        "ResponseMetadata": {"HTTPStatusCode": 503},
                    },
                    "GetItem",
                )

            fake.ledger.balance = down  # type: ignore[method-assign]
            exchange("The same balance while DynamoDB answers 503", "GET", "/wallets/w-1/balance")
    finally:
        module.container = original
        module.log.setLevel(quiet)
    return exchanges


def _http_example_markdown() -> str:
    out = []
    for what, request, response in http_exchanges():
        out.append(f"**{what}**\n\n{request}\n\n{response}\n")
    return "\n".join(out)


# -- events ------------------------------------------------------------------------------------


def _template() -> dict[str, Any]:
    from demo.aws.cfn import load_template
    from demo.settings import SERVERLESS_PROJECT

    return load_template(SERVERLESS_PROJECT / "resources.yaml")


def ledger_event_types() -> list[str]:
    """The event types ``demo.bank.events`` defines: its CamelCase string constants."""
    from demo.bank import events

    return [
        value
        for name, value in vars(events).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", value)
    ]


def workflow_events() -> list[dict[str, Any]]:
    """The events the review workflow puts on the bus: source, type, fields, and the states that put them."""
    from demo.settings import SERVERLESS_PROJECT

    path = SERVERLESS_PROJECT / "statemachines" / "large-payment-review.asl.json"
    definition = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = {}
    for state_name, state in definition["States"].items():
        if not str(state.get("Resource", "")).startswith("arn:aws:states:::events:putEvents"):
            continue
        for entry in state["Parameters"]["Entries"]:
            event = found.setdefault(
                entry["DetailType"],
                {
                    "type": entry["DetailType"],
                    "source": entry["Source"],
                    "fields": [key.removesuffix(".$") for key in entry["Detail"]],
                    "states": [],
                },
            )
            event["states"].append(state_name)
    return list(found.values())


def event_rules() -> list[dict[str, Any]]:
    """Every EventBridge rule of resources.yaml: name, pattern, target queue and the handler polling it."""
    template = _template()
    resources = template["Resources"]
    handlers = {queue: name for name, queue, _ in sqs_handlers()}
    rules = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        props = resource["Properties"]
        for target in props.get("Targets", []):
            arn = target["Arn"]
            logical = arn["Fn::GetAtt"][0] if isinstance(arn, dict) and "Fn::GetAtt" in arn else str(arn)
            queue = resources.get(logical, {}).get("Properties", {}).get("QueueName", logical)
            rules.append(
                {
                    "rule": name,
                    "sources": props["EventPattern"].get("source", []),
                    "types": props["EventPattern"].get("detail-type"),
                    "queue": queue,
                    "handler": handlers.get(queue, ""),
                    "description": props.get("Description", ""),
                }
            )
    return rules


def routes_of(source: str, event_type: str) -> list[dict[str, Any]]:
    """The rules (and their targets) an event of ``source`` and ``event_type`` matches."""
    return [
        rule
        for rule in event_rules()
        if source in rule["sources"] and (rule["types"] is None or event_type in rule["types"])
    ]


def all_event_types() -> list[tuple[str, str]]:
    """(source, type) of every event published on the bus, the ledger's first."""
    from demo.bank.events import SOURCE

    return [(SOURCE, t) for t in ledger_event_types()] + [(e["source"], e["type"]) for e in workflow_events()]


def _sample_ledger_events() -> dict[str, Any]:
    """One real event of each ledger type, built by the worker's code for the example notifications."""
    from demo.bank import notifications, service
    from demo.bank.memory import InMemoryLedger, InMemoryPublisher

    ledger, publisher = InMemoryLedger(), InMemoryPublisher()
    for envelope in example_envelopes().values():
        notification = notifications.parse(json.dumps(envelope).encode())
        service.apply_and_publish(
            ledger, publisher, notification, now=EXAMPLE_TIME, review_threshold=1_000_000
        )
    samples: dict[str, Any] = {}
    for event in publisher.events:
        samples.setdefault(event.type, event)
    return samples


def _event_types_markdown() -> str:
    from demo.bank.webhooks import WEBHOOK_FOR_EVENT

    samples = _sample_ledger_events()
    by_workflow = {e["type"]: e for e in workflow_events()}
    rows = []
    for source, event_type in all_event_types():
        if event_type in by_workflow:
            event = by_workflow[event_type]
            fields = ", ".join(f"`{f}`" for f in event["fields"])
            publisher = "the review workflow (Step Functions), states " + ", ".join(
                f"`{s}`" for s in event["states"]
            )
        else:
            sample = samples.get(event_type)
            fields = (
                "`payload`: " + ", ".join(f"`{k}`" for k in sample.payload)
                if sample
                else "see `demo/bank/events.py`"
            )
            publisher = "the worker `apply_notifications` (`service.apply_and_publish`)"
        routes = routes_of(source, event_type)
        routed = "; ".join(f"`{r['rule']}` → `{r['queue']}` → `{r['handler']}`" for r in routes)
        webhook = WEBHOOK_FOR_EVENT.get(event_type)
        rows.append(
            [
                f"`{event_type}`",
                f"`{source}`",
                publisher,
                fields,
                routed or "no rule: on the bus only",
                f"`{webhook}`" if webhook else "—",
            ]
        )
    return _table(
        [
            "Type (`detail-type`)",
            "Source",
            "Published by",
            "Fields",
            "Rules → queue → handler",
            "Client webhook",
        ],
        rows,
    )


def _event_rules_markdown() -> str:
    rows = [
        [
            f"`{r['rule']}`",
            ", ".join(f"`{s}`" for s in r["sources"]),
            ", ".join(f"`{t}`" for t in r["types"]) if r["types"] else "any",
            f"`{r['queue']}`",
            f"`{r['handler']}`" if r["handler"] else "—",
            _cell(r["description"]),
        ]
        for r in event_rules()
    ]
    return _table(["Rule", "`source`", "`detail-type`", "Target queue", "Handler", "Description"], rows)


class _RecordingEvents:
    """Plays the EventBridge client for ``EventBridgePublisher``: keeps the PutEvents entries."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def _event_example_markdown() -> str:
    from demo.bank import notifications, service
    from demo.bank.events import DomainEvent
    from demo.bank.memory import InMemoryLedger
    from demo.bank.webhooks import WEBHOOK_FOR_EVENT, webhook_for
    from demo.localcloud.session import chalicelib_module

    publisher_class = chalicelib_module("events").EventBridgePublisher
    out = []
    ledger = InMemoryLedger()
    for key in ("authorization", "large payin"):
        recorder = _RecordingEvents()
        envelope = example_envelopes()[key]
        notification = notifications.parse(json.dumps(envelope).encode())
        service.apply_and_publish(
            ledger,
            publisher_class(recorder, "bank"),
            notification,
            now=EXAMPLE_TIME,
            review_threshold=1_000_000,
        )
        out.append(f"**The `{envelope['webhook']}` notification `{envelope['webhook_id']}`**")
        out.append(f"```json\n{_json(envelope)}\n```")
        out.append(
            "becomes this `PutEvents` call's entries (each `Detail` is a JSON string, shown parsed here):"
        )
        shown = [{**e, "Detail": json.loads(e["Detail"])} for e in recorder.entries]
        out.append(f"```json\n{_json(shown)}\n```")
        webhooks = [
            webhook_for(DomainEvent.from_detail(json.loads(e["Detail"])))
            for e in recorder.entries
            if e["DetailType"] in WEBHOOK_FOR_EVENT
        ]
        if webhooks:
            out.append("and the dispatcher turns the client's events into these webhooks:")
            out.append(f"```json\n{_json(webhooks)}\n```")
    return "\n\n".join(out)


# -- configuration -----------------------------------------------------------------------------


def settings_variables() -> list[tuple[str, str]]:
    """(variable, default in the code) for every ``env.get(...)`` of ``Settings.from_env``."""
    from demo.settings import SERVERLESS_PROJECT

    tree = ast.parse((SERVERLESS_PROJECT / "chalicelib" / "bootstrap.py").read_text(encoding="utf-8"))
    [settings] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    [from_env] = [n for n in settings.body if isinstance(n, ast.FunctionDef) and n.name == "from_env"]
    found: dict[str, tuple[int, str]] = {}
    for node in ast.walk(from_env):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and ast.unparse(node.func.value) == "env"
            and isinstance(node.args[0], ast.Constant)
        ):
            default = ast.unparse(node.args[1]) if len(node.args) > 1 else "None"
            found.setdefault(node.args[0].value, (node.lineno, default))
    return [(name, default) for name, (_, default) in sorted(found.items(), key=lambda item: item[1][0])]


def _stage_settings_markdown() -> str:
    from demo.aws.shipping import chalice_config, stage_environment

    stages = list(chalice_config()["stages"])
    environments = {stage: stage_environment(stage) for stage in stages}
    read = dict(settings_variables())
    names = list(read) + [n for n in environments[stages[0]] if n not in read]
    rows = []
    for name in names:
        values = [f"`{environments[s][name]}`" if name in environments[s] else "not set" for s in stages]
        default = _cell(f"`{read[name]}`") if name in read else "not a setting"
        rows.append([f"`{name}`", default, *values])
    return _table(["Variable", "Default in `Settings.from_env`", *stages], rows)


def _tour_beats_markdown() -> str:
    from demo.workshop.tour import BEATS

    rows = [[str(n), f"**{_cell(b.title)}**", _cell(b.does), _cell(b.look)] for n, b in enumerate(BEATS, 1)]
    return _table(["#", "Beat", "What it does", "Look at"], rows)


# -- the hook ----------------------------------------------------------------------------------

RENDER: dict[str, Callable[[], str]] = {
    "cli-reference": cli_markdown,
    "make-targets": _make_targets_markdown,
    "make-variables": _make_variables_markdown,
    "routes: serverless": _serverless_routes_markdown,
    "routes: monolith": _monolith_routes_markdown,
    "sqs-handlers": _sqs_handlers_markdown,
    "error-codes": _error_codes_markdown,
    "http-example": _http_example_markdown,
    "event-types": _event_types_markdown,
    "event-rules": _event_rules_markdown,
    "event-example": _event_example_markdown,
    "stage-settings": _stage_settings_markdown,
    "tour-beats": _tour_beats_markdown,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda match: RENDER[" ".join(match.group(1).split())]() + "\n", markdown)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the code the reference pages are generated from changes."""
    for path in ("demo", "Makefile"):
        server.watch(str(ROOT / path))
    return server
