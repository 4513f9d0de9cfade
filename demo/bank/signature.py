"""The signature scheme of bank webhooks, in both directions.

Header ``Bank-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
The processor signs what it sends us; we sign what we send to fintech clients. Verification is
constant-time and refuses a timestamp more than ``TOLERANCE_SECONDS`` away from now.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from demo.bank.errors import SignatureMismatch, SignatureRejected

SIGNATURE_HEADER = "Bank-Signature"
TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Bank-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        # one spelling per timestamp: "t=0001764412800" is not another header for the same signature
        if (
            key == "t"
            and value.isascii()
            and value.isdigit()
            and len(value) <= 12
            and not value.startswith("0")
        ):
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureRejected("malformed Bank-Signature header")
    return timestamp, signatures


def verify(
    secrets: str | Iterable[str],
    body: bytes,
    header: str | None,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise :class:`SignatureRejected`.

    ``secrets`` may hold several secrets (the current and the previous one during a rotation):
    any of them may have signed. Every candidate is compared in constant time.
    """
    if not header:
        raise SignatureRejected("missing Bank-Signature header")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureRejected(f"signature timestamp is more than {tolerance} s from now")
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    matched = False
    for secret in candidates:
        expected = _digest(secret, timestamp, body)
        for signature in signatures:
            # Compare every pair, without stopping early, so timing reveals nothing.
            matched |= hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
    if not matched:
        raise SignatureMismatch("signature does not match the body")
    return timestamp
