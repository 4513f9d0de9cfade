"""The compliance reviews (step 3) worked from outside: listed, shown with their workflow's
execution history, decided through the bank's API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from demo.bank import notifications as n
from demo.bank.errors import InvalidReviewQuery
from demo.bank.reviews import parse_status
from demo.operations.output import console, fail
from demo.parties.client import BankApi, format_cents

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_stepfunctions.client import SFNClient
    from types_boto3_stepfunctions.type_defs import HistoryEventTypeDef

STATE_MACHINE = "large-payment-review"


def show(review_id: str | None, status: str, api: str, aws_endpoint: str) -> None:
    """List the large-payment reviews in ``status`` (pending, approved, rejected, escalated or all),
    oldest first, or show one with its execution history."""
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
                _show_one(found, aws_endpoint)
                return
            listed = client.reviews(status)
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


def _show_one(review: dict[str, Any], aws_endpoint: str) -> None:
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


def execution_history(aws_endpoint: str, review_id: str) -> list[HistoryEventTypeDef]:
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


def execution_counts(sfn: SFNClient) -> dict[str, int]:
    """Review executions by status (RUNNING, SUCCEEDED, FAILED...), for `bankdemo status`."""
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    counts: dict[str, int] = {}
    if STATE_MACHINE in machines:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machines[STATE_MACHINE])
        for page in pages:
            for execution in page["executions"]:
                counts[execution["status"]] = counts.get(execution["status"], 0) + 1
    return counts


def decide(review_id: str, decision: str, reason: str, api: str) -> None:
    """Approve or reject (``decision``) a pending review, with the reason kept beside it."""
    try:
        with BankApi(api) as client:
            response = client.decide(review_id, decision, reason)
    except Exception as error:
        raise fail(f"cannot reach {api}: {error}") from None
    if response.status_code != 202:
        refused = response.json().get("error", {})
        fields = "; ".join(f"{f['field']} {f['message']}" for f in refused.get("fields", []))
        raise fail(f"{refused.get('code')}: {fields or refused.get('message')}", code=2)
    console.print(
        f"{review_id}: {decision} accepted; the workflow records it"
        + (" and freezes the wallet" if decision == "reject" else "")
    )
