"""Bad input at every entry, over real HTTP against the local cloud: one table per entry.

Each table row is one hostile input, the answer it gets, and what it may leave behind (nothing,
for a refusal). docs/reference/bad-input.md shows the same tables, and
``test_the_reference_page_shows_these_tables`` checks that the page and the tables agree. The rows
of POST /notifications that tests/integration/test_api.py already checks (``BAD_INPUT`` there)
are not repeated here, but the page lists them too.

Requests go through ``http.client``, which sends a path as it is (``/wallets/../balance`` stays
so), and headers as given (twice, or with non-ASCII bytes).
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from envelopes import authorization, payin
from hostile import bad_envelopes, content_types, header_values, json_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polling import poll_until
from test_api import BAD_INPUT

from demo.bank.notifications import MAX_AMOUNT, MAX_BODY_BYTES
from demo.bank.reviews import DEFAULT_THRESHOLD
from demo.bank.signature import sign
from demo.parties.client import BankApi, encode

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "bad-input.md"
NOTHING = "nothing"
QUEUED = "the notification, queued once"
GATEWAY_403 = {"message": "Missing Authentication Token"}


@dataclass(frozen=True)
class Row:
    """One hostile input and its answer. ``code`` None: no error body of ours (2xx, or the gateway's)."""

    input: str  # the page's "input" column, and the test id
    status: int
    code: str | None
    stored: str = NOTHING
    method: str = "POST"
    path: str = "/notifications"
    body: bytes = b""
    content_type: str | None = "application/json"
    signature: str = "good"  # POST /notifications: see signature_headers()
    fields: tuple[str, ...] = ()  # a 422's failing fields, all of them


def _with(envelope: dict[str, Any], **payload: Any) -> dict[str, Any]:
    envelope["object_payload"].update(payload)
    return envelope


def _set(envelope: dict[str, Any], **fields: Any) -> dict[str, Any]:
    envelope.update(fields)
    return envelope


def _merchant(name: str) -> bytes:
    envelope = authorization(f"w-{uuid.uuid4().hex[:12]}", "a-1", 500)
    envelope["object_payload"]["merchant"]["name"] = name
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _holder(holder: str) -> bytes:
    envelope = authorization(f"w-{uuid.uuid4().hex[:12]}", "a-1", 500)
    envelope["object_payload"]["card"]["holder"] = holder
    return json.dumps(envelope).encode()  # ensure_ascii: a lone surrogate is written \ud800


def _raw_note(text: str) -> bytes:
    """A payin with ``text`` written as it is (not escaped) in a key the bank does not know."""
    return json.dumps(_with(_fresh_payin(), note=text), ensure_ascii=False).encode()


def _fresh_payin(amount: int = 100) -> dict[str, Any]:
    return payin(f"w-{uuid.uuid4().hex[:12]}", amount)


def _padded_to(size: int) -> bytes:
    envelope = _with(_fresh_payin(), note="")
    padding = size - len(encode(envelope))
    envelope["object_payload"]["note"] = "x" * padding
    body = encode(envelope)
    assert len(body) == size
    return body


def _raw_amount(literal: str) -> bytes:
    return encode(_fresh_payin(7)).replace(b'"amount":7', b'"amount":' + literal.encode())


AMOUNT, P = "object_payload.amount", "object_payload"
MERCHANT_NAME = f"{P}.merchant.name"


def queued(input: str, body: bytes, **kw: Any) -> Row:
    """Accepted: 202, and the notification queued once."""
    return Row(input, 202, None, QUEUED, body=body, **kw)


def refused(input: str, body: bytes, *fields: str, **kw: Any) -> Row:
    """A schema error: 422 naming every failing field."""
    return Row(input, 422, "validation_error", body=body, fields=fields, **kw)


def not_json(input: str, body: bytes, **kw: Any) -> Row:
    return Row(input, 400, "invalid_json", body=body, **kw)


def unsigned(input: str, signature: str) -> Row:
    """A valid envelope, but the signature header is wrong this way (see signature_headers())."""
    return Row(input, 401, "invalid_signature", body=encode(_fresh_payin()), signature=signature)


def wrong_type(input: str, body: bytes, content_type: str) -> Row:
    return Row(input, 415, "unsupported_media_type", body=body, content_type=content_type)


NOTIFICATIONS = [
    # -- the content type, then the size, come first (Chalice checks the type before the view runs)
    wrong_type(
        "`Content-Type: application/x-www-form-urlencoded`",
        encode(_fresh_payin()),
        "application/x-www-form-urlencoded",
    ),
    wrong_type("empty `Content-Type`", encode(_fresh_payin()), ""),
    wrong_type("body over 64 KiB with a wrong content type", _padded_to(MAX_BODY_BYTES + 1), "text/plain"),
    queued("no `Content-Type` header (Chalice assumes JSON)", encode(_fresh_payin()), content_type=None),
    queued(
        "`Content-Type: application/json; charset=utf-8`",
        encode(_fresh_payin()),
        content_type="application/json; charset=utf-8",
    ),
    Row(
        "body over 64 KiB, unsigned",
        413,
        "payload_too_large",
        body=_padded_to(MAX_BODY_BYTES + 1),
        signature="none",
    ),
    queued("body of exactly 64 KiB (65,536 bytes)", _padded_to(MAX_BODY_BYTES)),
    # -- then the signature, before the body is even parsed
    Row("invalid JSON, unsigned", 401, "invalid_signature", body=b'{"webhook": ', signature="none"),
    unsigned("empty `Bank-Signature` header", "empty"),
    unsigned("`Bank-Signature: garbage`", "garbage"),
    unsigned("`t=` without `v1=`", "t only"),
    unsigned("`v1=` without `t=`", "v1 only"),
    unsigned("timestamp not a number (`t=yesterday`)", "t word"),
    unsigned("timestamp 360 s in the future", "future"),
    unsigned("timestamp with a leading zero (`t=01764412800`): one spelling per signature", "leading zero"),
    unsigned("the signature of another body", "other body"),
    unsigned("`v1=` not hexadecimal", "not hex"),
    unsigned("non-ASCII bytes in the header", "non-ascii"),
    unsigned("two `Bank-Signature` headers, the valid one second", "good twice, valid second"),
    queued(
        "two `Bank-Signature` headers, the valid one first (the first one counts)",
        encode(_fresh_payin()),
        signature="good twice, valid first",
    ),
    queued(
        "several `v1=` in one header, one of them valid (a secret rotation)",
        encode(_fresh_payin()),
        signature="extra v1",
    ),
    # -- then the JSON
    not_json("empty body", b""),
    refused("JSON array `[]`", b"[]", "$"),
    refused('JSON string `"payin"`', b'"payin"', "$"),
    refused("JSON `null`", b"null", "$"),
    refused("JSON number `42`", b"42", "$"),
    not_json("arrays nested 30,000 deep", b"[" * 30_000 + b"]" * 30_000),
    not_json("`NaN` as the amount", _raw_amount("NaN")),
    not_json("`-Infinity` as the amount", _raw_amount("-Infinity")),
    not_json("bytes that are not UTF-8", b'{"webhook": "\xff\xfe"}'),
    not_json("UTF-16 JSON", json.dumps(_fresh_payin()).encode("utf-16")),
    not_json("UTF-16 JSON without a byte order mark", json.dumps(_fresh_payin()).encode("utf-16-le")),
    queued("a UTF-8 byte order mark, then the JSON (ignored)", b"\xef\xbb\xbf" + encode(_fresh_payin())),
    not_json("bytes after the JSON object", encode(_fresh_payin()) + b"x"),
    not_json("an amount of 5,000 digits (Python's int limit)", _raw_amount("9" * 5000)),
    refused("a key twice: the last one counts (`amount` 5, then -1)", _raw_amount('5,"amount":-1'), AMOUNT),
    # -- then every field, all failures reported at once
    refused("`amount`: `true`", encode(_with(_fresh_payin(), amount=True)), AMOUNT),
    refused("`amount`: 0", encode(_with(_fresh_payin(), amount=0)), AMOUNT),
    refused(
        "`amount`: MAX_AMOUNT + 1 (10^12 + 1 cents)",
        encode(_with(_fresh_payin(), amount=MAX_AMOUNT + 1)),
        AMOUNT,
    ),
    refused("`amount`: 2^63 (a 64-bit overflow)", encode(_with(_fresh_payin(), amount=2**63)), AMOUNT),
    refused("`amount`: `1e400` (a float overflow)", _raw_amount("1e400"), AMOUNT),
    refused("`amount`: `12.0`", _raw_amount("12.0"), AMOUNT),
    # with no valid type, no payload key but wallet_id is required: the amount is not looked at
    refused("`webhook`: a list", encode(_set(_fresh_payin(), webhook=["payin.received"])), "webhook"),
    refused(
        "`webhook`: an object", encode(_set(_fresh_payin(), webhook={"type": "payin.received"})), "webhook"
    ),
    refused("`webhook_id`: not a UUID", encode(_set(_fresh_payin(), webhook_id="123")), "webhook_id"),
    refused(
        "`webhook_created_at`: a string",
        encode(_set(_fresh_payin(), webhook_created_at="2026-01-01")),
        "webhook_created_at",
    ),
    refused("`object_payload`: an array", encode(_set(_fresh_payin(), object_payload=[1, 2])), P),
    refused("`currency`: USD", encode(_with(_fresh_payin(), currency="USD")), f"{P}.currency"),
    refused("`wallet_id`: `../etc`", encode(_with(_fresh_payin(), wallet_id="../etc")), f"{P}.wallet_id"),
    refused(
        "`wallet_id`: 65 characters", encode(_with(_fresh_payin(), wallet_id="w" * 65)), f"{P}.wallet_id"
    ),
    queued("merchant name `Café Zürich ☕`", _merchant("Café Zürich ☕")),
    queued("merchant name with a right-to-left override (U+202E)", _merchant("Caf\u202eé")),
    queued(
        "merchant name with a card number in it (kept masked: `411111******1111`)",
        _merchant("Cafe 4111111111111111"),
    ),
    refused("merchant name with a NUL (`\\u0000`)", _merchant("Caf\x00"), MERCHANT_NAME),
    refused("merchant name with a newline", _merchant("Café\nZürich"), MERCHANT_NAME),
    refused("merchant name with a C1 control (U+0085)", _merchant("Café\x85"), MERCHANT_NAME),
    not_json("merchant name with a raw U+FFFF (no SQS message may carry it)", _merchant("Café\uffff")),
    not_json("a raw U+FFFE in an unknown key (no SQS message may carry it)", _raw_note("\ufffe")),
    queued(
        "`\\ufffe` escaped in an unknown key (the body is ASCII)",
        encode(_with(_fresh_payin(), note="\ufffe")),
    ),
    refused("merchant name of 129 characters", _merchant("é" * 129), MERCHANT_NAME),
    refused("card holder with a lone surrogate (`\\ud800`)", _holder("ALEX \ud800"), f"{P}.card.holder"),
    refused(
        "card number with letters",
        encode(_with(authorization("w-1", "a-1", 5), card={"pan": "5488ABCD00003691", "holder": "A"})),
        f"{P}.card.pan",
    ),
    refused(
        "merchant category code of 3 digits",
        encode(_with(authorization("w-1", "a-1", 5), merchant={"name": "Shop", "mcc": "541"})),
        f"{P}.merchant.mcc",
    ),
    queued(
        "unknown keys at every level (ignored)",
        encode(_set(_with(_fresh_payin(), extra={"x": [1, None]}), extra="yes", **{"": 0, "webhook ": "x"})),
    ),
]


def get(input: str, path: str, status: int, code: str | None) -> Row:
    return Row(input, status, code, method="GET", path=path)


WALLET = "/wallets/{}/balance"
BAD_WALLET = "invalid_wallet_id"
GET_ROUTES = [
    get("`/wallets/../balance`, sent as is", WALLET.format(".."), 422, BAD_WALLET),
    get("`%2F` in the wallet id", WALLET.format("a%2Fb"), 422, BAD_WALLET),
    get("`%2e%2e` as the wallet id", WALLET.format("%2e%2e"), 422, BAD_WALLET),
    get("a wallet id of 65 characters", WALLET.format("w" * 65), 422, BAD_WALLET),
    get("a wallet id of 64 characters, unknown", WALLET.format("w" * 64), 404, "wallet_not_found"),
    get("a NUL (`%00`) in the wallet id", WALLET.format("w%00"), 422, BAD_WALLET),
    get("a non-ASCII wallet id (`caf%C3%A9`)", WALLET.format("caf%C3%A9"), 422, BAD_WALLET),
    get("an empty wallet id (`/wallets//balance`)", WALLET.format(""), 422, BAD_WALLET),
    get(
        "a trailing slash (`/wallets/w-nobody/balance/`): as without",
        WALLET.format("w-nobody") + "/",
        404,
        "wallet_not_found",
    ),
    get("`?status=` (empty)", "/reviews?status=", 422, "invalid_status"),
    get("`?status=PENDING` (upper case)", "/reviews?status=PENDING", 422, "invalid_status"),
    get("`?status=%00`", "/reviews?status=%00", 422, "invalid_status"),
    get(
        "`?status=all&status=bogus` (the last one counts)",
        "/reviews?status=all&status=bogus",
        422,
        "invalid_status",
    ),
    get("`/reviews/rv-` and 31 hex digits", "/reviews/rv-" + "0" * 31, 404, "review_not_found"),
    get("`/reviews/rv-` and 32 upper-case hex digits", "/reviews/rv-" + "A" * 32, 404, "review_not_found"),
    get("`/reviews/..%2F..%2Fetc`", "/reviews/..%2F..%2Fetc", 404, "review_not_found"),
    get("`/health?x=%00` (an unknown parameter)", "/health?x=%00", 200, None),
]

NOT_ALLOWED = "method_not_allowed_error"
OTHER_ROUTES = [
    get("`GET /`", "/", 403, None),
    get("`GET /nope`", "/nope", 403, None),
    get("`GET /wallets/w-1` (no `/balance`)", "/wallets/w-1", 403, None),
    get("`GET /notifications`", "/notifications", 405, NOT_ALLOWED),
    get("`GET /reviews/{review_id}/decision`", "/reviews/rv-" + "0" * 32 + "/decision", 405, NOT_ALLOWED),
    Row("`PUT /notifications`", 405, NOT_ALLOWED, method="PUT", body=encode(_fresh_payin())),
    Row("`DELETE /notifications`", 405, NOT_ALLOWED, method="DELETE"),
    Row("`HEAD /notifications`", 405, None, method="HEAD"),
    Row("`OPTIONS /notifications` (a CORS preflight)", 200, None, method="OPTIONS"),
    Row("`POST /health`", 405, NOT_ALLOWED, path="/health"),
    Row("`POST /wallets/w-1/balance`", 405, NOT_ALLOWED, path=WALLET.format("w-1")),
    Row("`DELETE /reviews`", 405, NOT_ALLOWED, method="DELETE", path="/reviews"),
    Row("`PATCH /notifications`", 405, NOT_ALLOWED, method="PATCH", body=encode(_fresh_payin())),
    Row("`BREW /notifications` (a method no HTTP server knows)", 405, NOT_ALLOWED, method="BREW"),
    Row("`BREW /nope`", 403, None, method="BREW", path="/nope"),
]

DECISION = "/reviews/{review}/decision"
UNCHANGED = "nothing: the review stays pending"


def _decision(**body: Any) -> bytes:
    return json.dumps(body).encode()


def decide(input: str, body: bytes, status: int, code: str, *fields: str, **kw: Any) -> Row:
    """A decision for the pending review (``{review}``): refused, and the review unchanged."""
    return Row(input, status, code, UNCHANGED, path=DECISION, body=body, fields=fields, **kw)


def bad_decision(input: str, body: bytes, *fields: str, **kw: Any) -> Row:
    return decide(input, body, 422, "validation_error", *fields, **kw)


def not_json_decision(input: str, body: bytes) -> Row:
    return decide(input, body, 400, "invalid_json")


DECISIONS = [
    decide("invalid JSON", b'{"decision": ', 400, "invalid_json"),
    decide("empty body", b"", 400, "invalid_json"),
    decide("bytes that are not UTF-8", b'{"decision": "\xff"}', 400, "invalid_json"),
    decide("arrays nested 30,000 deep", b"[" * 30_000 + b"]" * 30_000, 400, "invalid_json"),
    decide(
        "body over 64 KiB",
        _decision(decision="reject", reason="x" * MAX_BODY_BYTES),
        413,
        "payload_too_large",
    ),
    decide(
        "wrong content type (`text/plain`)",
        _decision(decision="approve"),
        415,
        "unsupported_media_type",
        content_type="text/plain",
    ),
    bad_decision("JSON array `[]`", b"[]", "(body)"),
    bad_decision('JSON string `"approve"`', b'"approve"', "(body)"),
    bad_decision("JSON `null`", b"null", "(body)"),
    not_json_decision('`{"decision": NaN}`', b'{"decision": NaN}'),
    not_json_decision("UTF-16 JSON", json.dumps({"decision": "approve"}).encode("utf-16")),
    bad_decision("`decision`: `maybe`", _decision(decision="maybe"), "decision"),
    bad_decision("`decision`: `APPROVE`", _decision(decision="APPROVE"), "decision"),
    bad_decision("`decision`: `true`", _decision(decision=True), "decision"),
    bad_decision("no `decision`", _decision(reason="ok"), "decision"),
    bad_decision("`decision`: a list", _decision(decision=["approve"]), "decision"),
    bad_decision("`decision`: an object", _decision(decision={"approve": True}), "decision"),
    bad_decision("`reject` without a reason", _decision(decision="reject"), "reason"),
    bad_decision("`reject` with a reason of spaces", _decision(decision="reject", reason="   "), "reason"),
    bad_decision("`reason`: a number", _decision(decision="approve", reason=7), "reason"),
    bad_decision("`reason` of 501 characters", _decision(decision="approve", reason="x" * 501), "reason"),
    bad_decision("`reason` with a NUL", _decision(decision="reject", reason="fraud\x00"), "reason"),
    bad_decision("an unknown field (`by`)", _decision(decision="approve", by="me"), "by"),
    Row(
        "a valid decision for an unknown review",
        404,
        "review_not_found",
        path="/reviews/rv-" + "0" * 32 + "/decision",
        body=_decision(decision="approve"),
    ),
    Row(
        "a valid decision for `/reviews/..%2F..%2Fx/decision`",
        404,
        "review_not_found",
        path="/reviews/..%2F..%2Fx/decision",
        body=_decision(decision="approve"),
    ),
]

HTTP_TABLES = {
    "POST /notifications": NOTIFICATIONS,
    "The GET routes": GET_ROUTES,
    "Any other route or method": OTHER_ROUTES,
    "POST /reviews/{review_id}/decision": DECISIONS,
}


# -- sending --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(cloud: Any, method: str, path: str, body: bytes, headers: list[tuple[str, Any]]) -> Answer:
    """One request on its own connection, the path and the headers exactly as given."""
    connection = http.client.HTTPConnection(cloud.host, cloud.api_port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def signature_headers(how: str, secret: str, body: bytes) -> list[tuple[str, Any]]:
    now = int(time.time())
    good = sign(secret, body, now)
    values: dict[str, list[Any]] = {
        "good": [good],
        "none": [],
        "empty": [""],
        "garbage": ["garbage"],
        "t only": [f"t={now}"],
        "v1 only": ["v1=" + good.split("v1=")[1]],
        "t word": ["t=yesterday,v1=" + good.split("v1=")[1]],
        "future": [sign(secret, body, now + 360)],  # a minute past the limit: a slow run stays outside it
        "leading zero": ["t=0" + good.removeprefix("t=")],  # the same HMAC: it signs the number
        "other body": [sign(secret, body + b" ", now)],
        "not hex": [f"t={now},v1=" + "z" * 64],
        "non-ascii": [f"t={now},v1=".encode() + "é".encode() * 32],
        "good twice, valid first": [good, sign("not-the-secret", body, now)],
        "good twice, valid second": [sign("not-the-secret", body, now), good],
        "extra v1": [f"{good},v1={'0' * 64}"],
    }
    return [("Bank-Signature", value) for value in values[how]]


def request(cloud: Any, row: Row, review: str = "") -> Answer:
    headers = [] if row.content_type is None else [("Content-Type", row.content_type)]
    if row.path == "/notifications" and row.method == "POST":
        headers += signature_headers(row.signature, cloud.signing_secret, row.body)
    return send(cloud, row.method, row.path.format(review=review), row.body, headers)


def check_answer(row: Row, answer: Answer) -> None:
    assert answer.status == row.status, (answer.status, answer.body[:300])
    if row.method == "HEAD" or (row.status < 400 and not answer.body):
        return
    body = answer.json()
    if row.code is None and row.status >= 400:
        assert body == GATEWAY_403  # no route matched: API Gateway's own answer
        return
    if row.code is None:
        return
    error = body["error"]
    assert error["code"] == row.code and error["message"]
    if row.code == "validation_error":
        assert tuple(f["field"] for f in error["fields"]) == row.fields


def params(rows: list[Row]) -> list[Any]:
    return [
        pytest.param(
            row,
            id=row.input,
        )
        for row in rows
    ]


# -- the tables -----------------------------------------------------------------------------------


def notification_depth(cloud: Any) -> int:
    return sum(cloud.queue_depths()["bank-notifications"].values())


@pytest.mark.parametrize("row", params(NOTIFICATIONS))
def test_post_notifications(cloud, row):
    with cloud.paused():
        before = notification_depth(cloud)
        answer = request(cloud, row)
        after = notification_depth(cloud)
    check_answer(row, answer)
    assert after - before == (1 if row.stored == QUEUED else 0)


@pytest.mark.parametrize("row", params(GET_ROUTES + OTHER_ROUTES))
def test_other_routes(cloud, row):
    with cloud.paused():
        before = notification_depth(cloud)
        answer = request(cloud, row)
        after = notification_depth(cloud)
    check_answer(row, answer)
    assert after == before


@pytest.fixture(scope="module")
def pending_review(cloud):
    """A large payment's review, its workflow waiting for a decision."""
    wallet = f"w-{uuid.uuid4().hex[:12]}"
    with BankApi(cloud.api_url, cloud.signing_secret) as api:
        assert api.send(payin(wallet, DEFAULT_THRESHOLD + 1)).status_code == 202
        return poll_until(
            lambda: next(
                (r for r in api.reviews("pending") if r["wallet_id"] == wallet and r["awaiting_decision"]),
                None,
            )
        )


@pytest.mark.parametrize("row", params(DECISIONS))
def test_post_a_decision(cloud, pending_review, row):
    review = pending_review["review_id"]
    answer = request(cloud, row, review=review)
    check_answer(row, answer)
    after = httpx.get(f"{cloud.api_url}/reviews/{review}").json()
    assert after == pending_review  # still pending, still waiting: nothing decided
    arn = cloud.outputs["ReviewStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{review}"
    assert cloud.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"


# -- the SQS handlers, driven with their real adapters --------------------------------------------


@dataclass(frozen=True)
class SqsRow:
    input: str
    body: str
    reported: bool = True  # in batchItemFailures (else: processed, no failure)
    stored: str = ""  # "": the handler's usual "nothing" (SQS_STORED)


SQS_STORED = {
    "apply_notifications": "nothing (its batch mate is applied)",
    "deliver_webhooks": "nothing: no webhook sent",
    "write_audit": "nothing",
    "review_desk": "nothing: no workflow started",
}


def _event(detail_type: str, detail: Any = ..., **extra: Any) -> str:
    event: dict[str, Any] = {"detail-type": detail_type, "source": "bank.ledger", **extra}
    if detail is not ...:
        event["detail"] = detail
    return json.dumps(event)


FULL_DETAIL = {
    "event_id": str(uuid.uuid4()),
    "type": "NoSuchEvent",
    "notification_id": str(uuid.uuid4()),
    "wallet_id": "w-1",
    "occurred_at": 1,
    "object": "wallet",
    "object_id": "w-1",
    "payload": {},
}
NO_EVENT_ID = {k: v for k, v in FULL_DETAIL.items() if k != "event_id"}
REQUEST_WITHOUT_AMOUNT = {"review_id": "rv-" + "1" * 32, "notification_id": "n", "wallet_id": "w-1"}
NOT_JSON, NO_DETAIL = "not json {", _event("BalanceUpdated")

SQS_TABLES: dict[str, list[SqsRow]] = {
    "apply_notifications": [
        SqsRow("not JSON", NOT_JSON),
        SqsRow("an empty body", ""),
        SqsRow("a JSON array", "[]"),
        SqsRow("`{}`", "{}"),
        SqsRow("an envelope with a negative amount", json.dumps(payin("w-poison-amount", -5))),
        SqsRow("an EventBridge event (the wrong queue)", NO_DETAIL),
        SqsRow(
            "a body over 64 KiB", json.dumps(_with(payin("w-poison-large", 5), note="x" * MAX_BODY_BYTES))
        ),
    ],
    "deliver_webhooks": [
        SqsRow("not JSON", NOT_JSON),
        SqsRow("a JSON array", "[1]"),
        SqsRow("an event without `detail`", NO_DETAIL),
        SqsRow("`detail`: `null`", _event("BalanceUpdated", None)),
        SqsRow("`detail`: a string", _event("BalanceUpdated", "w-1")),
        SqsRow("`detail`: `{}`", _event("BalanceUpdated", {})),
        SqsRow("a `detail` of an unknown event type", _event("NoSuchEvent", FULL_DETAIL)),
    ],
    "write_audit": [
        SqsRow("not JSON", NOT_JSON),
        SqsRow("an event without `detail`", NO_DETAIL),
        SqsRow("a `detail` without `event_id`", _event("BalanceUpdated", NO_EVENT_ID)),
        SqsRow("`detail`: an array", _event("BalanceUpdated", [FULL_DETAIL])),
    ],
    "review_desk": [
        SqsRow("not JSON", NOT_JSON),
        SqsRow("an event without `detail-type`", json.dumps({"detail": {}})),
        SqsRow("an unknown `detail-type`", _event("BalanceUpdated", FULL_DETAIL)),
        SqsRow("`LargePaymentFlagged` without `payload`", _event("LargePaymentFlagged", {})),
        SqsRow(
            "`LargePaymentFlagged` with an incomplete payload",
            _event("LargePaymentFlagged", {"payload": REQUEST_WITHOUT_AMOUNT}),
        ),
        SqsRow(
            "`ReviewRequested` without `task_token`",
            _event("ReviewRequested", {"review_id": "rv-" + "1" * 32}),
        ),
        SqsRow(
            "`ReviewRequested` for an unknown review",
            _event("ReviewRequested", {"review_id": "rv-" + "1" * 32, "task_token": "forged"}),
            reported=False,
            stored="nothing: no review is created (a token is filed only on a pending review)",
        ),
    ],
}


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"rh-{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bank-queue",
                "awsRegion": "eu-west-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def traces(cloud: Any, fintech: Any) -> dict[str, Any]:
    """What an SQS handler could change: the client's webhooks, counters, audit, reviews, executions."""
    from chalicelib import bootstrap

    deps = bootstrap.container()
    sfn = cloud.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=cloud.outputs["ReviewStateMachineArn"], maxResults=1000)
    return {
        "webhooks": fintech.log()["stats"],
        "counters": deps.counters.read(),
        "audit": deps.audit.count(),
        "reviews": [r.to_dict() for r in deps.reviews.reviews()],
        "executions": len(executions["executions"]),
    }


@pytest.mark.parametrize(
    ("handler", "row"),
    [
        pytest.param(handler, row, id=f"{handler}: {row.input}")
        for handler, rows in SQS_TABLES.items()
        for row in rows
    ],
)
def test_sqs_poison(cloud, fintech, caplog, handler, row):
    from chalicelib import bootstrap

    caplog.set_level("CRITICAL", logger="bank")  # a traceback per poison record: not here
    run = getattr(cloud.app_module, handler)
    with cloud.paused():
        if handler == "apply_notifications":  # with a good batch mate, which is applied
            good = payin(f"w-{uuid.uuid4().hex[:12]}", 100)
            result = run(sqs_event(row.body, json.dumps(good)), None)
            ledger = bootstrap.container().ledger
            assert ledger.balance(good["object_payload"]["wallet_id"]).current_balance == 100
            for wallet in ("w-poison-amount", "w-poison-large"):
                assert ledger.balance(wallet) is None
        else:
            before = traces(cloud, fintech)
            result = run(sqs_event(row.body), None)
            assert traces(cloud, fintech) == before
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}] if row.reported else []}


# -- a smaller fuzz, over HTTP --------------------------------------------------------------------

HTTP_FUZZ_EXAMPLES = 300


def test_http_fuzz_never_answers_5xx_and_queues_nothing(cloud):
    """A few hundred generated bad requests over real HTTP: every answer a 4xx JSON error, and the
    notifications queue as deep afterwards as before."""
    answers: list[int] = []
    bodies = (
        bad_envelopes().map(lambda bad: (encode(bad[1]), "good"))
        | st.tuples(
            st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()), st.just("good")
        )
        | st.tuples(
            st.builds(lambda: encode(_fresh_payin())),
            st.sampled_from(["none", "empty", "garbage", "future", "other body", "not hex", "non-ascii"]),
        )
    )

    @settings(max_examples=HTTP_FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body_and_signature=bodies, content_type=content_types, noise=st.lists(header_values, max_size=2))
    def run(body_and_signature, content_type, noise):
        body, signature = body_and_signature
        headers = [] if content_type is None else [("Content-Type", content_type)]
        headers += signature_headers(signature, cloud.signing_secret, body)
        headers += [(f"X-Noise-{i}", value) for i, value in enumerate(noise)]
        answer = send(cloud, "POST", "/notifications", body, headers)
        answers.append(answer.status)
        assert 400 <= answer.status < 500, (answer.status, answer.body[:200])
        error = answer.json()["error"]
        assert error["code"] and error["message"]

    with cloud.paused():
        before = notification_depth(cloud)
        run()
        after = notification_depth(cloud)
    assert after == before
    assert len(answers) >= HTTP_FUZZ_EXAMPLES * 0.9


# -- the page shows these tables ------------------------------------------------------------------


def page_tables() -> dict[str, list[list[str]]]:
    """Each table of the reference page, by the heading above it: its rows, as cells."""
    tables: dict[str, list[list[str]]] = {}
    heading = None
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|") and heading is not None:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells and not set(cells[0]) <= {"-", ":"} and cells[0] != "input":
                tables.setdefault(heading, []).append(cells)
    return tables


def cells(row: Row) -> list[str]:
    status = str(row.status)
    return [row.input, status, f"`{row.code}`" if row.code else "—", row.stored]


def test_the_reference_page_shows_these_tables():
    tables = page_tables()
    from_test_api = [Row(name, status, code, body=body) for name, body, _, _, status, code in BAD_INPUT]
    expected = {
        "POST /notifications": [cells(r) for r in NOTIFICATIONS + from_test_api],
        **{
            heading: [cells(r) for r in rows]
            for heading, rows in HTTP_TABLES.items()
            if heading != "POST /notifications"
        },
        **{
            f"`{handler}`": [
                [
                    r.input,
                    "reported in `batchItemFailures`" if r.reported else "processed",
                    "—",
                    r.stored or SQS_STORED[handler],
                ]
                for r in rows
            ]
            for handler, rows in SQS_TABLES.items()
        },
    }
    assert set(tables) == set(expected)
    for heading, rows in expected.items():
        assert sorted(tables[heading]) == sorted(rows), heading
