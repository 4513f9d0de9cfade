"""Step 3 on the local cloud: the review workflow really runs (moto's ASL interpreter), end to end:
approve, reject (the wallet freezes), timeout (escalation), and a duplicate that starts nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from envelopes import authorization, payin
from polling import poll_until

from demo.bank.reviews import DEFAULT_THRESHOLD, review_id

LARGE = DEFAULT_THRESHOLD + 50_000  # 10,500.00 EUR


@pytest.fixture
def sfn(cloud):
    return cloud.client("stepfunctions")


def execution_arn(cloud, review: str) -> str:
    return cloud.outputs["ReviewStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{review}"


def open_review(api, wallet: str) -> dict:
    """The wallet's pending review, once its workflow waits for a decision."""
    return poll_until(
        lambda: next(
            (r for r in api.reviews("pending") if r["wallet_id"] == wallet and r["awaiting_decision"]), None
        )
    )


def finished(cloud, sfn, review: str) -> dict:
    arn = execution_arn(cloud, review)
    return poll_until(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)


def states_entered(sfn, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_an_approved_payment_runs_the_approval_path(cloud, api, sfn, wallet):
    envelope = payin(wallet, LARGE)
    assert api.send(envelope).status_code == 202
    review = open_review(api, wallet)
    assert review["review_id"] == review_id(envelope["webhook_id"])
    assert (review["amount"], review["kind"], review["status"]) == (LARGE, "payin.received", "pending")
    assert "task_token" not in review  # the token never leaves the bank

    assert api.decide(review["review_id"], "approve", "known customer").status_code == 202

    assert finished(cloud, sfn, review["review_id"])["status"] == "SUCCEEDED"
    decided = api.review(review["review_id"])
    assert (decided["status"], decided["decision"], decided["reason"]) == (
        "approved",
        "approve",
        "known customer",
    )
    assert decided["decided_at"] >= decided["requested_at"]
    assert states_entered(sfn, execution_arn(cloud, review["review_id"])) == [
        "RecordReview",
        "RequestDecision",
        "Decision",
        "Approve",
        "AnnounceApproval",
    ]
    assert api.balance(wallet)["frozen"] is False


def test_a_rejected_payment_freezes_the_wallet_and_the_next_card_authorization_is_refused(
    cloud, api, sfn, wallet, fintech
):
    assert api.send(payin(wallet, LARGE)).status_code == 202
    review = open_review(api, wallet)
    refused = api.decide(review["review_id"], "reject", "")
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "reason"

    assert api.decide(review["review_id"], "reject", "source of funds unclear").status_code == 202
    assert finished(cloud, sfn, review["review_id"])["status"] == "SUCCEEDED"
    assert "FreezeWallet" in states_entered(sfn, execution_arn(cloud, review["review_id"]))
    assert api.review(review["review_id"])["status"] == "rejected"
    assert api.balance(wallet)["frozen"] is True

    card = authorization(wallet, "a-1", 2_500)
    assert api.send(card).status_code == 202  # accepted: refusing is the ledger's business
    cloud.wait_until_drained()
    balance = api.balance(wallet)
    assert (balance["current_balance"], balance["authorizations"]) == (LARGE, 0)
    told = poll_until(
        lambda: [
            h["payload"]
            for h in fintech.log()["webhooks"]
            if (h["payload"] or {}).get("authorization_id") == "a-1"
            and h["payload"].get("wallet_id") == wallet
        ]
    )
    assert told[0]["status"] == "refused" and told[0]["refusal_reason"] == "wallet_frozen"

    again = api.decide(review["review_id"], "approve", "changed my mind")
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_closed"


def test_no_decision_before_the_timeout_escalates(cloud, api, sfn, wallet):
    with cloud.settings_changed(review_decision_timeout_seconds=2):
        assert api.send(payin(wallet, LARGE)).status_code == 202
        review = open_review(api, wallet)
    assert finished(cloud, sfn, review["review_id"])["status"] == "SUCCEEDED"
    escalated = api.review(review["review_id"])
    assert escalated["status"] == "escalated" and escalated["awaiting_decision"] is False
    assert states_entered(sfn, execution_arn(cloud, review["review_id"])) == [
        "RecordReview",
        "RequestDecision",
        "Escalate",
        "AnnounceEscalation",
    ]
    late = api.decide(review["review_id"], "approve", "")
    assert late.status_code == 409 and late.json()["error"]["code"] == "review_closed"
    assert api.balance(wallet)["frozen"] is False


def test_a_redelivered_large_payment_starts_no_second_review(cloud, api, sfn, wallet):
    envelope = payin(wallet, LARGE)
    for _ in range(3):
        assert api.send(envelope).status_code == 202
    assert api.send(payin(wallet, DEFAULT_THRESHOLD - 1)).status_code == 202  # below: no review
    cloud.wait_until_drained()
    review = open_review(api, wallet)
    mine = [r for r in api.reviews() if r["wallet_id"] == wallet]
    assert [r["review_id"] for r in mine] == [review["review_id"]]
    executions = sfn.list_executions(stateMachineArn=cloud.outputs["ReviewStateMachineArn"])["executions"]
    assert [e["name"] for e in executions].count(review["review_id"]) == 1
    assert api.balance(wallet)["current_balance"] == LARGE + DEFAULT_THRESHOLD - 1  # applied once
    api.decide(review["review_id"], "approve", "")  # leave nothing running


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/reviews?status=open", None, 422, "invalid_status"),
        ("GET", "/reviews/rv-00000000000000000000000000000000", None, 404, "review_not_found"),
        ("POST", "/reviews/not-a-review/decision", {"decision": "approve"}, 404, "review_not_found"),
        ("POST", "/reviews/rv-00000000000000000000000000000000/decision", "{oops", 400, "invalid_json"),
        (
            "POST",
            "/reviews/rv-00000000000000000000000000000000/decision",
            {"decision": "x"},
            422,
            "validation_error",
        ),
    ],
)
def test_bad_review_requests_get_a_clear_error(cloud, method, path, body, status, code):
    content = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    response = httpx.request(
        method, cloud.api_url + path, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_of_ten_conflicting_decisions_at_once_exactly_one_is_accepted_and_recorded_with_who(
    cloud, sfn, wallet
):
    """5 approvals and 5 rejections at the same instant: one 202, nine 409 naming the decision that
    stands; the workflow records that one, with the caller the gateway named (the local user)."""
    import threading

    from demo.parties.client import BankApi, local_user

    with BankApi(cloud.api_url, cloud.signing_secret) as api:
        assert api.send(payin(wallet, LARGE)).status_code == 202
        review = open_review(api, wallet)
    barrier, answers = threading.Barrier(10), []

    def decide(i: int) -> None:
        with BankApi(cloud.api_url) as officer:
            barrier.wait()
            choice, reason = ("approve", "known customer") if i % 2 else ("reject", "source of funds")
            answers.append((choice, officer.decide(review["review_id"], choice, reason)))

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [choice for choice, answer in answers if answer.status_code == 202]
    assert len(accepted) == 1, [(c, a.status_code, a.text) for c, a in answers]
    refused = [answer.json()["error"] for _, answer in answers if answer.status_code != 202]
    assert {a.status_code for _, a in answers if a.status_code != 202} == {409}
    assert all(f"{accepted[0]} by" in error["message"] for error in refused), refused
    assert finished(cloud, sfn, review["review_id"])["status"] == "SUCCEEDED"
    with BankApi(cloud.api_url) as api:
        decided = api.review(review["review_id"])
    assert decided["decision"] == accepted[0]
    assert decided["status"] == ("approved" if accepted[0] == "approve" else "rejected")
    assert decided["decided_by"] == f"arn:aws:iam::123456789012:user/{local_user()}"
