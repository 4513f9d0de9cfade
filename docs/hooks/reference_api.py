"""The reference pages' generators for the bank's interfaces: the HTTP routes of both systems, the
SQS handlers, the error codes, a real HTTP exchange, and the events on the bus with their rules and
an example. Rendered by the markers of docs/hooks/reference.py (which lists them all)."""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
import types
from http import HTTPStatus
from typing import Any

from reference_markdown import EXAMPLE_SECRET, EXAMPLE_TIME, md_cell, md_json, md_table

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


def serverless_routes_markdown() -> str:
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
                md_cell(_first_line(entry.view_function)),
            ]
        )
    return md_table(["Method", "Path", "Handler", "Auth", "Content types", "Docstring"], rows)


def monolith_routes_markdown() -> str:
    from demo.monolith.web import create_app

    flask_app = create_app(types.SimpleNamespace(signing_secret=EXAMPLE_SECRET))  # type: ignore[arg-type]
    rows = []
    for method, path, endpoint in monolith_routes():
        view = flask_app.view_functions.get(endpoint)
        rows.append([f"`{method}`", f"`{path}`", f"`{endpoint}`", md_cell(_first_line(view))])
    return md_table(["Method", "Path", "View", "Docstring"], rows)


def sqs_handlers() -> list[tuple[str, str, int]]:
    """(handler, queue, batch size) of every SQS event source of the Chalice app."""
    app = chalice_app().app
    return [(s.name, s.queue, s.batch_size) for s in app.event_sources if hasattr(s, "queue")]


def sqs_handlers_markdown() -> str:
    module = chalice_app()
    rows = [
        [f"`{name}`", f"`{queue}`", str(size), md_cell(_first_line(getattr(module, name, None)))]
        for name, queue, size in sqs_handlers()
    ]
    return md_table(["Handler", "Queue", "Batch size", "Docstring"], rows)


def error_classes() -> list[type]:
    """Every error of ``demo.bank.errors`` a client can get, with its code and status."""
    from demo.bank import errors

    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.BankError) and cls.__module__ == errors.__name__
    ]


def error_codes_markdown() -> str:
    rows = sorted(
        (
            [str(cls.status), f"`{cls.code}`", f"`{cls.__name__}`", md_cell(_first_line(cls))]
            for cls in error_classes()
        ),
        key=lambda row: (row[0], row[1], row[2]),
    )
    return md_table(["Status", "`error.code`", "Class", "When"], rows)


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
        return md_json(json.loads(raw))
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


def http_example_markdown() -> str:
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


def event_types_markdown() -> str:
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
    return md_table(
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


def event_rules_markdown() -> str:
    rows = [
        [
            f"`{r['rule']}`",
            ", ".join(f"`{s}`" for s in r["sources"]),
            ", ".join(f"`{t}`" for t in r["types"]) if r["types"] else "any",
            f"`{r['queue']}`",
            f"`{r['handler']}`" if r["handler"] else "—",
            md_cell(r["description"]),
        ]
        for r in event_rules()
    ]
    return md_table(["Rule", "`source`", "`detail-type`", "Target queue", "Handler", "Description"], rows)


class _RecordingEvents:
    """Plays the EventBridge client for ``EventBridgePublisher``: keeps the PutEvents entries."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def event_example_markdown() -> str:
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
        out.append(f"```json\n{md_json(envelope)}\n```")
        out.append(
            "becomes this `PutEvents` call's entries (each `Detail` is a JSON string, shown parsed here):"
        )
        shown = [{**e, "Detail": json.loads(e["Detail"])} for e in recorder.entries]
        out.append(f"```json\n{md_json(shown)}\n```")
        webhooks = [
            webhook_for(DomainEvent.from_detail(json.loads(e["Detail"])))
            for e in recorder.entries
            if e["DetailType"] in WEBHOOK_FOR_EVENT
        ]
        if webhooks:
            out.append("and the dispatcher turns the client's events into these webhooks:")
            out.append(f"```json\n{md_json(webhooks)}\n```")
    return "\n\n".join(out)
