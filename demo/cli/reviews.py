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
from rich.table import Table

from demo import settings
from demo.bank import notifications as n
from demo.bank.errors import InvalidReviewQuery
from demo.bank.reviews import parse_status
from demo.cli.common import ApiOption, AwsOption, StageOption, console, fail
from demo.parties import processor
from demo.parties.client import BankApi, format_cents

STATE_MACHINE = "large-payment-review"
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
    from demo.cli.common import signing_secret

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
    try:
        parse_status(status)
    except InvalidReviewQuery as error:
        raise fail(error.message, code=2) from None
    try:
        with BankApi(api) as client:
            if review_id is not None:
                found = client.review(review_id)
                if found is None:
                    raise fail(f"no review {review_id!r}", code=2)
                _show_review(found, aws_endpoint)
                return
            listed = client.reviews(status)
    except typer.Exit:
        raise
    except Exception as error:
        raise fail(f"cannot read from {api}: {error}") from None
    table = Table(title=f"Reviews ({status})")
    table.add_column("review", no_wrap=True)  # whole: it is what approve and reject take
    table.add_column("wallet")
    table.add_column("payment (EUR)", justify="right")
    table.add_column("status")
    for r in listed:
        state = r["status"] + ("" if r["awaiting_decision"] or r["status"] != "pending" else " (opening)")
        kind = "payin" if r["kind"] == n.PAYIN_RECEIVED else "settlement"
        table.add_row(r["review_id"], r["wallet_id"], f"{kind} {format_cents(r['amount'])}", state)
    console.print(table if listed else f"no review ({status})")


def _show_review(review: dict[str, Any], aws_endpoint: str) -> None:
    for key, value in review.items():
        console.print(f"[bold]{key}[/]: {format_cents(value) if key == 'amount' else value}")
    history = execution_history(aws_endpoint, review["review_id"])
    table = Table(title=f"Execution {review['review_id']} of {STATE_MACHINE}")
    for column in ("#", "at", "event", "state"):
        table.add_column(column)
    for event in history:
        entered = event.get("stateEnteredEventDetails", {}).get("name", "")
        table.add_row(str(event["id"]), str(event["timestamp"])[11:23], event["type"], entered)
    console.print(table)


def execution_history(aws_endpoint: str, review_id: str) -> list[dict[str, Any]]:
    """The Step Functions history of a review's execution (its name is the review id)."""
    import botocore.exceptions

    from demo.localcloud.session import local_session

    sfn = local_session().client("stepfunctions", endpoint_url=aws_endpoint)
    try:
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        arn = machines[STATE_MACHINE].replace(":stateMachine:", ":execution:") + f":{review_id}"
        return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    except (botocore.exceptions.EndpointConnectionError, KeyError):
        raise fail(f"no {STATE_MACHINE} state machine at {aws_endpoint}: is the local cloud up?") from None
    except sfn.exceptions.ExecutionDoesNotExist:
        raise fail(f"no execution {review_id}", code=2) from None


def execution_counts(sfn: Any) -> dict[str, int]:
    """Review executions by status (RUNNING, SUCCEEDED, FAILED...), for `bankdemo status`."""
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    counts: dict[str, int] = {}
    if STATE_MACHINE in machines:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machines[STATE_MACHINE])
        for page in pages:
            for execution in page["executions"]:
                counts[execution["status"]] = counts.get(execution["status"], 0) + 1
    return counts


def _decide(review_id: str, decision: str, reason: str, api: str) -> None:
    try:
        with BankApi(api) as client:
            response = client.decide(review_id, decision, reason)
    except Exception as error:
        raise fail(f"cannot reach {api}: {error}") from None
    if response.status_code != 202:
        error = response.json().get("error", {})
        fields = "; ".join(f"{f['field']} {f['message']}" for f in error.get("fields", []))
        raise fail(f"{error.get('code')}: {fields or error.get('message')}", code=2)
    console.print(
        f"{review_id}: {decision} accepted; the workflow records it"
        + (" and freezes the wallet" if decision == "reject" else "")
    )


def approve(review_id: str, reason: ReasonOption = "", api: ApiOption = settings.API_URL) -> None:
    """Approve a pending review: the workflow records it and announces ReviewApproved."""
    _decide(review_id, "approve", reason, api)


def reject(
    review_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    api: ApiOption = settings.API_URL,
) -> None:
    """Reject a pending review: the workflow freezes the wallet (card authorizations refused)."""
    _decide(review_id, "reject", reason, api)


def register(app: typer.Typer) -> None:
    for command in (payin, card, reviews, approve, reject):
        app.command()(command)
