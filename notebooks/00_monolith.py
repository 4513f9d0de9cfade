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
# # Step 0: the monolith
#
# This is the "before" of the story: the bank's monolith. A **Flask** app receives the card
# processor's notifications, records each one in an inbox table and publishes it to a
# **message broker**. A **worker** consumes the broker's queue one message at a time, applies
# the notification to a **SQLite** ledger, then calls the fintech client's webhook before it
# takes the next message. The ledger rules are the domain code of step 1 (`demo/bank`),
# unchanged.
#
# The broker's queue and messages are transient: they do not survive a restart of the broker.
# By default it is kombu's in-memory transport, inside this process; `BROKER_URL=amqp://...`
# runs the same code against a real RabbitMQ.
#
# First the monolith at work, then three of its weaknesses, each measured on the running system.

# %% [markdown]
# ## Start the fintech client and the monolith
#
# `FintechClient` is the bank's customer: a small HTTP server that receives the bank's
# webhooks, checks their signatures and drops duplicates. `Monolith` starts the Flask app,
# the broker, the worker and a SQLite file in a temporary folder. Port 0 picks any free port.

# %%
from demo.parties.fintech import Mode
from demo.workshop import lab

setup = lab.monolith()  # the fintech client, then the monolith; each on a free port
client, monolith, api = setup.client, setup.monolith, setup.api

# %% [markdown]
# The processor's side is the same `BankApi` as in step 1: the monolith speaks the same HTTP
# contract as the serverless API (`POST /notifications`, `GET /wallets/<id>/balance`).

# %%
api.health()

# %% [markdown]
# ## Waiting for the worker
#
# The ingress answers `202 Accepted` before the worker has applied anything. `Monolith.status()`
# reports the broker's queue depth and, from the inbox table, the notifications accepted but not
# applied yet, per wallet. `wait_until` polls a condition until it holds or a deadline passes.

# %%
import time


def wait_until(condition, timeout=10.0, interval=0.05):
    """Poll ``condition()`` until true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        time.sleep(interval)


def drained():
    """Nothing queued, nothing accepted and not applied."""
    status = monolith.status()
    backlog = status.get("pending_by_wallet")  # absent when the database is down
    return status["queue_depth"] == 0 and backlog == {}


# %% [markdown]
# ## A seeded stream: shuffled, with duplicates
#
# `demo.parties.processor.generate` simulates the card processor, as in step 1: a plausible story per
# wallet (`w-1` to `w-4`), delivered shuffled and with about 20 % duplicates, and the balances
# it adds up to.

# %%
from collections import Counter

from demo.parties.processor import generate

stream = generate(40, seed=7)
statuses = Counter(api.send(e).status_code for e in stream.deliveries)
print("HTTP statuses:", dict(statuses))
wait_until(drained)
monolith.status()["inbox"]

# %% [markdown]
# `accepted` counts the deliveries answered 202, `distinct` the notifications among them, and
# `applied` the notifications the worker applied to the ledger. The balances, in cents, as
# `[current_balance, authorizations, authorized_balance]`:

# %%
COLUMNS = ("current_balance", "authorizations", "authorized_balance")
WALLETS = sorted(stream.expected)


def balances():
    """Every wallet's balance as the bank reports it."""
    return {w: [(api.balance(w) or {}).get(c) for c in COLUMNS] for w in WALLETS}


expected = {w: [getattr(stream.expected[w], c) for c in COLUMNS] for w in WALLETS}
reported = balances()
for w in WALLETS:
    print(w, "expected", expected[w], "bank", reported[w])
assert reported == expected, "the bank's balances differ"
print("All", len(WALLETS), "wallets match.")

# %% [markdown]
# ## What the client was told
#
# For each notification it applies, the worker sends the client a `balance.update` webhook, and
# a `cardtransaction.update` before it for a card notification. The worker sends them after it
# commits, so we wait until the last balance the client heard for each wallet is the bank's.


# %%
def told():
    """The last balance the client received for each wallet."""
    heard = client.log()["stats"]["balances"]
    return {w: [heard.get(w, {}).get(c) for c in COLUMNS] for w in WALLETS}


wait_until(lambda: told() == reported)
stats = client.log()["stats"]
print("webhooks received:", stats["received"], " duplicates:", stats["duplicates"])
print("rejected:", stats["rejected"], " refused:", stats["refused"])
print("worker:", monolith.status()["worker_stats"])

# %% [markdown]
# ## Weakness 1: a slow client slows every wallet
#
# The worker calls the client's webhook inside the same step as the ledger update, and takes the
# next message only when the client has answered. When the client is slow, the queue waits
# behind it: *head-of-line blocking*.
#
# To see it, the processor sends a wave of payins (10.00 EUR, three per wallet) every half
# second, and half a second after each wave we sample the broker's queue and the backlog of each
# wallet. `demo.parties.processor.envelope` builds each notification as the processor does.

# %%
import random

from demo.parties.processor import envelope

rng = random.Random(0)


def payins(amount, per_wallet=1):
    """``per_wallet`` payin notifications of ``amount`` cents for each wallet."""
    return [
        envelope(
            "payin.received",
            {"wallet_id": w, "amount": amount},
            rng=rng,
            created_at=int(time.time()),
            obj="payin",
        )
        for _ in range(per_wallet)
        for w in WALLETS
    ]


def applied():
    return monolith.status()["worker_stats"]["applied"]


def send_waves(waves=4, every=0.5):
    """A wave of payins every ``every`` s; sample the backlog after each."""
    start, applied_before = time.monotonic(), applied()
    for _ in range(waves):
        wave = payins(1000, per_wallet=3)
        sent = Counter(api.send(e).status_code for e in wave)
        time.sleep(every)  # the interval between a wave and its sample
        status = monolith.status()
        backlog = [status["pending_by_wallet"].get(w, 0) for w in WALLETS]
        print(
            f"t={time.monotonic() - start:3.1f} s  sent {dict(sent)}  "
            f"queue {status['queue_depth']:2}  backlog {backlog}"
        )
    took = time.monotonic() - start
    print(f"applied {applied() - applied_before} in {took:.1f} s")


# %% [markdown]
# First with the client up. The backlog list is per wallet, `w-1` to `w-4`.

# %%
send_waves()
wait_until(drained)

# %% [markdown]
# Now the client takes 0.2 s to answer each webhook. Nothing else changes: the database, the
# broker and the ledger are as fast as before.

# %%
client.set_mode(Mode.SLOW, delay=0.2)
send_waves()

# %% [markdown]
# Every wallet's backlog grows, although only the client is slow: the worker is busy waiting for
# the client's answers. A wallet whose owner never uses that client would wait all the same. The
# client recovers, and the backlog drains:

# %%
client.set_mode(Mode.UP)
start = time.monotonic()
wait_until(drained, timeout=30)
print(f"drained in {time.monotonic() - start:.2f} s")

# %% [markdown]
# ## Weakness 2: the database is down, the ingress refuses
#
# The ingress records each notification in the inbox table before it publishes it, so it
# needs the database. While the database is down, the processor gets `503`.

# %%
monolith.inject("database-down")
refused = payins(500, per_wallet=2)
answers = [api.send(e) for e in refused]
print("HTTP statuses:", dict(Counter(a.status_code for a in answers)))
print(answers[0].json())

# %% [markdown]
# The broker and the worker are fine, yet the bank accepts nothing. Nothing is lost either: the
# processor keeps each refused notification and sends it again later. When the database is back,
# the retries are accepted and applied.

# %%
monolith.inject("database-up")
retried = Counter(api.send(e).status_code for e in refused)
print("HTTP statuses:", dict(retried))
wait_until(drained)
monolith.status()["inbox"]

# %% [markdown]
# ## Weakness 3: a broker restart loses accepted notifications
#
# The failure that motivated the migration. The worker is being redeployed, so it is stopped,
# and notifications pile up in the broker's queue. Every one of them gets `202 Accepted`: from
# the processor's point of view the bank has them, and it will never send them again.

# %%
before = balances()
monolith.inject("worker-stop")
accepted = payins(2500, per_wallet=3)
answered = Counter(api.send(e).status_code for e in accepted)
print("HTTP statuses:", dict(answered))
status = monolith.status()
print("queue depth:", status["queue_depth"])
print("backlog:", status["pending_by_wallet"])

# %% [markdown]
# Now the broker restarts (an upgrade, a crash, a host reboot). The queue and its messages are
# transient: they lived in the broker's memory only.

# %%
lost = monolith.inject("broker-restart")
print(lost)
monolith.inject("worker-start")
wait_until(lambda: monolith.status()["worker"] == "running")

# %% [markdown]
# The worker runs again, the queue is empty, and the inbox table tells what happened: more
# notifications accepted than applied, and a backlog that nothing will ever drain.

# %%
status = monolith.status()
inbox = status["inbox"]
never_applied = inbox["distinct"] - inbox["applied"]
print("queue depth:", status["queue_depth"], " worker:", status["worker"])
print("inbox:", inbox)
print("accepted but never applied:", never_applied)
print("backlog:", status["pending_by_wallet"])
assert never_applied == lost["messages_lost"] > 0

# %% [markdown]
# The money is missing from every wallet: each one should have gained three payins of 25.00 EUR
# (`current_balance`, in cents).

# %%
added = Counter()
for e in accepted:
    payin = e["object_payload"]
    added[payin["wallet_id"]] += payin["amount"]
after = balances()
for w in WALLETS:
    should, bank = before[w][0] + added[w], after[w][0]
    print(f"{w}: should be {should}, bank says {bank}, missing {should - bank}")

# %% [markdown]
# The monolith's own inbox table knows which notifications were lost, but nothing in the
# monolith replays them, and the processor was told they were accepted. Step 1 replaces the
# broker with SQS, a managed queue that stores messages durably.
#
# ## Your turn
#
# Replay weakness 3 with payins of your own, and predict the outcome before you see it.
#
# 1. Stop the worker (`monolith.inject("worker-stop")`), then send `mine = payins(1500,
#    per_wallet=2)`: two payins of 15.00 EUR to each wallet. Look at the HTTP statuses and the
#    queue depth.
# 2. Before you go on, write down in `applied_in_the_end` how many of your payins the bank
#    will have applied once the broker has restarted and the worker runs again.
# 3. Restart the broker (`monolith.inject("broker-restart")`), start the worker
#    (`monolith.inject("worker-start")`), and run the check. It reads the ledger: it knows
#    which of your notifications were applied.

# %% tags=["exercise"]
mine = ...  # the payins you sent while the worker was stopped
applied_in_the_end = ...  # your prediction: how many of them the bank applies in the end

# %% tags=["check"]
import yourturn

yourturn.check_step0_broker_restart(monolith, mine, applied_in_the_end)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# monolith.inject("worker-stop")
# mine = payins(1500, per_wallet=2)
# print("HTTP statuses:", dict(Counter(api.send(e).status_code for e in mine)))
# print("queue depth:", monolith.status()["queue_depth"])
#
# # Every one was accepted, and waits in the broker's queue: a transient queue, in the broker's
# # memory only. A restart drops it, and nothing sends those payins again.
# applied_in_the_end = 0
#
# print(monolith.inject("broker-restart"))
# monolith.inject("worker-start")
# wait_until(lambda: monolith.status()["worker"] == "running")
# ```
#
# </details>

# %% [markdown]
# Done: stop the HTTP client, the monolith and the fintech client.

# %%
setup.stop()
