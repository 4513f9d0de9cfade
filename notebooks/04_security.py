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
# # Step 4: security
#
# A bank is a target. This notebook attacks the local bank the way a hostile caller would, and
# looks at what it keeps:
#
# - a notification **tampered** with after signing, and one with a **stale** timestamp: the API
#   refuses both with `401`;
# - a **replay**: a notification id the bank has seen, with another body, correctly signed. The
#   API accepts it (it cannot tell without reading the ledger) and the worker refuses it;
# - a **card** authorization: what DynamoDB holds (no PAN, no holder name in clear) and the same
#   card decrypted through the app's own vault;
# - a **rotation** of the processor signing secret, without a refused notification;
# - the app's **logs**: JSON lines with a correlation id, and no card number.
#
# Everything runs on the local cloud (moto): SSM, KMS and DynamoDB included.

# %%
import json
import logging
import time
import uuid

from demo.parties.client import BankApi, encode
from demo.workshop import lab

setup = lab.serverless()  # the fintech client, then the local cloud; each on a free port
client, cloud, api = setup.client, setup.cloud, setup.api
dynamodb = cloud.client("dynamodb")
LEDGER = cloud.outputs["LedgerTableName"]
print("signing secret: SSM", cloud.signing_secret_parameter, "(a SecureString)")

# %% [markdown]
# The app logs JSON lines to stdout (CloudWatch Logs on AWS), from `WARNING` on. To read them
# here, a handler with the app's own formatter joins its logger for the length of the notebook,
# at level `INFO`. The stdout handler stays at `WARNING`: a warning of the app shows in the
# output of the cell that caused it, and the `INFO` lines do not. We look at what the new handler
# caught [at the end](#the-logs).


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
stdout_level, app_log_level = stdout_handler.level, app_log.level
stdout_handler.setLevel(logging.WARNING)
app_log.addHandler(captured)
app_log.setLevel(logging.INFO)
print(type(stdout_handler.formatter).__name__, "| level", logging.getLevelName(app_log.level))

# %% [markdown]
# A few helpers: the envelopes the card processor sends (amounts in cents), and a wait that
# polls with a deadline, never a fixed sleep.

# %%
CARD = {"pan": "5488210000003691", "holder": "ALEX OAK"}  # a test card number (Luhn-valid)


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
    merchant = {"name": "Corner Grocery", "mcc": "5411"}
    return envelope(
        "card.authorization",
        wallet_id=wallet_id,
        authorization_id=authorization_id,
        amount=cents,
        card=dict(CARD),
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


# %% [markdown]
# ## A tampered notification
#
# The processor signs `"<t>.<raw body>"` with HMAC-SHA256 and sends
# `Bank-Signature: t=<unix seconds>,v1=<hex>`. Someone on the way raises the amount, and keeps
# the signature: the bank computes the HMAC of the body it received, which no longer matches.

# %%
from demo.bank.signature import sign

body = encode(payin("sec-1", 1_000))
signature = sign(cloud.signing_secret, body, int(time.time()))
tampered = body.replace(b'"amount":1000', b'"amount":900000')
assert tampered != body

response = api.post_notification(tampered, signature=signature)
print(signature[:24] + "...")
print(response.status_code, response.json())
assert response.status_code == 401
assert response.json()["error"]["code"] == "invalid_signature"

# %% [markdown]
# ## A stale timestamp
#
# A correct signature, made ten minutes ago: the bank accepts a timestamp at most 300 s away
# from its clock, so an old captured request cannot be sent again later.

# %%
ten_minutes_ago = int(time.time()) - 600
response = api.post_notification(body, signature=sign(cloud.signing_secret, body, ten_minutes_ago))
print(response.status_code, response.json())
assert response.status_code == 401

# The same body, signed now, goes through: nothing was wrong with it.
assert api.post_notification(body).status_code == 202
cloud.wait_until_drained()
print("sec-1:", api.balance("sec-1")["current_balance"], "cents")
assert api.balance("sec-1")["current_balance"] == 1_000

# %% [markdown]
# ## A replay with another body
#
# Inside its 300 s, a notification can be delivered again: delivery is at least once, and a
# redelivery of the same notification (same `webhook_id`, same body) is absorbed by the ledger
# as a duplicate. But what if the same `webhook_id` comes back with **another body**, correctly
# signed (a leaked secret, a bug at the processor)? The ledger keeps the SHA-256 of the body
# it applied for each notification id. The worker compares: another digest is a **replay**, and
# it is refused: never applied, never published, never retried, counted as `replays_refused`.
#
# The API cannot tell: it writes nothing but the queue, and never reads the ledger (that is what
# keeps it answering while DynamoDB is down). So it answers `202`, and the worker refuses. Its
# warning, a JSON line on stdout, shows in the cell's output.

# %%
counters = cloud.app_module.container().counters
replays_before = counters.read().get("replays_refused", 0)

original = payin("sec-2", 2_500)
assert api.send(original).status_code == 202
assert api.send(original).status_code == 202  # a redelivery: the same body, absorbed
cloud.wait_until_drained()
print("sec-2 after the payin and its redelivery:", api.balance("sec-2")["current_balance"])

replay = {**original, "object_payload": {**original["object_payload"], "amount": 2_500_000}}
response = api.send(replay)  # the same webhook_id, another amount, signed with the real secret
print("the API answers:", response.status_code, response.json())
assert response.status_code == 202
cloud.wait_until_drained()

replays = wait_for(
    lambda: (c := counters.read()).get("replays_refused", 0) > replays_before and c,
    what="the replay is counted",
)
print("sec-2 after the replay:                  ", api.balance("sec-2")["current_balance"])
print("replays_refused:", replays_before, "->", replays["replays_refused"])
assert api.balance("sec-2")["current_balance"] == 2_500
assert replays["replays_refused"] == replays_before + 1

# %% [markdown]
# The fintech client was told about the payin once, and never about the replay: every
# `balance.update` it received for `sec-2` says 25.00 EUR.

# %%
told = [
    h["payload"]["current_balance"]
    for h in client.log()["webhooks"]
    if h["webhook"] == "balance.update" and h["payload"]["wallet_id"] == "sec-2"
]
print("balances the client was told for sec-2:", told)
assert told and all(balance == 2_500 for balance in told)

# %% [markdown]
# ## Card data
#
# A card authorization carries the card's PAN and its holder's name. The worker hands them to
# the card vault, which asks KMS to encrypt them (encryption context `{"wallet_id": ...,
# "authorization_id": ..., "purpose": "card"}`) and stores KMS's ciphertext: the function never
# holds a key (ADR 0011). In clear, only the masked PAN.

# %%
assert api.send(card_authorization("sec-3", "auth-sec-3", 4_200)).status_code == 202
cloud.wait_until_drained()

card_key = {"pk": {"S": "WALLET#sec-3"}, "sk": {"S": "CARD#auth-sec-3"}}
item = dynamodb.get_item(TableName=LEDGER, Key=card_key)["Item"]


def shown(value):
    """A DynamoDB attribute for reading: binary values shortened."""
    if "B" in value:
        return f"<{len(value['B'])} bytes: {value['B'][:8].hex()}...>"
    if "M" in value:
        return {k: shown(v) for k, v in value["M"].items()}
    return next(iter(value.values()))


print(json.dumps({k: shown(v) for k, v in item.items()}, indent=2))
raw = repr(item)
print("PAN in the item:        ", CARD["pan"] in raw)
print("holder in the item:     ", CARD["holder"] in raw)
assert CARD["pan"] not in raw and CARD["holder"] not in raw
assert item["masked_pan"] == {"S": "548821******3691"}
assert set(item["sealed"]["M"]) == {"v", "data"}

# %% [markdown]
# `data` is the card as KMS encrypted it: only KMS can decrypt it, and only with the same
# encryption context (the wallet, the authorization, `purpose: card`). Whoever may call
# `kms:Decrypt` on the bank's key (the notebook's own credentials here; no function of the bank)
# reads the card back:

# %%
vault = cloud.app_module.container().cards
card = vault.reveal("sec-3", "auth-sec-3")
print(card)
assert (card.pan, card.holder) == (CARD["pan"], CARD["holder"])

# %% [markdown]
# The encryption context binds the sealed card to its wallet and its authorization. Copy the item
# under another wallet, as someone with write access to the table might: KMS refuses to decrypt
# it, because the context (`wallet_id`) differs, and the card stays sealed.

# %%
stolen = {**item, "pk": {"S": "WALLET#sec-thief"}}
dynamodb.put_item(TableName=LEDGER, Item=stolen)
try:
    vault.reveal("sec-thief", "auth-sec-3")
except Exception as error:  # KMS's InvalidCiphertextException
    refused = type(error).__name__
else:
    refused = None
print("opened under another wallet:", refused or "yes!")
assert refused is not None
_ = dynamodb.delete_item(TableName=LEDGER, Key={"pk": stolen["pk"], "sk": stolen["sk"]})

# %% [markdown]
# ## Rotating the signing secret
#
# The secret lives in SSM Parameter Store as a SecureString (encrypted with the bank's KMS key).
# The app caches it for a minute. A rotation keeps the current secret as `<name>-previous`,
# accepted until the end of a **window**, and makes a new one current; the processor switches
# whenever it likes within the window. A Lambda whose cache still holds the old pair re-reads
# SSM when a signature does not match (at most once every 5 s).
#
# `cloud.settings_changed()` gives the app a fresh container, as a new Lambda execution
# environment would have: its cache is empty when the block starts. What SSM holds, without the
# secrets themselves:

# %%
ssm = cloud.client("ssm")
NAME = cloud.signing_secret_parameter


def rotation_state():
    got = ssm.get_parameters(Names=[NAME, NAME + "-previous"], WithDecryption=True)["Parameters"]
    state = {p["Name"]: f"version {p['Version']}" for p in got}
    for p in got:
        if p["Name"].endswith("-previous"):
            left = json.loads(p["Value"])["accepted_until"] - time.time()
            state[p["Name"]] += f", accepted for {max(left, 0):.0f} s more"
    return state


old = cloud.signing_secret
with cloud.settings_changed():
    with BankApi(cloud.api_url, old) as before:
        assert before.send(payin("sec-4", 100)).status_code == 202  # the cache now holds `old`
    new = cloud.rotate_signing_secret(window_seconds=600)
    print(json.dumps(rotation_state(), indent=2))
    with BankApi(cloud.api_url, new) as processor, BankApi(cloud.api_url, old) as late:
        switched = processor.send(payin("sec-4", 200))  # a miss in the cache: re-read, accepted
        lagging = late.send(payin("sec-4", 300))  # the previous secret, inside its window
print("new secret:", switched.status_code, "| old secret, inside the window:", lagging.status_code)
assert switched.status_code == 202 and lagging.status_code == 202

# %% [markdown]
# A second rotation, with a window of 0 s, as after a leak: the previous secret (`new`) is
# refused at once, as it would be once any window ends. (A warm Lambda that read SSM just before
# the rotation would still accept it until its cache expires, 60 s at most: the fresh container
# of this block reads SSM after the rotation.)

# %%
with cloud.settings_changed():
    newer = cloud.rotate_signing_secret(window_seconds=0)
    print(json.dumps(rotation_state(), indent=2))
    with BankApi(cloud.api_url, newer) as processor, BankApi(cloud.api_url, new) as late:
        accepted = processor.send(payin("sec-4", 400))
        refused = late.send(payin("sec-4", 500))
print("newest secret:", accepted.status_code, "| previous, window over:", refused.status_code, refused.json())
assert accepted.status_code == 202
assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_signature"

cloud.wait_until_drained()
print("sec-4:", api.balance("sec-4")["current_balance"], "cents (100 + 200 + 300 + 400)")
assert api.balance("sec-4")["current_balance"] == 1_000

# %% [markdown]
# From a terminal, with `bankdemo up` running: `bankdemo secret rotate --window 3600` and
# `bankdemo secret status`. Neither prints a secret.
#
# ## The logs
#
# Every line the app logged during this notebook, caught by our handler: one JSON object per
# line, with the function's name and a **correlation id**. The API sets it to the notification
# id it accepted; the worker sets it to the notification id of the record it applies. So the
# replay can be followed from the API to the worker by its id:

# %%
lines = [json.loads(line) for line in captured.lines]
replay_id = original["webhook_id"]
for line in lines:
    if line["correlation_id"] == replay_id:
        print(json.dumps(line))

followed = [line for line in lines if line["correlation_id"] == replay_id]
# Two functions write these lines, each in its own order: the API's third line may come after
# the worker's warning (its log line follows its SendMessage). Count them, not their order.
assert sorted(line["level"] for line in followed) == ["INFO", "INFO", "INFO", "WARNING"]
assert "replay refused" in next(line for line in followed if line["level"] == "WARNING")["message"]

# %% [markdown]
# The payin, its redelivery and the replay were each accepted by the API (`INFO`); the worker
# refused the replay (`WARNING`), in whichever order the two functions wrote them. In CloudWatch
# Logs Insights the same question reads
# `fields @timestamp, level, message | filter correlation_id = "<id>" | sort @timestamp`.
#
# No line holds the card's PAN or holder name, nor a secret: nothing logs a payload, and any
# run of 12 to 19 digits would be masked anyway.

# %%
print(len(lines), "lines logged")
print(json.dumps(next(line for line in lines if "sec-3" in line["message"])))
for text in captured.lines:
    for value in (CARD["pan"], CARD["holder"], old, new, newer):
        assert value not in text

# %% [markdown]
# ## Your turn
#
# **1. Who may open a card?** Each Lambda function has its own IAM role, and its policy is the
# file `demo/serverless/.chalice/policy-<function>.json`. The vault seals a card by asking KMS to
# encrypt it (`kms:Encrypt`, encryption context `{"wallet_id": ..., "authorization_id": ...,
# "purpose": "card"}`), and opens it by asking KMS to decrypt it (`kms:Decrypt`). Read the policies:
# which functions may seal a card, and which may open one? Careful: a KMS permission with a
# `kms:ViaService` condition can only be used through that service (SQS, SSM, DynamoDB), for the
# service's own encryption of its queues, parameters or tables.

# %% tags=["exercise"]
may_seal = ...  # a set of function names, e.g. {"api_handler"}, maybe empty
may_decrypt = ...  # a set of function names, maybe empty

# %% tags=["check"]
import yourturn

yourturn.check_step4_card_permissions(may_seal, may_decrypt)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# from demo.settings import SERVERLESS_PROJECT
#
# may_seal, may_decrypt = set(), set()
# for path in sorted((SERVERLESS_PROJECT / ".chalice").glob("policy-*.json")):
#     function = path.stem.removeprefix("policy-")
#     for statement in json.loads(path.read_text())["Statement"]:
#         actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
#         if not any(action.startswith("kms:") for action in actions):
#             continue
#         condition = statement.get("Condition", {})
#         through = condition.get("StringEquals", {}).get("kms:ViaService", "KMS itself")
#         print(f"{function:20} {statement['Sid']:42} {actions} through {through}")
#         if "kms:ViaService" in json.dumps(condition):
#             continue  # only through SQS, SSM or DynamoDB, for their own encryption
#         purpose = condition.get("StringEquals", {}).get("kms:EncryptionContext:purpose")
#         if "kms:Encrypt" in actions and purpose == "card":
#             may_seal.add(function)
#         if "kms:Decrypt" in actions:
#             may_decrypt.add(function)
# print("may seal:", may_seal, "| may decrypt:", may_decrypt)
# ```
#
# </details>

# %% [markdown]
# **2. Your card, at rest.** Send a card authorization with a card number of your own
# (`demo.parties.processor.luhn_pan(random.Random(seed))` makes a valid test number) to a wallet of
# your own. The secret was rotated above, and `api` still signs with the first one: send it with
# a `BankApi` that signs with the current secret, `cloud.signing_secret`. Then scan the
# **whole** ledger table and count the items in which your card number appears in clear, and
# get your card back through the vault (`vault.reveal`).

# %% tags=["exercise"]
my_pan = ...  # the card number you sent
items_with_my_pan = ...  # how many items of the ledger table hold it in clear
my_card = ...  # your card, as vault.reveal returns it

# %% tags=["check"]
import yourturn

yourturn.check_step4_card_at_rest(cloud, my_pan, items_with_my_pan, my_card)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# import random
#
# from demo.parties.processor import luhn_pan
#
# my_pan = luhn_pan(random.Random(2024))
# mine = card_authorization("sec-you", "auth-you", 1_999)
# mine["object_payload"]["card"] = {"pan": my_pan, "holder": "SAM YOU"}
# with BankApi(cloud.api_url, cloud.signing_secret) as processor:
#     assert processor.send(mine).status_code == 202
# cloud.wait_until_drained()
#
# pages = dynamodb.get_paginator("scan").paginate(TableName=LEDGER)
# items = [item for page in pages for item in page["Items"]]
# items_with_my_pan = sum(my_pan in repr(item) for item in items)
# my_card = vault.reveal("sec-you", "auth-you")
# print(len(items), "items scanned,", items_with_my_pan, "with", my_pan, "in clear")
# print("the vault opens it:", my_card)
# ```
#
# </details>

# %% [markdown]
# Done: give the app's logger back its levels and handlers, and stop the HTTP client, the local
# cloud and the fintech client.

# %%
app_log.removeHandler(captured)
app_log.setLevel(app_log_level)
stdout_handler.setLevel(stdout_level)
setup.stop()
