# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Step 3: orchestration
#
# A payin or a card settlement of **10,000.00 EUR or more** needs a compliance decision. The
# ledger applies it as usual and, in the same breath, publishes a `LargePaymentFlagged` event.
# A rule routes that event to the review desk's queue, whose small Lambda function starts a
# **Step Functions** execution of the `large-payment-review` workflow.
#
# The workflow has no Lambda function in it: its states call DynamoDB and EventBridge
# directly. It records the pending review, announces it with a **task token** and waits for a
# person to decide, then approves it, or rejects it and freezes the wallet, or escalates it when
# nobody decided in time.
#
# moto runs the workflow's real definition
# (`demo/serverless/statemachines/large-payment-review.asl.json`) in this process.

# %%
import time
import uuid

from demo.workshop import lab

setup = lab.serverless()  # the fintech client, then the local cloud; each on a free port
client, cloud, api = setup.client, setup.cloud, setup.api
sfn = cloud.client("stepfunctions")
STATE_MACHINE = cloud.outputs["ReviewStateMachineArn"]
print("state machine:", STATE_MACHINE)

# %% [markdown]
# A few helpers: the envelopes the card processor sends (amounts in cents), and a wait that
# polls with a deadline. The workflow runs on its own, so we never sleep a fixed time.


# %%
def envelope(webhook, **payload):
    return {
        "webhook": webhook,
        "webhook_id": str(uuid.uuid4()),
        "webhook_created_at": int(time.time()),
        "object": "cardtransaction",
        "object_id": f"ct-{uuid.uuid4().hex[:10]}",
        "object_payload": {"currency": "EUR", **payload},
    }


def payin(wallet_id, cents):
    return envelope("payin.received", wallet_id=wallet_id, amount=cents)


def card_authorization(wallet_id, authorization_id, cents):
    card = {"pan": "5488210000003691", "holder": "ALEX OAK"}
    merchant = {"name": "Corner Grocery", "mcc": "5411"}
    return envelope(
        "card.authorization",
        wallet_id=wallet_id,
        authorization_id=authorization_id,
        amount=cents,
        card=card,
        merchant=merchant,
    )


def wait_for(condition, timeout=20.0, what="the condition"):
    """The first truthy value of condition(), polled until the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not met within {timeout} s")
        time.sleep(0.1)
    return value


def review_of(wallet_id, status="all"):
    return next((r for r in api.reviews(status) if r["wallet_id"] == wallet_id), None)


def decidable(wallet_id):
    """The wallet's review once its workflow waits for a decision (its task token is filed)."""
    review = review_of(wallet_id, "pending")
    return review if review and review["awaiting_decision"] else None


# %% [markdown]
# ## Only a large payment is reviewed
#
# Two payins: 15,000.00 EUR to `orch-1`, and 250.00 EUR to `orch-small`. Both are applied at
# once: the review does not hold the money back, it decides what happens to the wallet next.

# %%
large = payin("orch-1", 1_500_000)
for e in (large, payin("orch-small", 25_000)):
    assert api.send(e).status_code == 202
cloud.wait_until_drained()

review = wait_for(lambda: decidable("orch-1"), what="the review of orch-1 awaits a decision")
assert review_of("orch-small") is None, "a small payment is not reviewed"
print("orch-1 balance:    ", api.balance("orch-1")["current_balance"])
print("orch-small balance:", api.balance("orch-small")["current_balance"])
review

# %% [markdown]
# The review's id is derived from the notification's id (a UUID 5), and it is also the name of
# the Step Functions execution. The execution is now parked in `RequestDecision`: that state
# put a `ReviewRequested` event on the bus with its task token, which the review desk filed on
# the review item (`awaiting_decision` is then true). The token itself never leaves the bank.
#
# ## Approve it
#
# `POST /reviews/{id}/decision` hands the decision to the waiting execution
# (`SendTaskSuccess` with the token) and answers `202 Accepted`: the workflow records it.

# %%
response = api.decide(review["review_id"], "approve", "source of funds checked")
print(response.status_code, response.json())
assert response.status_code == 202

approved = wait_for(
    lambda: (r := api.review(review["review_id"]))["status"] == "approved" and r,
    what="the review is approved",
)
{k: approved[k] for k in ("status", "decision", "reason", "decided_at")}

# %% [markdown]
# The execution's history, from Step Functions itself: the states it entered, in order, and its
# final status.


# %%
def states_entered(review_id):
    arn = f"{STATE_MACHINE.replace(':stateMachine:', ':execution:')}:{review_id}"
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    return entered, sfn.describe_execution(executionArn=arn)["status"]


def finished(review_id):
    entered, status = states_entered(review_id)
    return (entered, status) if status != "RUNNING" else None


entered, status = wait_for(lambda: finished(review["review_id"]), what="the execution ends")
print(" -> ".join(entered))
print(status)
assert entered == ["RecordReview", "RequestDecision", "Decision", "Approve", "AnnounceApproval"]
assert status == "SUCCEEDED"

# %% [markdown]
# A decided review takes no second decision: `409 review_closed`. A rejection without a reason
# does not reach the workflow: `422 validation_error`.

# %%
again = api.decide(review["review_id"], "reject", "changed my mind")
print(again.status_code, again.json()["error"]["code"])
assert again.status_code == 409

# %% [markdown]
# ## Reject one: the wallet is frozen
#
# A second large payment, 12,000.00 EUR to `orch-2`. This time the compliance officer rejects
# it, with a reason (a rejection needs one).

# %%
assert api.send(payin("orch-2", 1_200_000)).status_code == 202
cloud.wait_until_drained()
suspect = wait_for(lambda: decidable("orch-2"), what="the review of orch-2 awaits a decision")

no_reason = api.decide(suspect["review_id"], "reject")
print(no_reason.status_code, no_reason.json()["error"])
assert no_reason.status_code == 422

response = api.decide(suspect["review_id"], "reject", "payer on a sanctions list")
print(response.status_code, response.json())
assert response.status_code == 202

entered, status = wait_for(lambda: finished(suspect["review_id"]), what="the execution ends")
print(" -> ".join(entered))
print(status)
assert entered[-3:] == ["Reject", "FreezeWallet", "AnnounceRejection"]
assert status == "SUCCEEDED"

# %% [markdown]
# `FreezeWallet` updated the wallet's balance item directly (a DynamoDB `UpdateItem` from the
# workflow, no Lambda). The balance now says so:

# %%
balance = api.balance("orch-2")
print(balance)
assert balance["frozen"] is True

# %% [markdown]
# The ledger refuses new card authorizations of a frozen wallet. The card processor sends one
# for 80.00 EUR: it is applied as a refusal, nothing is held, and the client's
# `cardtransaction.update` webhook says why.

# %%
assert api.send(card_authorization("orch-2", "auth-orch-2", 8_000)).status_code == 202
cloud.wait_until_drained()

update = next(
    h
    for h in client.log()["webhooks"]
    if h["webhook"] == "cardtransaction.update" and h["payload"]["authorization_id"] == "auth-orch-2"
)
print(update["payload"])
balance = api.balance("orch-2")
print("authorizations:", balance["authorizations"])
assert update["payload"]["status"] == "refused"
assert update["payload"]["refusal_reason"] == "wallet_frozen"
assert balance["authorizations"] == 0

# %% [markdown]
# ## A redelivered payment starts no second review
#
# Delivery is at least once. The processor sends the first large payin again, the very same
# envelope: the ledger changes nothing, but the worker publishes its events again (step 2), so
# the review desk sees `LargePaymentFlagged` a second time. It starts an execution named by the
# same review id, and Step Functions refuses a second execution of that name
# (`ExecutionAlreadyExists`).


# %%
def executions():
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=STATE_MACHINE)
    return [e for page in pages for e in page["executions"]]


before = len(executions())
assert api.send(large).status_code == 202
cloud.wait_until_drained()
print("executions before:", before, "after:", len(executions()))
print("reviews of orch-1:", sum(r["wallet_id"] == "orch-1" for r in api.reviews()))
print("orch-1 balance:   ", api.balance("orch-1")["current_balance"])
assert len(executions()) == before
assert sum(r["wallet_id"] == "orch-1" for r in api.reviews()) == 1
assert api.balance("orch-1")["current_balance"] == 1_500_000

# %% [markdown]
# ## Nobody decides: the review is escalated
#
# `RequestDecision` waits at most `decision_timeout_seconds`, an input of the execution: two
# days on AWS, ten minutes in the local stage (`REVIEW_DECISION_TIMEOUT_SECONDS` in
# `.chalice/config.json`). Then its `Catch` of `States.Timeout` goes to `Escalate`. The review
# desk reads the timeout when it starts an execution, so the review that starts inside this
# block waits 3 seconds only.

# %%
with cloud.settings_changed(review_decision_timeout_seconds=3):
    assert api.send(payin("orch-3", 2_000_000)).status_code == 202
    cloud.wait_until_drained()  # the review desk has started the execution
    late = wait_for(lambda: review_of("orch-3"), what="the review of orch-3 exists")

escalated = wait_for(
    lambda: (r := api.review(late["review_id"]))["status"] == "escalated" and r,
    timeout=30,
    what="the review is escalated",
)
entered, status = wait_for(lambda: finished(late["review_id"]), what="the execution ends")
print(" -> ".join(entered))
print(status, "|", escalated["status"], "|", escalated["reason"])
assert entered == ["RecordReview", "RequestDecision", "Escalate", "AnnounceEscalation"]
assert status == "SUCCEEDED"

late_decision = api.decide(late["review_id"], "approve")
print(late_decision.status_code, late_decision.json()["error"]["code"])
assert late_decision.status_code == 409

# %% [markdown]
# Every review, as `GET /reviews` (or `bankdemo reviews --status all`) lists them:

# %%
for r in api.reviews("all"):
    print(f"{r['wallet_id']:8} {r['amount'] / 100:>10,.2f} {r['currency']}  {r['status']:9} {r['reason']}")
assert sorted(r["status"] for r in api.reviews("all")) == ["approved", "escalated", "rejected"]

# %% [markdown]
# ## What it costs
#
# A Standard workflow is billed per **state transition**; an Express workflow per request and
# per GB-second of duration. `demo/aws/workflow_costs.py` counts the states entered on each way
# through the workflow by walking its definition (the file moto just ran), and applies the
# public prices of `demo/aws/prices.yaml`. Here: 1,000 reviews of each outcome, each decided
# within 4 hours.

# %%
from IPython.display import Markdown

from demo.aws import costs, workflow_costs

REVIEWS = 1_000
DECISION_WAIT = 4 * 3600  # seconds the workflow waits for the compliance officer
price = costs.prices()["stepfunctions"]
review_costs = workflow_costs.review_costs(decision_wait_seconds=DECISION_WAIT)

rows = [
    f"| outcome | states entered | Standard, USD per {REVIEWS:,} reviews | Express, USD per {REVIEWS:,} reviews |",
    "|---|---:|---:|---|",
]
for cost in review_costs:
    standard, express = cost.per(REVIEWS)
    express_text = "cannot run it (no task token, 5 min at most)" if express is None else f"{express:,.4f}"
    rows.append(f"| {cost.outcome} | {cost.transitions} | {standard:,.4f} | {express_text} |")
    assert express is None  # every way through waits for a person
    assert cost.transitions == len(
        workflow_costs.outcome_paths(workflow_costs.load_definition())[cost.outcome]
    )
rows.append(
    f"\nPrices in USD, from {price['source']}, read on {price['read_on']}: Standard "
    f"{price['standard']['per_state_transition']:.6f} per state transition "
    f"({price['standard']['free_transitions_per_month']:,} free a month); Express "
    f"{price['express']['per_request']:.6f} per request and {price['express']['per_gb_second']:.8f} "
    f"per GB-second. Computed by `demo/aws/workflow_costs.py` from `demo/aws/prices.yaml`."
)
assert {c.outcome for c in review_costs} == {"ReviewApproved", "ReviewRejected", "ReviewEscalated"}
Markdown("\n".join(rows))

# %% [markdown]
# Express cannot run this workflow at any price: it has no `.waitForTaskToken` integration,
# and an Express execution stops after 5 minutes, where a compliance officer takes hours. For
# scale, what the same service calls would cost on Express without the human wait (about a
# second each), and what Standard bills in a month once its free tier is used:

# %%
approval = next(c for c in review_costs if c.outcome == "ReviewApproved")
express_alone = workflow_costs.express_cost(1.0) * REVIEWS
lines = [
    ("Express", f"{REVIEWS:,} executions of 1 s", express_alone),
    ("Standard", f"{REVIEWS:,} approvals", approval.per(REVIEWS)[0]),
]
for per_month in (1_000, 10_000):
    billed = workflow_costs.standard_monthly_cost(per_month * approval.transitions)
    lines.append(("Standard", f"{per_month:,} approvals a month, billed", billed))
for kind, what, dollars in lines:
    print(f"{kind:9} {what:36} ${dollars:,.4f}")
assert express_alone < approval.per(REVIEWS)[0]

# %% [markdown]
# Standard is the pricier of the two for short work, and the only one that can wait for a
# person (an execution may last a year): each review pays for its handful of transitions, never
# for the time it waits.
#
# ## Your turn
#
# **1. Where the review starts.** What is the largest payin, in cents, that the bank applies
# without opening a review? The rule is `needs_review` in `demo/bank/reviews.py`, and the
# threshold the app runs with is in its settings (`cloud.app_module.container().settings`).

# %% tags=["exercise"]
largest_unreviewed = ...  # cents

# %% tags=["check"]
import yourturn

yourturn.check_step3_threshold(cloud, largest_unreviewed)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# threshold = cloud.app_module.container().settings.review_threshold_cents
# largest_unreviewed = threshold - 1  # needs_review: amount >= threshold
# print(f"{largest_unreviewed:,} cents, {largest_unreviewed / 100:,.2f} EUR")
# ```
#
# </details>

# %% [markdown]
# **2. Approve a review of your own.** Send a payin above the threshold to a wallet of your own
# (say `orch-you`), wait until its review awaits a decision (`decidable`), approve it with a
# reason, and wait until the review says `approved`. The check asks Step Functions which states
# the execution went through.

# %% tags=["exercise"]
my_review = ...  # your review once approved, as api.review(review_id) returns it

# %% tags=["check"]
import yourturn

yourturn.check_step3_review(api, cloud, my_review)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# assert api.send(payin("orch-you", 1_234_500)).status_code == 202
# cloud.wait_until_drained()
# pending = wait_for(lambda: decidable("orch-you"), what="my review awaits a decision")
# print(api.decide(pending["review_id"], "approve", "salary of a football player").status_code)
# my_review = wait_for(
#     lambda: (r := api.review(pending["review_id"]))["status"] == "approved" and r,
#     what="my review is approved",
# )
# my_review
# ```
#
# </details>

# %% [markdown]
# Done: stop the HTTP client, the local cloud and the fintech client.

# %%
setup.stop()
