"""Fuzz the monolith's Flask app in-process: thousands of hostile requests, generated, as
test_fuzz_api.py does for the Chalice app. The routes run through Flask's test client on a site
whose inbox, broker and ledger are recorded in memory. For every request: no 5xx; an error answer
is JSON ``{"error": {"code", "message"}}``; a refused request leaves no trace (no inbox row, nothing
published, the ledger unchanged); an accepted one records and publishes exactly its body, once.
Each test counts its examples and checks the count: see ``EXAMPLES`` (5,800 requests a run). With
test_fuzz_api.py's 4,200 and test_bad_input.py's 300 over HTTP, 10,300 hostile requests a run
across both systems.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from hostile import (
    bad_envelopes,
    content_types,
    encode,
    header_names,
    header_values,
    json_error,
    random_bodies,
    signature_for,
    valid_envelopes,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from demo.bank.memory import InMemoryLedger
from demo.bank.notifications import Notification
from demo.bank.signature import sign
from demo.monolith.web import create_app

SECRET = "monolith-test-secret"
# Examples per test: their sum is the number of generated requests per run.
EXAMPLES = {"envelopes": 2000, "bodies": 1500, "headers": 1300, "paths": 1000}


def fuzz_settings(name: str) -> settings:
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


class RecordedSite:
    """A :class:`demo.monolith.web.Site` whose inbox, broker and faults are lists in memory."""

    def __init__(self) -> None:
        self.signing_secret = SECRET
        self.ledger = InMemoryLedger()
        self.recorded: list[str] = []  # the inbox: notification ids
        self.published: list[str] = []  # the broker: bodies
        self.injected: list[str] = []
        self.inbox = SimpleNamespace(recording=self._recording)
        self.broker = SimpleNamespace(publish=self.published.append)

    @contextlib.contextmanager
    def _recording(self, notification: Notification) -> Iterator[None]:
        yield
        self.recorded.append(notification.notification_id)

    def status(self) -> dict[str, Any]:
        return {"recorded": len(self.recorded)}

    def inject(self, fault: str) -> dict[str, Any]:
        self.injected.append(fault)
        return {"fault": fault}

    def state(self) -> dict[str, Any]:
        """Everything a request could change, as comparable values."""
        return copy.deepcopy(
            {
                "ledger": {k: v for k, v in vars(self.ledger).items() if not k.startswith("_")},
                "recorded": self.recorded,
                "published": self.published,
                "injected": self.injected,
            }
        )


@pytest.fixture
def monolith() -> Any:
    site = RecordedSite()
    app = create_app(site)
    return SimpleNamespace(site=site, http=app.test_client())


def signed(body: bytes, content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"Bank-Signature": sign(SECRET, body, int(time.time()))}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def check_notification_answer(
    monolith: Any, body: bytes, headers: dict[str, str], stats: Counter[str]
) -> int:
    """POST /notifications: refused and no trace, or 202 and exactly this body recorded and published once."""
    before = monolith.site.state()
    response = monolith.http.post("/notifications", data=body, headers=headers)
    after = monolith.site.state()
    assert response.status_code < 500, response.data[:300]
    if response.status_code == 202:
        stats["accepted"] += 1
        assert after.pop("published")[len(before.pop("published")) :] == [body.decode("utf-8")]
        [recorded] = after.pop("recorded")[len(before.pop("recorded")) :]
        assert json.loads(response.data)["notification_id"] == recorded
    else:
        stats[str(json_error(response.status_code, response.data)["code"])] += 1
    assert after == before
    return response.status_code


def test_mutated_envelopes_signed_with_the_right_secret_are_all_refused_and_leave_no_trace(
    monolith: Any,
) -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings("envelopes")
    @given(bad=bad_envelopes(), ascii_only=st.booleans())
    def run(bad: tuple[list[str], dict[str, Any]], ascii_only: bool) -> None:
        names, envelope = bad
        body = encode(envelope, ascii_only=ascii_only)
        assume(len(body) <= 64 * 1024)
        status = check_notification_answer(monolith, body, signed(body), stats)
        assert status in (400, 422), (names, status)
        stats[f"{status} {names[0].split()[0]}"] += 1

    run()
    assert stats["accepted"] == 0, stats
    assert sum(n for k, n in stats.items() if k[:3] in ("400", "422")) >= EXAMPLES["envelopes"] * 0.9, stats


def test_random_bytes_and_json_values_signed_never_crash_and_leave_no_trace(monolith: Any) -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings("bodies")
    @given(body=random_bodies, content_type=st.just("application/json") | content_types)
    def run(body: bytes, content_type: str | None) -> None:
        check_notification_answer(monolith, body, signed(body, content_type), stats)

    run()
    assert sum(stats.values()) >= EXAMPLES["bodies"] * 0.9, stats
    assert stats["accepted"] < sum(stats.values()) * 0.2, stats  # a mangled body may survive, now and then


SIGNATURES = ["good", "none", "empty", "wrong secret", "stale", "future", "other body", "garbled"]


def test_only_a_good_signature_gets_in_whatever_the_headers(monolith: Any) -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings("headers")
    @given(
        envelope=valid_envelopes(),
        how=st.sampled_from(SIGNATURES),
        noise=header_values,
        extra=st.dictionaries(header_names, header_values, max_size=4),
        case=st.sampled_from(["Bank-Signature", "bank-signature", "BANK-SIGNATURE"]),
    )
    def run(envelope: dict[str, Any], how: str, noise: str, extra: dict[str, str], case: str) -> None:
        body = encode(envelope)
        headers = {k: v for k, v in extra.items() if k.lower() not in ("bank-signature", "content-type")}
        value = signature_for(SECRET, how, noise, body)
        if value is not None:
            headers[case] = value
        headers["Content-Type"] = "application/json"
        status = check_notification_answer(monolith, body, headers, stats)
        assert (status == 202) == (how == "good"), (how, status)

    run()
    assert sum(stats.values()) >= EXAMPLES["headers"] * 0.9, stats
    assert stats["accepted"] > 0, stats


BROWSER = [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Host": "evil.example"}]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    """A method, a path and headers: the balance route with any wallet id, the control routes as a
    web page would call them, and paths no route serves."""
    kind = draw(st.sampled_from(["balance", "admin", "other"]))
    text = draw(st.text(max_size=40))
    if kind == "balance":
        return (
            draw(st.sampled_from(["GET", "POST", "DELETE"])),
            f"/wallets/{quote(text, safe='')}/balance",
            {},
        )
    if kind == "admin":
        method = draw(st.sampled_from(["POST", "PUT", "DELETE"]))
        fault = draw(st.sampled_from(["broker-restart", "database-down", quote(text, safe="")]))
        return method, f"/_admin/faults/{fault}", draw(st.sampled_from(BROWSER))
    method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
    return method, "/" + quote(text, safe="/"), {}


def test_any_method_on_any_path_answers_json_never_5xx_and_a_web_page_breaks_nothing(monolith: Any) -> None:
    stats: Counter[str] = Counter()

    @fuzz_settings("paths")
    @given(request=requests())
    def run(request: tuple[str, str, dict[str, str]]) -> None:
        method, path, headers = request
        before = monolith.site.state()
        response = monolith.http.open(path, method=method, headers=headers)
        assert response.status_code < 500, (method, path, response.data[:200])
        assert monolith.site.state() == before  # nothing injected, recorded, published or written
        if path.startswith("/_admin/"):
            assert response.status_code == 403, (method, path, headers)
        if response.status_code >= 400 and method != "OPTIONS":
            stats[str(json_error(response.status_code, response.data)["code"])] += 1
        else:
            stats[str(response.status_code)] += 1

    run()
    assert sum(stats.values()) >= EXAMPLES["paths"] * 0.9, stats
    assert stats["forbidden"] > 0 and stats["wallet_not_found"] + stats["invalid_wallet_id"] > 0, stats
