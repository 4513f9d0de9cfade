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
# # Step 1: the same code on Lambda
#
# In the story, the first move onto AWS Lambda ran the existing PHP application with Bref. Here
# **AWS Chalice plays the part of Bref**: the bank's domain code (`demo/bank`) runs unchanged
# behind three thin Chalice handlers (`demo/serverless/app.py`). **SQS replaces the self-hosted
# RabbitMQ broker**, and a DynamoDB table holds the ledger.
#
# Everything in this notebook runs on this machine, without an AWS account or a network:
# `lab.serverless()` (the set-up every notebook starts with, `demo/workshop/lab.py`) starts the
# fintech client, then `LocalCloud`: moto (an AWS emulator) in a process of its own, the stack of
# `demo/serverless/resources.yaml` deployed on it, the Chalice app served over HTTP, and the SQS
# worker driven the way Lambda's SQS event source mapping does.

# %%
from demo.workshop import lab

setup = lab.serverless()  # the fintech client, then the local cloud; each on a free port
client, cloud, api = setup.client, setup.cloud, setup.api

# %% [markdown]
# ## The card processor's side
#
# `api`, made by the set-up above, is a `BankApi`: the card processor's HTTP client. It signs
# each body with the shared secret (header `Bank-Signature: t=<unix seconds>,v1=<HMAC-SHA256>`)
# and POSTs it to `/notifications`.
# The local cloud generated that secret and stored it in SSM Parameter Store, where the Chalice
# app reads it.

# %%
api.health()

# %% [markdown]
# ## A payin: accepted is not yet applied
#
# A notification is a JSON envelope: its type (`webhook`), a unique id (`webhook_id`, a UUID),
# and the payload. Amounts are integer cents: 50000 is 500.00 EUR.

# %%
WALLET = "w-alex"

payin = {
    "webhook": "payin.received",
    "webhook_id": "3f2a6c1e-8b4d-4e2a-9c1f-0a7b5d3e2f10",
    "webhook_created_at": 1764412800,
    "object": "payin",
    "object_id": "pay-0001",
    "object_payload": {
        "wallet_id": WALLET,
        "amount": 50000,
        "currency": "EUR",
    },
}

# %% [markdown]
# The ingress (`POST /notifications`) checks the signature, validates the envelope, puts it on
# the SQS queue and answers `202 Accepted`. It writes nothing else. To see that, we pause the
# worker while we send: the message waits in the queue, and the bank does not know the wallet
# yet (`balance` returns `None` for an unknown wallet).

# %%
with cloud.paused():
    response = api.send(payin)
    print(response.status_code, response.json())
    print("queue:  ", cloud.queue_depths()["bank-notifications"])
    print("balance:", api.balance(WALLET))

# %% [markdown]
# Once the worker runs again, it receives the message, applies it to the ledger and deletes it
# from the queue. `wait_until_drained()` returns when the queue is empty and no handler runs.

# %%
cloud.wait_until_drained()
api.balance(WALLET)

# %% [markdown]
# ## A card payment: the authorization holds the amount
#
# The card pays 12.50 EUR at a grocery. The processor first sends the authorization: the bank
# holds the amount. `current_balance` does not move; `authorized_balance`, what the card may
# still spend, goes down.

# %%
authorization_1 = {
    "webhook": "card.authorization",
    "webhook_id": "7c9e1b2a-4d3f-4a8e-b6c5-1e2d3f4a5b60",
    "webhook_created_at": 1764412860,
    "object": "cardtransaction",
    "object_id": "ct-0001",
    "object_payload": {
        "wallet_id": WALLET,
        "authorization_id": "a-1",
        "amount": 1250,
        "currency": "EUR",
        "card": {"pan": "5488210000003691", "holder": "ALEX OAK"},
        "merchant": {"name": "Corner Grocery", "mcc": "5411"},
    },
}

# %%
print(api.send(authorization_1).status_code)
cloud.wait_until_drained()
api.balance(WALLET)

# %% [markdown]
# ## Out of order: a settlement before its authorization
#
# Delivery is not ordered. A second payment of 30.00 EUR, authorization `a-2`, reaches the bank
# settlement first. The settlement takes the money from `current_balance` and closes `a-2`.

# %%
a2 = {
    "wallet_id": WALLET,
    "authorization_id": "a-2",
    "amount": 3000,
    "currency": "EUR",
}
settlement_2 = {
    "webhook": "card.settlement",
    "webhook_id": "b1d4e7f0-2a3c-4b5d-8e6f-7a8b9c0d1e20",
    "webhook_created_at": 1764413100,
    "object": "cardtransaction",
    "object_id": "ct-0002",
    "object_payload": a2,
}
authorization_2 = {
    "webhook": "card.authorization",
    "webhook_id": "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a830",
    "webhook_created_at": 1764412920,
    "object": "cardtransaction",
    "object_id": "ct-0002",
    "object_payload": {
        **a2,
        "card": {"pan": "5488210000003691", "holder": "ALEX OAK"},
        "merchant": {"name": "Rail Tickets", "mcc": "4111"},
    },
}

# %%
print(api.send(settlement_2).status_code)
cloud.wait_until_drained()
api.balance(WALLET)

# %% [markdown]
# The authorization of `a-2` arrives late. The ledger remembers that `a-2` is closed, so the late
# authorization holds nothing: the balance does not change.

# %%
print(api.send(authorization_2).status_code)
cloud.wait_until_drained()
api.balance(WALLET)

# %% [markdown]
# ## A duplicate delivery
#
# Delivery is at least once: the processor may send the same envelope again, with the same
# `webhook_id`. The ingress writes nothing but the queue, so it cannot tell and accepts each copy
# with `202`. The worker absorbs them: the balance stays where it was.

# %%
for _ in range(2):
    print(api.send(payin).status_code)
cloud.wait_until_drained()
api.balance(WALLET)

# %% [markdown]
# ## What the worker wrote: one table, three kinds of items
#
# The ledger is a single DynamoDB table with a partition key `pk` and a sort key `sk`. A wallet's
# partition `WALLET#<wallet_id>` holds its balance (`sk = BALANCE`) and one item per card
# authorization (`sk = AUTH#<authorization_id>`, with its amount, whether it is closed, and a
# version number for optimistic locking). These are the raw items:

# %%
from pprint import pprint

dynamodb = cloud.client("dynamodb")
TABLE = cloud.outputs["LedgerTableName"]


def partition(pk):
    """Every item with this partition key, as DynamoDB returns it."""
    return dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]


pprint(partition(f"WALLET#{WALLET}"))

# %% [markdown]
# Each notification applied also left a "seen" marker, `pk = NOTIFICATION#<webhook_id>`. We sent
# the payin three times and four distinct notifications in all: each has exactly one marker.

# %%
for envelope in [payin, authorization_1, settlement_2, authorization_2]:
    pprint(partition(f"NOTIFICATION#{envelope['webhook_id']}"))

# %% [markdown]
# ## Why a duplicate changes nothing
#
# The worker reads the wallet's balance, decides, then writes the seen marker and the new
# balance in **one** `TransactWriteItems`. The marker's `Put` carries the condition
# `attribute_not_exists(pk)`; the balance's `Put`, the condition that its `version` is still the
# one read. For a duplicate the marker exists, the condition fails, and DynamoDB cancels the
# whole transaction, balance included. Marker and balance commit together or not at all, so the
# worker can be run any number of times on the same message. (The marker also keeps the balance
# right after its notification: a redelivery gets it back from the failed condition, and
# publishes the very events the first delivery published.)
#
# We can call the worker's own code to watch it. The local cloud wired the Chalice app's
# adapters (`chalicelib`) to its endpoint. `read` gets the wallet as stored, `decide` computes
# the ledger entry of the payin (plus 500.00 EUR), and `commit` tries the transaction: it says
# `applied=False`, as it did for each copy, and gives back what the first delivery committed.

# %%
import time

from chalicelib.bootstrap import container
from demo.bank.ledger import decide
from demo.bank.notifications import parse
from demo.parties.client import encode

ledger = container().ledger
state = ledger.read(WALLET, None)
entry = decide(parse(encode(payin)))
pprint(entry)
committed = ledger.commit(entry, state, applied_at=int(time.time()))
print("applied now:", committed.applied, "| kept when first applied:", committed.balance)
api.balance(WALLET)

# %% [markdown]
# The worker handles each SQS record on its own and returns the ids of the records that failed
# as `batchItemFailures`. The others are deleted from the queue; the failed ones become visible
# again and are retried, and after a few receives the queue moves them to its dead-letter queue.
# Nothing failed here: every queue and dead-letter queue is empty.

# %%
cloud.queue_depths()

# %% [markdown]
# ## A seeded stream: shuffled, with duplicates
#
# `demo.parties.processor` simulates the card processor: for each wallet a plausible story (payins,
# authorizations, then settlements, reversals or refunds), delivered shuffled and with about
# 20 % duplicates. It computes the balance each wallet should end with from the story itself,
# independently of the bank's ledger. The stream uses the wallets `w-1` to `w-4`.

# %%
from demo.parties.processor import generate

stream = generate(60, seed=7)
print(len(stream.deliveries), "deliveries")
print(stream.distinct, "distinct,", stream.duplicates, "duplicates")

# %%
from collections import Counter

statuses = Counter(api.send(e).status_code for e in stream.deliveries)
print("HTTP statuses:", dict(statuses))
cloud.wait_until_drained()

# %% [markdown]
# The balances the stream adds up to, next to the balances the bank reports, in cents:
# `[current_balance, authorizations, authorized_balance]`.

# %%
COLUMNS = ("current_balance", "authorizations", "authorized_balance")
expected, reported = {}, {}
for wallet_id, balance in sorted(stream.expected.items()):
    want = [getattr(balance, c) for c in COLUMNS]
    bank = api.balance(wallet_id) or {}
    got = [bank.get(c) for c in COLUMNS]
    expected[wallet_id], reported[wallet_id] = want, got
    print(wallet_id, "expected", want, "bank", got)

# %%
assert reported == expected, "the bank's balances differ"
print("All", len(expected), "wallets match.")

# %% [markdown]
# ## Your turn
#
# **1. Sign a notification yourself.** The bank accepts a notification only with a signature made
# with the secret it shares with the processor. Build a payin of your own (a new `webhook_id`,
# a wallet of your own), encode it with `encode`, and make two `Bank-Signature` headers for the
# same body with `demo.bank.signature.sign(secret, body, timestamp)`: one with the bank's secret
# (`cloud.signing_secret`), one with a secret you make up. Post the body with each
# (`api.post_notification(body, signature=...)`) and keep the two status codes. What does the
# refusal say?

# %% tags=["exercise"]
body = ...  # the bytes of your notification: encode(envelope)
good = ...  # its Bank-Signature header, made with the bank's secret
bad = ...  # a header for the same body, made with another secret
statuses = ...  # the API's status codes for body + good, then body + bad: [..., ...]

# %% tags=["check"]
import yourturn

yourturn.check_step1_signature(cloud.signing_secret, body, good, bad, statuses)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# import time
# import uuid
#
# from demo.bank.signature import sign
#
# mine = {
#     **payin,
#     "webhook_id": str(uuid.uuid4()),
#     "object_id": "pay-signed",
#     "object_payload": {"wallet_id": "w-signed", "amount": 1000, "currency": "EUR"},
# }
# body = encode(mine)
# now = int(time.time())
# good = sign(cloud.signing_secret, body, now)
# bad = sign("a secret of my own", body, now)
#
# accepted = api.post_notification(body, signature=good)
# refused = api.post_notification(body, signature=bad)
# print(accepted.status_code, accepted.json())
# print(refused.status_code, refused.json())
# statuses = [accepted.status_code, refused.status_code]
# ```
#
# </details>

# %% [markdown]
# **2. Deliver it three times.** Build another payin of your own: 42.00 EUR to a wallet that
# nobody used yet, with a new `webhook_id`. Send the very same envelope three times, wait until
# the worker has drained the queue, and read the wallet's balance. How much does it hold?

# %% tags=["exercise"]
my_payin = ...  # your payin envelope
my_balance = ...  # its wallet's balance, as api.balance returns it, once drained

# %% tags=["check"]
import yourturn

yourturn.check_step1_duplicate(api, my_payin, my_balance)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# import uuid
#
# my_payin = {
#     **payin,
#     "webhook_id": str(uuid.uuid4()),
#     "object_id": "pay-twice",
#     "object_payload": {"wallet_id": "w-twice", "amount": 4200, "currency": "EUR"},
# }
# for _ in range(3):
#     print(api.send(my_payin).status_code)
# cloud.wait_until_drained()
# my_balance = api.balance("w-twice")
# my_balance
# ```
#
# </details>

# %% [markdown]
# Done: stop the HTTP client, the local cloud (moto, the API server and the pollers) and the fintech client.

# %%
setup.stop()
