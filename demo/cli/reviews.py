"""Step 3's commands: send one payment by hand, list the compliance reviews, decide them.

``bankdemo payin`` and ``bankdemo card`` send one signed notification (a large payin opens a
review); ``bankdemo reviews`` lists the reviews, or shows one with its workflow's execution
history; ``bankdemo approve`` and ``bankdemo reject`` decide through the bank's API.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from demo import settings
from demo.bank import notifications as n
from demo.cli.common import ApiOption, AwsOption, StageOption, console, fail
from demo.operations import reviews as reviews_
from demo.parties import processor
from demo.parties.client import BankApi, format_cents

ReasonOption = Annotated[str, typer.Option("--reason", help="Why: kept with the decision.")]
EurosArgument = Annotated[str, typer.Argument(help="Amount in euros, e.g. 15000 or 12.50.")]


def cents(euros: str) -> int:
    """``"12.50"`` -> ``1250``; anything but a positive amount with at most 2 decimals fails."""
    try:
        value = Decimal(euros.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise fail(f"{euros!r} is not an amount in euros (e.g. 15000 or 12.50)", code=2) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise fail(f"{euros!r}: the amount must be positive, with at most 2 decimals", code=2)
    amount = int(value * 100)
    if amount > n.MAX_AMOUNT:
        raise fail(f"{euros!r}: at most {format_cents(n.MAX_AMOUNT)} EUR", code=2)
    return amount


def _send_one(
    api: str, aws_endpoint: str, stage: str, webhook: str, payload: dict[str, Any], obj: str
) -> None:
    from demo.operations.system import signing_secret

    if not n.is_valid_id(payload["wallet_id"]):
        raise fail(
            f"{payload['wallet_id']!r} is not a wallet id (letters, digits, '.', '_', ':', '-')", code=2
        )
    rng = random.SystemRandom()
    envelope = processor.envelope(webhook, payload, rng=rng, created_at=int(time.time()), obj=obj)
    try:
        with BankApi(api, signing_secret(aws_endpoint, stage)) as client:
            response = client.send(envelope)
    except typer.Exit:
        raise
    except Exception as error:
        raise fail(f"cannot send to {api}: {error}") from None
    if response.status_code != 202:
        raise fail(f"the bank answered {response.status_code}: {response.text}")
    console.print(
        f"{webhook} {format_cents(payload['amount'])} EUR for {payload['wallet_id']}: accepted "
        f"(notification {envelope['webhook_id']})",
        soft_wrap=True,
    )


def payin(
    wallet_id: str,
    euros: EurosArgument,
    api: ApiOption = settings.API_URL,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    stage: StageOption = "local",
) -> None:
    """Send one signed payin (money in). From 10,000.00 EUR on, it opens a compliance review."""
    _send_one(
        api, aws_endpoint, stage, n.PAYIN_RECEIVED, {"wallet_id": wallet_id, "amount": cents(euros)}, "payin"
    )


def card(
    wallet_id: str,
    euros: EurosArgument,
    api: ApiOption = settings.API_URL,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
    stage: StageOption = "local",
) -> None:
    """Send one signed card authorization. A frozen wallet refuses it (see `bankdemo audit`)."""
    rng = random.SystemRandom()
    payload = {
        "wallet_id": wallet_id,
        "authorization_id": f"auth-{rng.getrandbits(40):010x}",
        "amount": cents(euros),
        "card": {"pan": processor.luhn_pan(rng), "holder": rng.choice(processor.HOLDERS)},
        "merchant": dict(zip(("name", "mcc"), rng.choice(processor.MERCHANTS), strict=True)),
    }
    _send_one(api, aws_endpoint, stage, n.CARD_AUTHORIZATION, payload, "cardtransaction")


def reviews(
    review_id: Annotated[
        str | None, typer.Argument(help="Show this review and its workflow's execution history.")
    ] = None,
    status: Annotated[str, typer.Option(help="pending, approved, rejected, escalated or all.")] = "all",
    api: ApiOption = settings.API_URL,
    aws_endpoint: AwsOption = settings.AWS_ENDPOINT,
) -> None:
    """List the large-payment reviews, oldest first, or show one with its execution history."""
    reviews_.show(review_id, status, api, aws_endpoint)


def approve(review_id: str, reason: ReasonOption = "", api: ApiOption = settings.API_URL) -> None:
    """Approve a pending review: the workflow records it and announces ReviewApproved."""
    reviews_.decide(review_id, "approve", reason, api)


def reject(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    api: ApiOption = settings.API_URL,
) -> None:
    """Reject a pending review: the workflow freezes the wallet (card authorizations refused)."""
    reviews_.decide(review_id, "reject", reason, api)


def register(app: typer.Typer) -> None:
    for command in (payin, card, reviews, approve, reject):
        app.command()(command)
