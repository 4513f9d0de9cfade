"""Fuzz the Chalice app in-process: thousands of hostile requests and SQS records, generated.

The app runs through Chalice's test client (its local API Gateway) with in-memory adapters, as in
test_handlers.py. For every request: no 5xx; an error answer is JSON ``{"error": {"code",
"message"}}``; and a refused request leaves no trace (nothing queued, the ledger, the events, the
reviews unchanged). Each test counts its examples and checks the count, so the totals are facts:
see ``EXAMPLES`` (4,200 requests and SQS batches per run, in about 20 s).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client
from envelopes import payin
from hostile import (
    bad_envelopes,
    content_types,
    encode,
    header_names,
    header_values,
    json_error,
    json_values,
    legit_text,
    random_bodies,
    signature_for,
    tainted_text,
    valid_envelopes,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_handlers import FakeContainer, sqs_event

from demo.bank.reviews import ReviewRequest
from demo.bank.signature import sign
from demo.localcloud.cloud import load_chalice_app
from demo.localcloud.session import chalicelib_module

SECRET = "test-secret"  # FakeContainer's signing secret
REVIEW = ReviewRequest("rv-" + "c" * 32, "n-1", "w-review", "payin.received", 2_000_000, "EUR")

# Examples per test: their sum is the number of generated inputs per run.
EXAMPLES = {
    "envelopes": 1200,
    "bodies": 900,
    "headers": 500,
    "decisions": 700,
    "paths": 600,
    "sqs": 300,
}


def fuzz_settings(name: str) -> settings:
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


class FuzzContainer(FakeContainer):
    """FakeContainer, with the dispatcher's and the audit writer's adapters recorded in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.audit = SimpleNamespace(recorded=[])
        self.audit.batch = lambda: SimpleNamespace(
            add=lambda record_id, event: self.audit.recorded.append(event), flush=dict
        )
        self.counters = SimpleNamespace(added=[])
        self.counters.add = lambda name, amount=1: self.counters.added.append((name, amount))
        self.backoff = SimpleNamespace(delay=lambda record: 30)
        self.client_webhook_url = SimpleNamespace(value=lambda: "http://127.0.0.1:9/webhooks")
        self.client_webhook_secret = SimpleNamespace(value=lambda: "client-secret")
        self.posted: list[dict[str, Any]] = []


@pytest.fixture
def bank(monkeypatch):
    """The app wired to a FuzzContainer; ``bank.reset()`` gives it a fresh one (per example)."""
    module = load_chalice_app()
    current: list[FuzzContainer] = []

    def reset() -> FuzzContainer:
        current[:] = [FuzzContainer()]
        return current[0]

    def post_webhooks(url: str, secret: str, webhooks: list[dict[str, Any]]) -> list[int]:
        current[0].posted.extend(webhooks)
        return [200] * len(webhooks)

    reset()
    monkeypatch.setattr(module, "container", lambda: current[0])
    monkeypatch.setattr(chalicelib_module("webhooks"), "post_webhooks", post_webhooks)
    with Client(module.app) as client:
        yield SimpleNamespace(module=module, http=client.http, reset=reset, fake=lambda: current[0])


def state(fake: FuzzContainer) -> dict[str, Any]:
    """Everything a request or a record could change, as comparable values."""

    def public(obj: Any) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in vars(obj).items() if not k.startswith("_")}

    return {
        "ledger": public(fake.ledger),
        "queue": [(n, body) for n, body in fake.queue.items],
        "events": list(fake.events.events),
        "reviews": public(fake.reviews),
        "cards": public(fake.cards) if hasattr(fake, "cards") else None,
        "audit": list(fake.audit.recorded),
        "counters": list(fake.counters.added),
        "posted": copy.deepcopy(fake.posted),
    }


def signed_headers(body: bytes, content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"Bank-Signature": sign(SECRET, body, int(time.time()))}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def check_notification_answer(bank: Any, body: bytes, headers: dict[str, str], stats: Counter[str]) -> int:
    """POST /notifications: refused and no trace, or 202 and exactly this body queued once."""
    fake = bank.reset()
    before = state(fake)
    response = bank.http.post("/notifications", body=body, headers=headers)
    after = state(fake)
    assert response.status_code < 500, response.body
    if response.status_code == 202:
        stats["accepted"] += 1
        [(notification, queued)] = after.pop("queue")
        assert queued.encode("utf-8") == body
        assert json.loads(response.body)["notification_id"] == notification.notification_id
        before.pop("queue")
    else:
        stats[str(json_error(response.status_code, response.body)["code"])] += 1
    assert after == before
    return response.status_code


def test_mutated_envelopes_signed_with_the_right_secret_are_all_refused_with_their_fields(bank):
    """Post-signature validation: a valid envelope with 1 to 3 defects is always a 422 (or 400 for
    NaN/Infinity), names a failing field, and queues nothing."""
    stats: Counter[str] = Counter()

    @fuzz_settings("envelopes")
    @given(bad=bad_envelopes(), ascii_only=st.booleans())
    def run(bad, ascii_only):
        names, envelope = bad
        body = encode(envelope, ascii_only=ascii_only)
        assume(len(body) <= 64 * 1024)
        fake = bank.reset()
        response = bank.http.post("/notifications", body=body, headers=signed_headers(body))
        error = json_error(response.status_code, response.body)
        if response.status_code == 422:
            assert error["code"] == "validation_error" and error["fields"], names
        else:  # NaN and Infinity are not JSON; nor is a lone surrogate written unescaped
            assert (response.status_code, error["code"]) == (400, "invalid_json"), (names, error)
        assert fake.queue.items == []
        stats[f"{response.status_code} {names[0].split()[0]}"] += 1

    run()
    assert sum(stats.values()) >= EXAMPLES["envelopes"] * 0.9, stats


def test_random_bytes_and_json_values_signed_never_crash_and_leave_no_trace(bank):
    stats: Counter[str] = Counter()

    @fuzz_settings("bodies")
    @given(body=random_bodies)
    def run(body):
        check_notification_answer(bank, body, signed_headers(body), stats)

    run()
    assert sum(stats.values()) >= EXAMPLES["bodies"] * 0.9, stats
    # bad input, mostly: a mangled body may survive (a byte order mark, a space inserted between tokens)
    assert stats["accepted"] < sum(stats.values()) * 0.2, stats


def signature_headers() -> st.SearchStrategy[tuple[str, Any]]:
    """How the Bank-Signature header may be wrong (or, for 'good', right)."""
    return st.sampled_from(
        ["good", "none", "empty", "wrong secret", "stale", "future", "other body", "garbled", "extra v1"]
    ).flatmap(lambda how: st.tuples(st.just(how), header_values))


def test_random_headers_never_crash_and_only_a_good_signature_and_json_type_get_in(bank):
    stats: Counter[str] = Counter()

    @fuzz_settings("headers")
    @given(
        envelope=valid_envelopes(),
        signature=signature_headers(),
        content_type=st.just("application/json") | content_types,  # mostly past the type check
        extra=st.dictionaries(header_names, header_values, max_size=4),
        case=st.sampled_from(["Bank-Signature", "bank-signature", "BANK-SIGNATURE"]),
    )
    def run(envelope, signature, content_type, extra, case):
        body = encode(envelope)
        how, noise = signature
        headers = dict(extra)
        value = signature_for(SECRET, how, noise, body)
        if value is not None:
            headers[case] = value
        if content_type is not None:
            headers["Content-Type"] = content_type
        status = check_notification_answer(bank, body, headers, stats)
        assert status != 202 or how in ("good", "extra v1"), f"a request signed {how!r} was accepted"

    run()
    assert sum(stats.values()) >= EXAMPLES["headers"] * 0.9, stats


def decision_bodies() -> st.SearchStrategy[bytes]:
    keys = st.sampled_from(["decision", "reason", "by", ""]) | st.text(max_size=8)
    scalar_values = (
        st.sampled_from(["approve", "reject", "APPROVE", "", "maybe"])
        | legit_text
        | tainted_text()
        | st.text(min_size=490, max_size=520)
        | st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
    )
    objects = st.dictionaries(keys, scalar_values | json_values, max_size=4)
    return objects.map(encode) | random_bodies


def test_random_decision_bodies_never_crash_and_change_nothing_unless_accepted(bank):
    stats: Counter[str] = Counter()

    @fuzz_settings("decisions")
    @given(
        body=decision_bodies(), content_type=st.sampled_from(["application/json"] * 4 + ["text/plain", None])
    )
    def run(body, content_type):
        fake = bank.reset()
        fake.reviews.start(REVIEW)
        before = state(fake)
        headers = {"Content-Type": content_type} if content_type else {}
        response = bank.http.post(f"/reviews/{REVIEW.review_id}/decision", body=body, headers=headers)
        assert response.status_code < 500, response.body
        if response.status_code == 202:
            stats["accepted"] += 1
            decided = fake.reviews.review(REVIEW.review_id)
            assert decided.decision == json.loads(response.body)["decision"]
        else:
            stats[str(json_error(response.status_code, response.body)["code"])] += 1
            assert state(fake) == before

    run()
    assert sum(stats.values()) >= EXAMPLES["decisions"] * 0.9, stats
    assert stats["accepted"] < sum(stats.values()) * 0.2, stats


ROUTE_WORDS = ["wallets", "reviews", "notifications", "health", "balance", "decision"]
ODD_SEGMENTS = [
    "..",
    ".",
    "",
    "%2F",
    "%2e%2e",
    "w-1",
    "rv-" + "0" * 32,
    "a" * 65,
    "caf%C3%A9",
    "%00",
    "~",
    "*",
]
segments = st.sampled_from([*ROUTE_WORDS, *ODD_SEGMENTS, "{wallet_id}"]) | st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="/?#"), max_size=10
)


ROUTES = [
    "/wallets/{}/balance",
    "/reviews/{}",
    "/reviews/{}/decision",
    "/reviews",
    "/notifications",
    "/health",
]


@st.composite
def paths(draw: st.DrawFn) -> str:
    """A route with an odd segment in it (mostly), or any path at all."""
    if draw(st.integers(0, 3)):
        path = draw(st.sampled_from(ROUTES)).format(draw(segments))
    else:
        path = "/" + "/".join(draw(st.lists(segments, max_size=5)))
    if draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(st.sampled_from(["status", "x", ""]), segments), max_size=3))
        path += "?" + "&".join(f"{k}={v}" for k, v in pairs)
    return path


def test_random_methods_and_paths_never_crash_and_change_nothing(bank):
    """Unsigned and aimed at no real review: nothing may be queued, applied or decided."""
    stats: Counter[str] = Counter()
    fake = bank.fake()
    fake.reviews.start(REVIEW)

    @fuzz_settings("paths")
    @given(
        # not OPTIONS: Chalice's test client fails on the empty preflight answer (over HTTP: 200, empty)
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        path=paths(),
        body=st.sampled_from([b"", b"{}", encode({"decision": "approve"})]) | random_bodies,
        content_type=st.sampled_from(["application/json", "text/plain"]),
    )
    def run(method, path, body, content_type):
        before = state(fake)
        response = bank.http.request(method, path, headers={"Content-Type": content_type}, body=body)
        assert response.status_code < 500, (method, path, response.body)
        if response.status_code >= 400:
            stats[f"{response.status_code} {json_error(response.status_code, response.body)['code']}"] += 1
        else:
            stats[str(response.status_code)] += 1
        assert state(fake) == before

    run()
    assert sum(stats.values()) >= EXAMPLES["paths"] * 0.9, stats


# -- the SQS handlers --------------------------------------------------------------------------

DETAIL_KEYS = [
    "event_id",
    "type",
    "notification_id",
    "wallet_id",
    "occurred_at",
    "object",
    "object_id",
    "payload",
]


@st.composite
def bus_poison(draw: st.DrawFn) -> str:
    """An SQS body from an EventBridge rule that no consumer can handle: not JSON, not an event,
    no detail, a detail that is not an object or lacks a key it needs, or an unknown event type."""
    how = draw(st.sampled_from(["bytes", "json", "no detail", "detail", "partial detail", "review desk"]))
    if how == "bytes":
        return draw(st.text(max_size=50))
    if how == "json":
        return json.dumps(draw(json_values.filter(lambda v: not isinstance(v, dict) or "detail" not in v)))
    event: dict[str, Any] = {"detail-type": draw(st.text(max_size=20)), "source": "bank.ledger"}
    if how == "detail":
        event["detail"] = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    elif how == "partial detail":  # at least one key missing; the rest have any value
        keys = draw(st.lists(st.sampled_from(DETAIL_KEYS), unique=True, max_size=len(DETAIL_KEYS) - 1))
        event["detail"] = {k: draw(json_values) for k in keys}
    elif how == "review desk":
        kind = draw(st.sampled_from(["LargePaymentFlagged", "ReviewRequested"]))
        needed = {"LargePaymentFlagged": ["payload"], "ReviewRequested": ["review_id", "task_token"]}[kind]
        keys = draw(st.lists(st.sampled_from(needed), unique=True, max_size=len(needed) - 1))
        event["detail-type"], event["detail"] = kind, {k: draw(json_values) for k in keys}
    return json.dumps(event)


@st.composite
def poison_batches(draw: st.DrawFn) -> tuple[str, list[str], int | None]:
    """A handler, a batch of poison bodies for it, and (for the worker) where a good record sits."""
    handler = draw(st.sampled_from(["apply_notifications", "deliver_webhooks", "write_audit", "review_desk"]))
    if handler == "apply_notifications":  # never a valid envelope (a mangled one may be: not here)
        poison = (
            st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace"))
            | json_values.map(json.dumps)
            | bad_envelopes().map(lambda bad: json.dumps(bad[1]))
        )
    else:
        poison = bus_poison()
    bodies = draw(st.lists(poison, min_size=1, max_size=5))
    good_at = None
    if handler == "apply_notifications":
        good_at = draw(st.integers(0, len(bodies)))
        bodies.insert(good_at, json.dumps(payin("w-good", 100)))
    return handler, bodies, good_at


def test_poison_records_are_reported_one_by_one_and_change_nothing(bank, caplog):
    stats: Counter[str] = Counter()
    caplog.set_level(logging.CRITICAL, logger="bank")  # a traceback per poison record: not here

    @fuzz_settings("sqs")
    @given(batch=poison_batches())
    def run(batch):
        handler, bodies, good_at = batch
        fake = bank.reset()
        before = state(fake)
        result = getattr(bank.module, handler)(sqs_event(*bodies), None)
        poisoned = [f"m-{i}" for i in range(len(bodies)) if i != good_at]
        assert result == {"batchItemFailures": [{"itemIdentifier": i} for i in poisoned]}
        after = state(fake)
        if good_at is not None:  # its batch mate was applied, and only it
            assert fake.ledger.balance("w-good").current_balance == 100
            assert [e.wallet_id for e in after.pop("events")] == ["w-good"]
            before.pop("events"), after.pop("ledger"), before.pop("ledger")
        assert after == before
        stats[handler] += len(poisoned)

    run()
    assert sum(stats.values()) >= EXAMPLES["sqs"], stats
