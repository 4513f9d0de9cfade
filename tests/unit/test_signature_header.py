"""The ``Bank-Signature`` header read strictly: exact bytes signed, one spelling per timestamp, and each
refusal told apart (missing, malformed, stale: no secret could help; mismatch: a rotation might)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from demo.bank.errors import SignatureMismatch, SignatureRejected
from demo.bank.signature import sign, verify

SECRET = "s3cret"
BODY = b'{"webhook":"payin.received"}'
NOW = 1_764_412_800
GOOD = (
    "a4d245845475e358c899b513fbba452e9906505dd9a49e10c2f763f7851f78a8"  # HMAC-SHA256(SECRET, "<NOW>.<BODY>")
)


def test_the_signature_is_the_hmac_of_the_timestamp_a_dot_and_the_raw_body() -> None:
    assert sign(SECRET, BODY, NOW) == f"t={NOW},v1={GOOD}"
    assert sign(SECRET, b"", 1) == "t=1,v1=15aea7bd3b12d44b1c5cf596933b4f1234219c11e756cc260c0d1dd54fb23ae0"


def refused(header: str | None, *, now: float = NOW, secrets: str | list[str] = SECRET) -> SignatureRejected:
    with pytest.raises(SignatureRejected) as caught:
        verify(secrets, BODY, header, now=now)
    return caught.value


@pytest.mark.parametrize(
    ("header", "kind", "message"),
    [
        (None, SignatureRejected, "missing Bank-Signature header"),
        ("", SignatureRejected, "missing Bank-Signature header"),
        ("garbage", SignatureRejected, "malformed Bank-Signature header"),
        (f"t={NOW}", SignatureRejected, "malformed Bank-Signature header"),
        (f"v1={GOOD}", SignatureRejected, "malformed Bank-Signature header"),
        (f"t=0{NOW},v1={GOOD}", SignatureRejected, "malformed Bank-Signature header"),  # one spelling
        (f"t=+{NOW},v1={GOOD}", SignatureRejected, "malformed Bank-Signature header"),
        ("t=١٧٦٤٤١٢٨٠٠,v1=00", SignatureRejected, "malformed Bank-Signature header"),  # not ASCII digits
        (f"T={NOW},v1={GOOD}", SignatureRejected, "malformed Bank-Signature header"),
        (f"t={NOW},V1={GOOD}", SignatureRejected, "malformed Bank-Signature header"),
        (f"t={NOW - 301},v1={GOOD}", SignatureRejected, "signature timestamp is more than 300 s from now"),
        (f"t={NOW + 301},v1={GOOD}", SignatureRejected, "signature timestamp is more than 300 s from now"),
        (f"t={NOW},v1={GOOD.upper()}", SignatureMismatch, "signature does not match the body"),
        (f"t={NOW},v1={GOOD}=", SignatureMismatch, "signature does not match the body"),
        (f"t={NOW},v1=a=b", SignatureMismatch, "signature does not match the body"),
        (f"t={NOW},v1=\ud800", SignatureMismatch, "signature does not match the body"),  # no UTF-8 form
        (f"t={NOW},v1=", SignatureMismatch, "signature does not match the body"),
    ],
)
def test_each_refusal_says_what_was_wrong(header: str | None, kind: type[Exception], message: str) -> None:
    error = refused(header)
    assert (type(error), error.message) == (kind, message)


def test_a_timestamp_of_twelve_digits_is_read_and_one_of_thirteen_is_not() -> None:
    twelve, thirteen = 100_000_000_000, 1_000_000_000_000
    assert verify(SECRET, BODY, sign(SECRET, BODY, twelve), now=twelve) == twelve
    assert refused(sign(SECRET, BODY, thirteen), now=thirteen).message == "malformed Bank-Signature header"


def test_the_tolerance_is_a_parameter_and_its_edge_is_inside() -> None:
    header = sign(SECRET, BODY, NOW)
    assert verify(SECRET, BODY, header, now=NOW + 10, tolerance=10) == NOW
    assert verify(SECRET, BODY, header, now=NOW - 10.0, tolerance=10) == NOW
    with pytest.raises(SignatureRejected, match=r"^signature timestamp is more than 10 s from now$"):
        verify(SECRET, BODY, header, now=NOW + 10.5, tolerance=10)


@pytest.mark.parametrize(
    "header",
    [
        f"garbage,t={NOW},v1={GOOD}",  # a part without "=" is skipped, not the end of the header
        f" t={NOW} , v1={GOOD} ",
        f"t={NOW},v1={GOOD},v1={'0' * 64}",  # the match first, then another
        f"t={NOW},v0=1234,v1={GOOD}",  # another scheme's digits are no timestamp
        f"t={NOW},v1={GOOD},x=abc",
        f"v1={GOOD},t={NOW}",
    ],
)
def test_a_header_verifies_whatever_else_it_carries(header: str) -> None:
    assert verify(SECRET, BODY, header, now=NOW) == NOW


@pytest.mark.parametrize(
    "secrets",
    [
        lambda: SECRET,
        lambda: [SECRET],
        lambda: ("previous", SECRET),
        lambda: (s for s in ["previous", SECRET]),  # read once
        lambda: {SECRET: 1},
    ],
    ids=["str", "list", "tuple", "generator", "dict"],
)
def test_the_secrets_may_be_one_or_any_iterable_of_them(secrets: Callable[[], Any]) -> None:
    assert verify(secrets(), BODY, sign(SECRET, BODY, NOW), now=NOW) == NOW


def test_a_single_secret_is_one_secret_not_its_characters() -> None:
    error = refused(sign("s", BODY, NOW), secrets="s3cret")
    assert type(error) is SignatureMismatch
    assert type(refused(sign(SECRET, BODY, NOW), secrets=[])) is SignatureMismatch
