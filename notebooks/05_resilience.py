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
# # Step 5: resilience
#
# The claim: the serverless bank **keeps serving when a part of it is down**, handles and retries
# the errors, and **loses nothing**. This notebook breaks things on cue and counts:
#
# - **DynamoDB goes down** under the local bank: the API keeps answering `202`, the notifications
#   wait in the queue, and the balances are right once DynamoDB is back;
# - the **same faults, thrown at both systems** at once (the monolith of step 0 and the serverless
#   bank), with the same seeded stream, scored against an oracle: a database outage, then a
#   client outage;
# - what the backlog and the latency did meanwhile, on a plot;
# - the scorecard of the **storm** soak, every fault at once, read from the file it wrote.
#
# Faults are injected where AWS's own failures happen, on the wire: a middleware in front of the
# emulated services answers `503 ServiceUnavailable` for a service that is "down". The app's code
# has no `if chaos:` branch.

# %%
import logging
import time

import httpx

from demo.workshop import lab

setup = lab.serverless()  # the fintech client, then the local cloud; each on a free port
client, cloud, api = setup.client, setup.cloud, setup.api
print("faults:  ", {target: fault["mode"] for target, fault in cloud.faults.state().items()})

# %% [markdown]
# During an outage every consumer logs a warning per batch it puts back. We keep those lines out
# of the cells' outputs (the app's stdout handler goes to `ERROR`), and catch them with a handler
# of our own, to read one below.


# %%
class Lines(logging.Handler):
    """Keeps every formatted line the app logs."""

    def __init__(self, formatter):
        super().__init__(logging.INFO)
        self.setFormatter(formatter)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


app_log = cloud.app_module.log
stdout_handler = app_log.handlers[0]
captured = Lines(stdout_handler.formatter)
stdout_level = stdout_handler.level
stdout_handler.setLevel(logging.ERROR)
app_log.addHandler(captured)

# %% [markdown]
# ## DynamoDB goes down
#
# `cloud.faults` is what `bankdemo chaos dynamodb down` sets over HTTP. Then a small seeded
# stream of card processor notifications, signed, as in the earlier steps:

# %%
from demo.parties.processor import generate

cloud.faults.set("dynamodb", "down")
stream = generate(10, seed=55, wallets=2, wallet_prefix="res-")
answers = [api.send(envelope).status_code for envelope in stream.deliveries]
print(len(answers), "deliveries, answered:", sorted(set(answers)))
assert set(answers) == {202}

# %% [markdown]
# Every one accepted: the ingress writes **only to the queue**, and never reads the ledger. What
# needs the ledger cannot answer: a balance read is a `503` with a `Retry-After`, not a `500`.

# %%
wallet = sorted(stream.expected)[0]
try:
    api.balance(wallet)
except httpx.HTTPStatusError as error:
    refused = error.response
print(refused.status_code, "Retry-After:", refused.headers.get("Retry-After"), refused.json())
assert refused.status_code == 503

# %% [markdown]
# The worker took the notifications, met the outage, and sent them **back to their own queue with
# a delay** (1 s, 2 s, 4 s... capped at 8 s in the local stage), reporting them done: an outage
# never counts a receive against a message, so nothing heads for the dead-letter queue. The queue
# holds the backlog, most of it *delayed*:


# %%
def wait_for(condition, timeout=30.0, what="the condition"):
    """The first truthy value of condition(), polled until the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not met within {timeout} s")
        time.sleep(0.2)
    return value


def notifications_queues():
    depths = cloud.queue_depths()
    return {name: depths[name] for name in ("bank-notifications", "bank-notifications-dlq")}


depths = wait_for(
    lambda: (d := notifications_queues())["bank-notifications"]["delayed"] > 0 and d,
    what="a requeued notification",
)
print(depths)
assert depths["bank-notifications-dlq"] == {"visible": 0, "in_flight": 0, "delayed": 0}

# %% [markdown]
# What the middleware did, and the worker's warning (a JSON line, as every log line of the app):

# %%
dynamodb = cloud.faults.state()["dynamodb"]
print("dynamodb:", dynamodb)
assert dynamodb["mode"] == "down" and dynamodb["failed_calls"] > 0
print(next(line for line in captured.lines if "outage" in line))

# %% [markdown]
# DynamoDB comes back. The delayed messages become visible one by one, the worker applies them,
# and the queues drain. The balances are those the stream must give, each notification counted
# once, duplicates included:

# %%
cloud.faults.set("dynamodb", "up")
started = time.monotonic()
final = cloud.wait_until_drained(timeout=90)
print(f"drained {time.monotonic() - started:.1f} s after DynamoDB came back")
for wallet_id, expected in sorted(stream.expected.items()):
    balance = api.balance(wallet_id)
    print(wallet_id, balance["current_balance"], "cents; expected", expected.current_balance)
    assert (balance["current_balance"], balance["authorizations"]) == (
        expected.current_balance,
        expected.authorizations,
    )
assert not any(final["bank-notifications-dlq"].values())

# %% [markdown]
# ## The same faults, thrown at both systems
#
# `demo.resilience.compare.compare` runs one scenario against both systems at once: the Flask monolith of
# step 0 with its broker, and the serverless bank on this local cloud. One seeded stream, the same
# pace (6 deliveries a second), the same fault schedule by the clock. The processor retries a
# refused delivery 3 times, half a second apart, then gives up, as card processors do. Then each
# system drains, the serverless side redrives its dead-letter queues, and each run is scored
# against an **oracle**: the same notifications applied once each to an in-memory ledger.
#
# The scenarios, as `demo/resilience/scenarios.py` defines them:

# %%
from IPython.display import Markdown, display

from demo.resilience.scenarios import SCENARIOS

rows = ["| scenario | what happens | what the monolith is expected to lose |", "|---|---|---|"]
rows += [f"| `{s.name}` | {s.summary} | {s.monolith_loss} |" for s in SCENARIOS.values()]
display(Markdown("\n".join(rows)))

# %% [markdown]
# Two of them, with 40 deliveries each: the database down for 40% of the stream, then the fintech
# client down for half of it. The local cloud and its client are reused; the monolith starts
# once for both runs.

# %%
from demo.resilience.compare import MonolithSystem, ServerlessSystem, compare

systems = (MonolithSystem(), ServerlessSystem(cloud=cloud, client=client))
started = time.monotonic()
outage = compare("database-outage", count=40, rate=6, systems=systems)
client_outage = compare("client-outage", count=40, rate=6, systems=systems)
print(f"both scenarios run in {time.monotonic() - started:.0f} s")

# %%
from demo.workshop.report import measured_line, scorecard_markdown

display(Markdown(f"**database-outage**. {measured_line(outage)}\n\n{scorecard_markdown(outage)}"))

# %% [markdown]
# The serverless bank accepted every delivery and applied every notification once; the monolith
# lost what the scenario says: its ingress needs the database, so it refused deliveries while the
# database was down, and those the processor gave up on are gone.

# %%
serverless, monolith = outage["scorecard"]["serverless"], outage["scorecard"]["monolith"]
print("monolith expected to lose:", outage["monolith_loss"])
print("monolith:  ", monolith["gave_up"], "deliveries given up,", monolith["lost"], "notifications lost")
print("serverless:", serverless["gave_up"], "deliveries given up,", serverless["lost"], "notifications lost")
for card in (serverless, client_outage["scorecard"]["serverless"]):
    assert card["lost"] == 0 and card["gave_up"] == 0 and card["webhooks_lost"] == 0
    assert card["applied_twice"] == 0 and card["balances_equal_full_oracle"] is True
assert monolith["gave_up"] > 0 and monolith["lost"] > 0
assert monolith["balances_equal_full_oracle"] is False

# %% [markdown]
# The client outage: the monolith applies every notification (its database is fine) but sends
# each webhook once, inline: those sent while the client was down are lost. The serverless
# dispatcher retries with a backoff, then the dead-letter queue holds what is left until the
# redrive.

# %%
display(Markdown(f"**client-outage**. {measured_line(client_outage)}\n\n{scorecard_markdown(client_outage)}"))
monolith = client_outage["scorecard"]["monolith"]
print("monolith expected to lose:", client_outage["monolith_loss"])
assert monolith["lost"] == 0 and monolith["balances_equal_full_oracle"] is True
assert monolith["webhooks_lost"] > 0

# %% [markdown]
# **Applied twice** is measured through the balances: the balances of the notifications a system
# applied must equal the oracle's for the same notifications, applied once each. `0` when they
# do; `?` would say that some wallet is off. **Latency** runs from a notification's first `202`
# to its `balance.update` webhook at the client.
#
# ## Backlog and latency during the database outage
#
# The shaded band is the outage, from the timeline's events. The serverless backlog (the
# notifications queue: visible, in flight and delayed) grows while DynamoDB is down, then drains;
# the monolith's broker stays nearly empty, because its ingress refused what it could not store.

# %%
# %matplotlib inline
from demo.workshop.report import fault_windows, resilience_figure

windows, _ = fault_windows(outage["timeline"]["serverless"])
print("fault windows (s):", [(round(a, 1), round(b, 1), label) for a, b, label in windows])
assert [label for _, _, label in windows] == ["database down"]
resilience_figure(outage)

# %% [markdown]
# The notifications accepted during the outage wait in the queue until DynamoDB is back: their
# latency is the outage's length, and more. The milliseconds themselves say nothing about AWS:
# the local cloud serves one AWS request at a time, on the machine that runs everything else.
# What the plot shows is the shape: the serverless backlog is held, then drained; the monolith
# has nothing to drain, because what it refused is gone.
#
# ## The storm soak
#
# `benchmarks/storm.py` runs the `storm` scenario, every fault at once with 30% duplicates, over
# 10,000 deliveries at 25 a second unless told otherwise (`make soak`), and writes its result
# to `benchmarks/results/storm.json`. We read that file, wherever the notebook runs from; the
# line above the table says which command wrote it, and when:

# %%
import json
from pathlib import Path

from demo import settings


def find_results(name="storm.json"):
    """benchmarks/results/<name> in the repository: up from here, or from the demo package."""
    for folder in [Path.cwd(), *Path.cwd().parents, settings.SERVERLESS_PROJECT.parents[1]]:
        path = folder / "benchmarks" / "results" / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"no benchmarks/results/{name} above {Path.cwd()}")


storm = json.loads(find_results().read_text())
assert storm["scenario"] == "storm"
display(Markdown(f"{measured_line(storm)}\n\n{scorecard_markdown(storm)}"))

# %%
resilience_figure(storm)

# %% [markdown]
# ## Your turn
#
# DynamoDB goes down again, and the card processor sends `mine`: a few deliveries for a wallet of
# your own, some of them duplicates (the exercise cell prints how many). **Predict** first: how
# many of the deliveries does the API answer `202`, and how many messages wait in
# `bank-notifications` (visible, in flight and delayed) while DynamoDB is down?
#
# Then run it: `cloud.faults.set("dynamodb", "down")`, send `mine.deliveries`, look at
# `notifications_queues()`, bring DynamoDB back (`"up"`) and `cloud.wait_until_drained()`. The
# check compares your predictions with what the code does, and the balances with the stream's.

# %% tags=["exercise"]
predicted_202s = ...  # how many deliveries of mine the API answers 202
predicted_backlog = ...  # how many messages wait in bank-notifications during the outage

mine = generate(8, seed=56, wallets=1, wallet_prefix="res-you-")
print(len(mine.deliveries), "deliveries:", mine.distinct, "distinct,", mine.duplicates, "duplicates")

# %% tags=["check"]
import yourturn

yourturn.check_step5_outage(cloud, api, mine, predicted_202s, predicted_backlog)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# # The ingress writes nothing but the queue: DynamoDB down changes none of its answers, and it
# # cannot tell a duplicate (that needs the ledger), so each delivery is one message.
# predicted_202s = len(mine.deliveries)
# predicted_backlog = len(mine.deliveries)
#
# cloud.faults.set("dynamodb", "down")
# statuses = [api.send(envelope).status_code for envelope in mine.deliveries]
# print("answered:", sorted(set(statuses)), "x", len(statuses))
# depths = wait_for(
#     lambda: (d := notifications_queues()["bank-notifications"])["delayed"] > 0 and d,
#     what="a requeued notification",
# )
# print("bank-notifications:", depths, "in all:", sum(depths.values()))
#
# cloud.faults.set("dynamodb", "up")
# cloud.wait_until_drained(timeout=90)
# for wallet_id, expected in mine.expected.items():
#     print(wallet_id, api.balance(wallet_id)["current_balance"], "cents; expected", expected.current_balance)
# ```
#
# </details>

# %% [markdown]
# Done: give the app's logger back its level, and stop the monolith, the HTTP client, the local
# cloud and the fintech client.

# %%
app_log.removeHandler(captured)
stdout_handler.setLevel(stdout_level)
for system in systems:
    system.stop()  # the serverless one leaves the cloud it was given running
setup.stop()
