"""Envelope builders shared by the tests: valid notifications the way the processor builds them."""

from __future__ import annotations

import uuid
from typing import Any

CARD = {"pan": "5488210000003691", "holder": "ALEX OAK"}
MERCHANT = {"name": "Corner Grocery", "mcc": "5411"}


def make_envelope(webhook: str, **payload: Any) -> dict[str, Any]:
    """A valid envelope of type ``webhook``; ``payload`` fills ``object_payload``."""
    return {
        "webhook": webhook,
        "webhook_id": str(uuid.uuid4()),
        "webhook_created_at": 1_764_412_800,
        "object": "cardtransaction",
        "object_id": f"ct-{uuid.uuid4().hex[:10]}",
        "object_payload": {"currency": "EUR", **payload},
    }


def payin(wallet: str, amount: int) -> dict[str, Any]:
    return make_envelope("payin.received", wallet_id=wallet, amount=amount)


def authorization(wallet: str, auth: str, amount: int) -> dict[str, Any]:
    return make_envelope(
        "card.authorization",
        wallet_id=wallet,
        authorization_id=auth,
        amount=amount,
        card=dict(CARD),
        merchant=dict(MERCHANT),
    )


def settlement(wallet: str, auth: str, amount: int) -> dict[str, Any]:
    return make_envelope("card.settlement", wallet_id=wallet, authorization_id=auth, amount=amount)


def reversal(wallet: str, auth: str) -> dict[str, Any]:
    return make_envelope("card.reversal", wallet_id=wallet, authorization_id=auth)


def refund(wallet: str, amount: int) -> dict[str, Any]:
    return make_envelope("card.refund", wallet_id=wallet, amount=amount)
