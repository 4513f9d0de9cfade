"""Hostile input, generated: the Hypothesis strategies of the fuzz tests (in-process and over HTTP).

``bad_envelopes()`` starts from a valid envelope of any type and always breaks it (a missing key,
a wrong type, an amount out of bounds, a control character...), so every example it draws must be
refused. The other strategies (random bytes, random JSON, mangled bodies, random headers) may now
and then draw something acceptable: the tests that use them check that an answer and its side
effects agree, not that every answer is a refusal.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from envelopes import CARD, MERCHANT, make_envelope
from hypothesis import strategies as st

from demo.bank.notifications import MAX_AMOUNT, REQUIRED_KEYS, WEBHOOK_TYPES, is_valid_id
from demo.bank.signature import sign

Envelope = dict[str, Any]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
_shallow = st.lists(json_scalars, max_size=3), st.dictionaries(st.text(max_size=6), json_scalars, max_size=3)
non_strings = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), *_shallow)
non_objects = st.one_of(json_scalars, _shallow[0])

# Text that a validated string field must refuse: control characters (C0, DEL, C1), lone
# surrogates, U+FFFE and U+FFFF, anywhere in otherwise harmless text.
forbidden_chars = st.sampled_from(
    ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f"]
) | st.sampled_from(["\ud800", "\udfff", "\ufffe", "\uffff"])
legit_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"], exclude_characters="\ufffe\uffff"),
    min_size=1,
    max_size=20,
).filter(str.strip)


@st.composite
def tainted_text(draw: st.DrawFn) -> str:
    text = draw(legit_text)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(forbidden_chars) + text[at:]


bad_text = tainted_text() | st.sampled_from(["", "   ", "x" * 200]) | non_strings
bad_ids = st.text(max_size=70).filter(lambda s: not is_valid_id(s)) | non_strings
bad_amounts = (
    st.integers(max_value=0)
    | st.integers(min_value=MAX_AMOUNT + 1)
    | st.floats()  # NaN and infinities included: they are written as NaN/Infinity literals
    | st.booleans()
    | st.text(max_size=12)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
)
bad_webhooks = st.text(max_size=30).filter(lambda s: s not in WEBHOOK_TYPES) | non_strings
bad_uuids = st.text(max_size=40) | non_strings | st.uuids().map(lambda u: f"{{{u}}}")  # braces: not canonical
bad_timestamps = (
    st.integers(max_value=0)
    | st.integers(min_value=10**11)
    | st.booleans()
    | st.floats()
    | st.text(max_size=12)
)
bad_pans = st.from_regex(r"[0-9]{0,11}|[0-9]{20,25}|[0-9]{4}[ -][0-9 -]{11,14}", fullmatch=True) | non_strings
bad_mccs = st.from_regex(r"[0-9]{0,3}|[0-9]{5,6}|[a-z]{4}", fullmatch=True) | non_strings
bad_currencies = (
    st.text(max_size=5).filter(lambda s: s != "EUR") | st.integers() | st.lists(st.none(), max_size=1)
)


@st.composite
def valid_envelopes(draw: st.DrawFn) -> Envelope:
    """A valid envelope of any type, its ids drawn (a wallet no other test uses)."""
    webhook = draw(st.sampled_from(sorted(WEBHOOK_TYPES)))
    n = draw(st.integers(0, 2**64))  # one draw for the ids: fewer draws, faster examples
    payload: dict[str, Any] = {"wallet_id": f"w-fuzz-{n:x}"}
    needed = REQUIRED_KEYS[webhook]
    if "amount" in needed:
        payload["amount"] = draw(st.integers(1, MAX_AMOUNT))
    if "authorization_id" in needed:
        payload["authorization_id"] = f"a-{n % 997}"
    if "card" in needed:
        payload["card"] = dict(CARD)
    if "merchant" in needed:
        payload["merchant"] = {**MERCHANT, "name": draw(legit_text)}  # "Café Zürich ☕" is fine
    envelope = make_envelope(webhook, **payload)
    envelope["webhook_id"] = str(uuid.UUID(int=n % 2**128))
    return envelope


def _set(path: tuple[str, ...], value: Any) -> Callable[[Envelope], None]:
    def apply(envelope: Envelope) -> None:
        target = envelope
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


def _delete(path: tuple[str, ...]) -> Callable[[Envelope], None]:
    def apply(envelope: Envelope) -> None:
        target = envelope
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return apply


@st.composite
def defect(draw: st.DrawFn, envelope: Envelope) -> tuple[str, Callable[[Envelope], None]]:
    """One change that makes ``envelope`` invalid, whatever its type; with a name for the stats."""
    webhook = envelope["webhook"]
    needed = REQUIRED_KEYS[webhook]
    payload = ("object_payload",)
    choices: list[tuple[tuple[str, ...], Any]] = [
        (("webhook",), bad_webhooks),
        (("webhook_id",), bad_uuids.filter(lambda v: not _is_canonical_uuid(v))),
        (("webhook_created_at",), bad_timestamps),
        (("object",), bad_text),
        (("object_id",), bad_ids),
        (payload, non_objects),
        ((*payload, "wallet_id"), bad_ids),
        ((*payload, "currency"), bad_currencies),
    ]
    if "amount" in needed:
        choices.append(((*payload, "amount"), bad_amounts))
    if "authorization_id" in needed:
        choices.append(((*payload, "authorization_id"), bad_ids))
    if "card" in needed:
        card = (*payload, "card")
        choices += [
            (card, non_objects),
            ((*card, "pan"), bad_pans),
            ((*card, "holder"), bad_text),
        ]
    if "merchant" in needed:
        merchant = (*payload, "merchant")
        choices += [(merchant, non_objects), ((*merchant, "name"), bad_text), ((*merchant, "mcc"), bad_mccs)]
    path, values = draw(st.sampled_from(choices))
    if draw(st.integers(0, 4)) == 0 and path[-1] != "currency":  # a required key that is missing
        return f"missing {'.'.join(path)}", _delete(path)
    value = draw(values)
    return f"bad {'.'.join(path)}", _set(path, value)


def _is_canonical_uuid(value: object) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@st.composite
def bad_envelopes(draw: st.DrawFn) -> tuple[list[str], Envelope]:
    """A valid envelope with 1 to 3 defects, and maybe harmless noise (unknown keys)."""
    envelope = draw(valid_envelopes())
    names = []
    for _ in range(draw(st.integers(1, 3))):
        try:
            name, apply = draw(defect(envelope))
            apply(envelope)
        except (KeyError, TypeError):  # an earlier defect removed or replaced the parent object
            continue
        names.append(name)
    if not names:  # every defect hit a removed parent: break the envelope at its root
        envelope["webhook"] = None
        names.append("missing webhook")
    if draw(st.booleans()):
        extra = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3))
        envelope.update({k: v for k, v in extra.items() if k not in envelope})
    return names, envelope


def encode(value: Any, *, ascii_only: bool = True) -> bytes:
    """JSON bytes as a client might send them (NaN and Infinity written as such, surrogates kept)."""
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mangled_bodies(draw: st.DrawFn) -> bytes:
    """A valid envelope's bytes, then truncated, spliced with random bytes, or re-encoded."""
    body = encode(draw(valid_envelopes()), ascii_only=draw(st.booleans()))
    how = draw(st.sampled_from(["truncate", "insert", "overwrite", "utf-16", "bom", "nest", "trail"]))
    at = draw(st.integers(0, len(body) - 1))
    if how == "truncate":
        return body[:at]
    if how == "insert":
        return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    if how == "overwrite":
        return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at + 8 :]
    if how == "utf-16":
        return body.decode().encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])))
    if how == "bom":
        return b"\xef\xbb\xbf" + body  # a UTF-8 byte order mark: tolerated (RFC 8259 says MAY ignore)
    if how == "nest":
        depth = draw(st.integers(1000, 30_000))
        return b"[" * depth + body + b"]" * depth
    return body + draw(st.sampled_from([b"x", b"}", b",", b"{}", b"\x00", b"NaN"]))


random_bodies = (
    st.binary(max_size=300)
    | json_values.map(encode)
    | st.sampled_from([b"", b"null", b"[]", b"{}", b'""', b"0", b"NaN", b"Infinity", b"-Infinity", b"true"])
    | mangled_bodies()
)

# Header names and values a client might send; Authorization is left out: Chalice's local gateway
# encodes it as ASCII for an unknown route and fails on anything else (a local-server artefact).
header_names = st.sampled_from(
    ["X-Forwarded-For", "Accept", "X-Amz-Date", "Cookie", "Origin", "Content-Encoding"]
) | (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(
        lambda s: (
            s.lower() not in {"authorization", "content-type", "bank-signature", "content-length", "host"}
        )
    )
)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
content_types = (
    st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "",
            "application/xml",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            "*/*",
            "text/plain, application/json",
        ]
    )
    | header_values
)


# -- what the fuzz tests of both systems check, and how they sign -----------------------------------


def json_error(status: int, body: bytes) -> dict[str, Any]:
    """A 4xx answer is JSON ``{"error": {"code", "message"[, "fields"]}}``: returns the error.
    (API Gateway's own 403 for a path no route matches has no code: ``{"code": None}``.)"""
    assert 400 <= status < 500, (status, body[:200])
    answer = json.loads(body)
    if status == 403 and answer == {"message": "Missing Authentication Token"}:
        return {"code": None}
    error = answer["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}
    for item in error.get("fields", []):
        assert isinstance(item["field"], str) and isinstance(item["message"], str)
    return error


def signature_for(secret: str, how: str, noise: str, body: bytes) -> str | None:
    """The Bank-Signature header signed ``how``: right (``good``, ``extra v1``: a rotation, any v1
    may match) or wrong in one way; None: no header."""
    now = int(time.time())
    return {
        "good": sign(secret, body, now),
        "none": None,
        "empty": "",
        "wrong secret": sign("not-the-secret", body, now),
        "stale": sign(secret, body, now - 301),
        "future": sign(secret, body, now + 360),  # a minute past the limit: a slow run stays outside it
        "other body": sign(secret, body + b" ", now),
        "garbled": noise,
        "extra v1": sign(secret, body, now) + f",v1={noise}",
    }[how]
