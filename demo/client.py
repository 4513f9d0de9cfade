"""The processor's side of the wire: send signed notifications to a bank API and read balances.

Used by the CLI, the tests and the notebooks alike, against the serverless API (local or on
AWS) and, from step 0, against the monolith: both speak the same contract.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import httpx

from demo.bank.signature import SIGNATURE_HEADER, sign


def encode(envelope: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(envelope, separators=(",", ":")).encode()


class BankApi:
    """A small HTTP client of the bank's API. ``secret`` signs what it sends."""

    def __init__(self, base_url: str, secret: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        import httpx  # 0.4 s: on first use, so that `bankdemo --help` stays quick

        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --8<-- [start:post_notification]
    def post_notification(
        self,
        body: bytes,
        *,
        signature: str | None = None,
        unsigned: bool = False,
        content_type: str = "application/json",
    ) -> httpx.Response:
        """POST raw bytes, signed with ``secret`` now unless a ``signature`` is given or ``unsigned``."""
        if signature is None and self.secret is not None and not unsigned:
            signature = sign(self.secret, body, int(time.time()))
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return self._http.post("/notifications", content=body, headers=headers)
        # --8<-- [end:post_notification]

    def send(self, envelope: dict[str, Any]) -> httpx.Response:
        """Sign and POST one notification envelope."""
        return self.post_notification(encode(envelope))

    def balance(self, wallet_id: str) -> dict[str, Any] | None:
        """The wallet's balance, or None if the bank does not know the wallet."""
        response = self._http.get(f"/wallets/{wallet_id}/balance")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def reviews(self, status: str = "all") -> list[dict[str, Any]]:
        """Large-payment reviews (step 3), oldest first: ``pending``, ``approved``, ... or ``all``."""
        response = self._http.get("/reviews", params={"status": status})
        response.raise_for_status()
        return response.json()["reviews"]

    def review(self, review_id: str) -> dict[str, Any] | None:
        response = self._http.get(f"/reviews/{review_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def decide(self, review_id: str, decision: str, reason: str = "") -> httpx.Response:
        """POST a compliance decision (``approve`` or ``reject``); the caller reads the status."""
        return self._http.post(
            f"/reviews/{review_id}/decision", json={"decision": decision, "reason": reason}
        )

    def health(self) -> dict[str, Any]:
        response = self._http.get("/health")
        response.raise_for_status()
        return response.json()


def format_cents(cents: int) -> str:
    """``123456`` -> ``'1,234.56'``: money is shown in euros, computed in cents."""
    sign_ = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign_}{euros:,}.{rest:02d}"
