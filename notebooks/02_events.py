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
# # Step 2: events and webhooks
#
# After its ledger commit, the worker publishes what happened to an **EventBridge** bus named
# `bank`: a `CardTransactionUpdated` event for each card notification, a `BalanceUpdated` event
# for every notification. Two rules route these events to two SQS queues: `bank-webhooks`,
# read by the dispatcher that sends signed webhooks to the fintech client, and `bank-audit`,
# read by the audit writer.
#
# The targets of the rules are SQS queues, not Lambda functions. A queue buffers the events
# while a consumer is slow or down, retries what failed, and keeps its own dead-letter queue,
# one per consumer.

# %%
from demo.parties.fintech import Mode
from demo.workshop import lab

# The fintech client: it receives, verifies and deduplicates the bank's webhooks.
setup = lab.serverless()  # the fintech client, then the local cloud; each on a free port
client, cloud, api = setup.client, setup.cloud, setup.api

# %% [markdown]
# ## A small stream, every event delivered
#
# A seeded stream of 12 deliveries for two wallets, shuffled and with duplicates, as in step 1.
# `wait_until_drained()` returns when every queue is empty and no handler runs: the
# notifications queue, then the webhooks and audit queues that the bus fills.

# %%
from demo.parties.processor import generate

stream = generate(12, seed=21, wallets=2, wallet_prefix="ev-")
print(len(stream.deliveries), "deliveries:", stream.distinct, "distinct,", stream.duplicates, "duplicates")
for envelope in stream.deliveries:
    assert api.send(envelope).status_code == 202
cloud.wait_until_drained()

# %% [markdown]
# Each event has a **deterministic id**: a UUID 5 of the notification's id and the event's type
# (`demo.bank.events.event_id`). We can compute in advance the ids the client must receive:
# one `BalanceUpdated` per distinct notification, plus one `CardTransactionUpdated` per card
# notification. The webhook's `webhook_id` is the event id.

# %%
from demo.bank.events import event_id


def expected_event_ids(stream):
    ids = set()
    for envelope in {e["webhook_id"]: e for e in stream.deliveries}.values():
        types = ["BalanceUpdated"]
        if envelope["webhook"] != "payin.received":
            types.insert(0, "CardTransactionUpdated")
        ids |= {event_id(envelope["webhook_id"], t) for t in types}
    return ids


def received_ids(stream):
    hooks = client.log()["webhooks"]
    return {h["webhook_id"] for h in hooks if (h["payload"] or {}).get("wallet_id") in stream.expected}


expected = expected_event_ids(stream)
print("events expected:  ", len(expected))
print("webhooks received:", len(received_ids(stream)))
assert received_ids(stream) == expected
client.log()["stats"]

# %% [markdown]
# The duplicates of the stream published their events again (see below why), so the client saw
# some webhook ids twice: `duplicates` counts them. It answered `200` and kept one of each.
#
# ## The audit trail
#
# The audit writer appends each event once to the wallet's history, in its own table. Its
# `put_item` carries the condition `attribute_not_exists(pk)`, so an event delivered twice is
# recorded once. The history of one wallet, oldest first:

# %%
audit = cloud.app_module.container().audit
wallet = sorted(stream.expected)[0]
for event in audit.history(wallet):
    print(event["occurred_at"], f"{event['type']:24}", event["object_id"], event["event_id"][:8])

# %% [markdown]
# The bank's running counters, in the ledger table: `webhooks_delivered` counts the client's
# `200` answers, duplicates included (15 distinct webhooks, and the duplicates' copies).

# %%
cloud.app_module.container().counters.read()

# %% [markdown]
# ## The client goes down
#
# Now the client stops listening. Each webhook fails; the dispatcher does not sleep before the
# next try, which would keep a Lambda function running and paid for. It sets the message's
# **visibility timeout** to the backoff delay (1 s, 2 s, 4 s... in the local stage) and reports
# the record as failed: SQS hides the message that long, then hands it out again. After the
# queue's `maxReceiveCount` receives (4 in the local stage) the queue moves it to
# `bank-webhooks-dlq`.
#
# Each failed record is logged with its traceback by `process_partial`; we silence the `bank`
# logger for this cell, or it would print dozens of them.

# %%
import logging

logging.getLogger("bank").setLevel(logging.CRITICAL)
client.set_mode(Mode.DOWN)
outage = generate(10, seed=22, wallets=2, wallet_prefix="ev-down-")
for envelope in outage.deliveries:
    assert api.send(envelope).status_code == 202
depths = cloud.wait_until_drained(timeout=120)  # retried with backoff, then dead-lettered
depths

# %%
dead = depths["bank-webhooks-dlq"]["visible"]
print("events expected:   ", len(expected_event_ids(outage)))
print("dead letters:      ", dead)
print("webhooks received: ", len(received_ids(outage)))
assert dead >= len(expected_event_ids(outage))
assert received_ids(outage) == set()

# %% [markdown]
# The ledger did not wait for the client: the balances are already right. Only the webhooks
# are waiting, in the dead-letter queue.
#
# ## Redrive
#
# Once the client is back, the dead letters go back to their queue: a **redrive**. On AWS, SQS
# does it itself (`StartMessageMoveTask`); the local cloud does not implement it, so
# `redrive(..., use_move_task=False)` receives each message, sends it to `bank-webhooks` and
# deletes it from the DLQ. `bankdemo redrive bank-webhooks` does the same from a terminal.

# %%
from demo.aws.queues import redrive

client.set_mode(Mode.UP)
logging.getLogger("bank").setLevel(logging.NOTSET)
moved = redrive(cloud.client("sqs"), "bank-webhooks", use_move_task=False)
print("redriven:", moved)
depths = cloud.wait_until_drained(timeout=60)
print("bank-webhooks-dlq:", depths["bank-webhooks-dlq"])

# %% [markdown]
# There were more dead letters than events, since the duplicates of the stream published their
# events again. The client deduplicates by `webhook_id`, so each event counts once:

# %%
assert moved == dead
assert depths["bank-webhooks-dlq"]["visible"] == 0
assert received_ids(outage) == expected_event_ids(outage)
hooks = [h for h in client.log()["webhooks"] if (h["payload"] or {}).get("wallet_id") in outage.expected]
assert len(hooks) == len({h["webhook_id"] for h in hooks})
print(len(hooks), "webhooks received, each once")

COLUMNS = ("current_balance", "authorizations", "authorized_balance")
for wallet_id, balance in sorted(outage.expected.items()):
    want = [getattr(balance, c) for c in COLUMNS]
    bank = api.balance(wallet_id) or {}
    got = [bank.get(c) for c in COLUMNS]
    print(wallet_id, "expected", want, "bank", got)
    assert got == want

# %% [markdown]
# ## Your turn
#
# The first delivery of the small stream above, `stream.deliveries[0]`, caused a `BalanceUpdated`
# event, which reached the client as a `balance.update` webhook. Compute that event's id
# **before** you look at what the client received, with `event_id` (`demo.bank.events`); then
# find the webhook with that id in the client's log (`client.log()["webhooks"]`). What balance
# did it tell the client?

# %% tags=["exercise"]
my_event_id = ...  # the id of the BalanceUpdated event of stream.deliveries[0]
my_webhook = ...  # the webhook with that id, as client.log()["webhooks"] holds it

# %% tags=["check"]
import yourturn

yourturn.check_step2_event_id(client, stream.deliveries[0], my_event_id, my_webhook)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# first = stream.deliveries[0]
# my_event_id = event_id(first["webhook_id"], "BalanceUpdated")
# my_webhook = next(h for h in client.log()["webhooks"] if h["webhook_id"] == my_event_id)
# print(first["webhook"], first["object_payload"])
# my_webhook
# ```
#
# </details>

# %% [markdown]
# Done: stop the HTTP client, the local cloud (moto, the API server and the pollers) and the fintech client.

# %%
setup.stop()
