"""The checks of the notebooks' "Your turn" exercises.

Each notebook ends with one or two exercises: a cell where you write your answer (it starts with
``...`` placeholders), then a cell that calls one of the functions below. A check

- prints a "Your turn" line while an answer is still ``...`` (nothing to check yet);
- prints a line starting with ✅ when the answer is right;
- raises an ``AssertionError`` with a hint (not the solution) when it is not.

The checks work the expected result out with the demo's own code (the signature scheme, the
event ids, the IAM policies, the cost model...) or read it off the running systems, rather than
comparing with a number typed in here.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

YOUR_TURN = "Your turn: replace the ... above and run this cell again."


def _unsolved(*answers: Any) -> bool:
    """True (and says so) while any answer is still the ``...`` placeholder."""
    if any(answer is Ellipsis for answer in answers):
        print(YOUR_TURN)
        return True
    return False


def _passed(message: str) -> None:
    print(f"✅ {message}")


def _hint(condition: Any, hint: str) -> None:
    if not condition:
        raise AssertionError(f"Not yet: {hint}")


def _poll(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """The first truthy value of ``condition()``, or its last value once ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(interval)
    return value


def _payload(envelope: Any, name: str) -> dict[str, Any]:
    _hint(
        isinstance(envelope, dict) and isinstance(envelope.get("object_payload"), dict),
        f"`{name}` should be a notification envelope: a dict with `webhook`, `webhook_id`... and "
        "`object_payload`, like the ones this notebook sends.",
    )
    payload: dict[str, Any] = envelope["object_payload"]
    return payload


# Step 0: the monolith ----------------------------------------------------------------------------


def check_step0_broker_restart(monolith: Any, mine: Any, applied_in_the_end: Any) -> None:
    """``mine``: the payins you sent while the worker was stopped; ``applied_in_the_end``: your
    prediction of how many of them the bank applies, once the broker restarted and the worker runs."""
    if _unsolved(mine, applied_in_the_end):
        return
    _hint(
        isinstance(mine, list) and mine and all(isinstance(e, dict) and "webhook_id" in e for e in mine),
        "`mine` should be the list of envelopes you sent, e.g. `mine = payins(1500, per_wallet=2)`.",
    )
    _hint(
        isinstance(applied_in_the_end, int),
        "`applied_in_the_end` is a number of notifications (an int).",
    )
    status = monolith.status()
    _hint(
        status["worker"] == "running",
        "the worker is still stopped: start it again with `monolith.inject('worker-start')`, then "
        "run this cell again.",
    )
    # Whatever is still queued gets applied: wait for the worker to finish it.
    _poll(lambda: (s := monolith.status())["queue_depth"] == 0 and not s["worker_busy"], timeout=15)
    ids = {e["webhook_id"] for e in mine}
    applied = sum(monolith.ledger.seen_digest(i) is not None for i in ids)
    _hint(
        applied < len(ids),
        f"all {len(ids)} of your notifications were applied: nothing was lost. Stop the worker "
        "before you send them, and restart the broker while they wait in its queue.",
    )
    _hint(
        applied_in_the_end == applied,
        f"your prediction ({applied_in_the_end}) is not what the ledger says. Where did your "
        "notifications wait when the broker restarted, and does that queue survive a restart?",
    )
    _passed(
        f"{len(ids)} notifications accepted with 202, {applied} applied, {len(ids) - applied} gone "
        "with the broker's queue: the processor will never send them again."
    )


# Step 1: the same code on Lambda ---------------------------------------------------------------


def check_step1_signature(secret: str, body: Any, good: Any, bad: Any, statuses: Any) -> None:
    """``good``/``bad``: Bank-Signature headers for ``body``, made with the bank's secret and with
    another; ``statuses``: what the API answered to each, in that order."""
    if _unsolved(body, good, bad, statuses):
        return
    from demo.bank.errors import SignatureMismatch, SignatureRejected
    from demo.bank.signature import verify

    _hint(isinstance(body, bytes), "`body` should be the bytes you sign and send: `encode(envelope)`.")
    _hint(
        isinstance(good, str) and isinstance(bad, str),
        "`good` and `bad` should be header values (str), as `sign(secret, body, timestamp)` returns.",
    )
    try:
        verify(secret, body, good, now=time.time())
    except SignatureRejected as error:
        raise AssertionError(
            f"Not yet: the bank refuses `good` ({error}). Sign `body` itself with the bank's secret "
            "(`cloud.signing_secret`) and the current unix time."
        ) from None
    try:
        verify(secret, body, bad, now=time.time())
    except SignatureMismatch:
        pass
    except SignatureRejected as error:
        raise AssertionError(
            f"Not yet: `bad` is refused, but for another reason ({error}). Make it a well-formed "
            "signature of `body`, signed now with another secret."
        ) from None
    else:
        raise AssertionError("Not yet: `bad` is a valid signature: sign it with a secret of your own.")
    _hint(
        isinstance(statuses, (list, tuple)) and len(statuses) == 2,
        "`statuses` should hold two HTTP status codes: the API's answer to `good`, then to `bad`.",
    )
    _hint(
        list(statuses) == [202, 401],
        f"the API answers {list(statuses)}? Post the same `body` twice with "
        "`api.post_notification(body, signature=...)`, once with each header, and keep `.status_code`.",
    )
    _passed("the bank accepted the signature made with its secret (202) and refused the other (401).")


def check_step1_duplicate(api: Any, my_payin: Any, my_balance: Any) -> None:
    """``my_payin``: a payin you sent several times; ``my_balance``: its wallet's balance after."""
    if _unsolved(my_payin, my_balance):
        return
    payload = _payload(my_payin, "my_payin")
    _hint(my_payin.get("webhook") == "payin.received", "`my_payin` should be a `payin.received`.")
    wallet = payload.get("wallet_id")
    bank = api.balance(wallet)
    _hint(
        bank is not None,
        f"the bank does not know wallet {wallet!r} yet: send `my_payin`, then "
        "`cloud.wait_until_drained()` before you read the balance.",
    )
    _hint(
        isinstance(my_balance, dict) and my_balance.get("current_balance") == bank["current_balance"],
        "`my_balance` should be the balance as `api.balance(wallet_id)` returns it, read once the "
        "worker has drained the queue.",
    )
    _hint(
        bank["current_balance"] == payload["amount"],
        f"wallet {wallet!r} holds {bank['current_balance']} cents, not the {payload['amount']} of "
        "one payin: use a wallet that nobody else paid into, and send the very same envelope "
        "(same `webhook_id`) each time.",
    )
    _passed(
        f"{wallet} holds {bank['current_balance']} cents: your payin was applied once, however "
        "many times it was delivered."
    )


# Step 2: events and webhooks -------------------------------------------------------------------


def check_step2_event_id(client: Any, envelope: dict[str, Any], my_event_id: Any, my_webhook: Any) -> None:
    """``my_event_id``: the id of the BalanceUpdated event ``envelope`` caused; ``my_webhook``: the
    webhook with that id, as the client's log holds it."""
    if _unsolved(my_event_id, my_webhook):
        return
    from demo.bank.events import BALANCE_UPDATED, event_id

    expected = event_id(envelope["webhook_id"], BALANCE_UPDATED)
    _hint(
        my_event_id == expected,
        "that is not the id the worker gave the event. `event_id(notification_id, event_type)`: the "
        "notification id is the envelope's `webhook_id`, the type is the event's, not the webhook's.",
    )
    _hint(
        isinstance(my_webhook, dict) and my_webhook.get("webhook_id") == my_event_id,
        "`my_webhook` should be the entry of `client.log()['webhooks']` whose `webhook_id` is your event id.",
    )
    logged = {h["webhook_id"]: h for h in client.log()["webhooks"]}
    _hint(my_event_id in logged, "the client's log has no webhook with that id.")
    told = logged[my_event_id]
    _passed(
        f"computed before looking: {my_event_id} is the {told['webhook']} webhook that told the "
        f"client {told['payload']['wallet_id']}'s balance, {told['payload']['current_balance']} cents."
    )


# Step 3: orchestration ---------------------------------------------------------------------------


def _threshold(cloud: Any) -> int:
    threshold: int = cloud.app_module.container().settings.review_threshold_cents
    return threshold


def check_step3_threshold(cloud: Any, largest_unreviewed: Any) -> None:
    """``largest_unreviewed``: the largest payin, in cents, that opens no review."""
    if _unsolved(largest_unreviewed):
        return
    from demo.bank.notifications import parse
    from demo.bank.reviews import needs_review
    from demo.parties.client import encode

    _hint(isinstance(largest_unreviewed, int), "the answer is an amount in cents (an int).")

    def reviewed(cents: int) -> bool:
        envelope = {
            "webhook": "payin.received",
            "webhook_id": "00000000-0000-4000-8000-000000000000",
            "webhook_created_at": 1764412800,
            "object": "payin",
            "object_id": "pay-check",
            "object_payload": {"wallet_id": "w-check", "amount": cents, "currency": "EUR"},
        }
        return needs_review(parse(encode(envelope)), _threshold(cloud))

    _hint(
        not reviewed(largest_unreviewed),
        f"a payin of {largest_unreviewed} cents opens a review. Amounts are in cents, and the "
        "rule may include its limit.",
    )
    _hint(
        reviewed(largest_unreviewed + 1),
        f"a payin of {largest_unreviewed + 1} cents opens no review either: go higher.",
    )
    _passed(
        f"{largest_unreviewed:,} cents is the most a payin can be without a review "
        f"(the threshold, {_threshold(cloud):,} cents, is itself reviewed)."
    )


def check_step3_review(api: Any, cloud: Any, my_review: Any) -> None:
    """``my_review``: a review of your own large payin, approved, as ``api.review`` returns it."""
    if _unsolved(my_review):
        return
    _hint(
        isinstance(my_review, dict) and "review_id" in my_review,
        "`my_review` should be a review as `api.review(review_id)` returns it.",
    )
    _hint(
        my_review.get("wallet_id") not in {"orch-1", "orch-2", "orch-3"},
        "that review is one of the notebook's: send a large payin to a wallet of your own.",
    )
    review = _poll(
        lambda: (r := api.review(my_review["review_id"])) and r["status"] != "pending" and r,
        timeout=5,  # a decision just sent takes a moment to be recorded by the workflow
    ) or api.review(my_review["review_id"])
    _hint(review is not None, "the bank has no review with that id.")
    _hint(
        review["amount"] >= _threshold(cloud),
        "that payment is below the review threshold: how was it reviewed?",
    )
    _hint(
        review["status"] == "approved",
        f"the review is {review['status']}: approve it with `api.decide(review_id, 'approve', reason)` "
        "once it awaits a decision (`decidable(wallet_id)`).",
    )
    arn = cloud.outputs["ReviewStateMachineArn"].replace(":stateMachine:", ":execution:")
    sfn = cloud.client("stepfunctions")
    execution = f"{arn}:{review['review_id']}"
    status = _poll(lambda: (s := sfn.describe_execution(executionArn=execution)["status"]) != "RUNNING" and s)
    _hint(status == "SUCCEEDED", f"the review's execution ended {status}.")
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    _passed(
        f"{review['wallet_id']}: {review['amount'] / 100:,.2f} {review['currency']} approved; the "
        f"workflow went {' -> '.join(entered)}."
    )


# Step 4: security --------------------------------------------------------------------------------


def _policies() -> dict[str, dict[str, Any]]:
    """Each Lambda function's IAM policy, as ``.chalice/policy-<function>.json`` holds it."""
    from demo.settings import SERVERLESS_PROJECT

    folder = SERVERLESS_PROJECT / ".chalice"
    return {
        path.stem.removeprefix("policy-"): json.loads(path.read_text())
        for path in sorted(folder.glob("policy-*.json"))
    }


def _allows(statement: dict[str, Any], action: str) -> bool:
    actions = statement["Action"]
    return statement["Effect"] == "Allow" and action in ([actions] if isinstance(actions, str) else actions)


def _direct(statement: dict[str, Any]) -> bool:
    """A KMS permission usable straight from the function's code, not only through another service."""
    return not any("kms:ViaService" in block for block in statement.get("Condition", {}).values())


def card_key_permissions() -> tuple[set[str], set[str]]:
    """(functions that may seal a card, functions that may decrypt one), read off the policies."""
    seal, decrypt = set(), set()
    for function, policy in _policies().items():
        for statement in policy["Statement"]:
            context = statement.get("Condition", {}).get("StringEquals", {})
            card_context = context.get("kms:EncryptionContext:purpose", "card") == "card"
            if _allows(statement, "kms:Encrypt") and _direct(statement) and card_context:
                seal.add(function)
            if _allows(statement, "kms:Decrypt") and _direct(statement) and card_context:
                decrypt.add(function)
    return seal, decrypt


def check_step4_card_permissions(may_seal: Any, may_decrypt: Any) -> None:
    """Sets of function names: those whose policy lets them seal a card, and decrypt one."""
    if _unsolved(may_seal, may_decrypt):
        return
    functions = set(_policies())
    for name, answer in (("may_seal", may_seal), ("may_decrypt", may_decrypt)):
        _hint(
            isinstance(answer, (set, frozenset)) and answer <= functions,
            f"`{name}` should be a set of function names among {sorted(functions)} (maybe empty).",
        )
    seal, decrypt = card_key_permissions()
    _hint(
        may_seal == seal,
        "not the functions that may seal a card. Look for `kms:Encrypt` with the "
        "encryption context `purpose: card`; the ones with `kms:ViaService` only let SQS encrypt "
        "its own messages.",
    )
    _hint(
        may_decrypt == decrypt,
        "not the functions that may decrypt a card. Every `kms:Decrypt` has conditions: with "
        "`kms:ViaService`, only that service (SQS, SSM, DynamoDB) can use it, for its own data.",
    )
    _passed(
        f"sealing: {', '.join(sorted(seal)) or 'no function'}; decrypting: "
        f"{', '.join(sorted(decrypt)) or 'no function'}. Not even the worker that seals a card "
        "can read it back."
    )


def check_step4_card_at_rest(cloud: Any, my_pan: Any, items_with_my_pan: Any, my_card: Any) -> None:
    """``my_pan``: the card number you sent; ``items_with_my_pan``: how many ledger items hold it in
    clear (your scan); ``my_card``: the card as the vault reveals it."""
    if _unsolved(my_pan, items_with_my_pan, my_card):
        return
    from demo.bank.cards import mask_pan

    _hint(
        isinstance(my_pan, str) and my_pan.isdigit() and 12 <= len(my_pan) <= 19,
        "`my_pan` should be the card number you sent, 12 to 19 digits, e.g. `luhn_pan(random.Random(7))`.",
    )
    _hint(isinstance(items_with_my_pan, int), "`items_with_my_pan` is a number of items (an int).")
    dynamodb = cloud.client("dynamodb")
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=cloud.outputs["LedgerTableName"]):
        items += page["Items"]
    masked = mask_pan(my_pan)
    cards = [item for item in items if item.get("masked_pan") == {"S": masked}]
    _hint(
        cards,
        f"no card item with the masked PAN {masked}: send a card authorization with `my_pan`, signed "
        "with the current secret (`cloud.signing_secret`), and `cloud.wait_until_drained()`.",
    )
    in_clear = sum(my_pan in repr(item) for item in items)
    _hint(
        items_with_my_pan == in_clear,
        f"your count ({items_with_my_pan}) is not what a scan of the whole table finds. Scan every "
        "item (`dynamodb.scan`, all pages) and look for the digits anywhere in it.",
    )
    _hint(
        getattr(my_card, "pan", None) == my_pan,
        "`my_card` should be the card as `vault.reveal(wallet_id, authorization_id)` returns it.",
    )
    _passed(
        f"{len(items)} items scanned, {in_clear} with your PAN in clear; DynamoDB keeps {masked} and "
        "the sealed card, which only a KMS decrypt with the wallet's context opens."
    )


# Step 5: resilience ------------------------------------------------------------------------------


def check_step5_outage(
    cloud: Any, api: Any, stream: Any, predicted_202s: Any, predicted_backlog: Any
) -> None:
    """Your predictions for ``stream`` sent while DynamoDB is down: how many deliveries answer 202,
    and how many messages wait in ``bank-notifications``; then the run itself, recovered."""
    if _unsolved(predicted_202s, predicted_backlog):
        return
    deliveries = len(stream.deliveries)
    _hint(
        predicted_202s == deliveries,
        "how many 202s? What does the API write when it accepts a notification, and does it read "
        "the ledger before it answers?",
    )
    duplicates = " Duplicates too: the ingress never reads the ledger, so it cannot tell them." * (
        predicted_backlog == stream.distinct
    )
    _hint(
        predicted_backlog == deliveries,
        "how many messages wait? Each accepted delivery is one SQS message, and an outage puts a "
        "message back with a delay: it neither drops it nor copies it." + duplicates,
    )
    _hint(
        cloud.faults.state()["dynamodb"]["mode"] == "up",
        "DynamoDB is still down: bring it back (`cloud.faults.set('dynamodb', 'up')`) and wait "
        "until drained.",
    )
    cloud.wait_until_drained(timeout=60)
    for wallet_id, expected in sorted(stream.expected.items()):
        balance = api.balance(wallet_id)
        _hint(
            balance is not None,
            f"the bank does not know {wallet_id}: send the stream's deliveries while DynamoDB is "
            "down, then bring it back.",
        )
        _hint(
            (balance["current_balance"], balance["authorizations"])
            == (expected.current_balance, expected.authorizations),
            f"{wallet_id}'s balance is not the stream's: send every delivery of the stream, once.",
        )
    _passed(
        f"{deliveries} deliveries, {stream.distinct} distinct: {deliveries} answered 202 and "
        f"{deliveries} messages waited out the outage; the balances are right once DynamoDB is back."
    )


# Step 6: shipping to AWS -------------------------------------------------------------------------


def _notifications(answer: Any, name: str) -> int:
    if hasattr(answer, "notifications"):  # a BreakEven, as costs.break_even returns it
        answer = answer.notifications
    _hint(
        isinstance(answer, (int, float)) and answer > 0,
        f"`{name}` should be a number of notifications a month (or the BreakEven `break_even` returns).",
    )
    return int(answer)


def _close(answer: int, expected: int) -> bool:
    return abs(answer - expected) <= 0.001 * expected


def _prices_untouched() -> None:
    """The cost model's prices are those of prices.yaml: a changed price was put back."""
    import yaml

    from demo.aws import costs

    _hint(
        costs.prices() == yaml.safe_load(costs.PRICES.read_text()),
        "the cost model's prices differ from demo/aws/prices.yaml: put back the price you changed "
        "(in a `try`/`finally`), then run your cell and this one again.",
    )


def break_even_with_write_price(factor: float) -> int:
    """The first break-even against RabbitMQ on EC2 with DynamoDB's write price times ``factor``."""
    from demo.aws import costs

    dynamodb = costs.prices()["dynamodb"]
    saved = dynamodb["per_write_request_unit"]
    dynamodb["per_write_request_unit"] = saved * factor
    try:
        found = costs.break_even("self-hosted")
        assert found is not None  # they cross at half the write price, the check's factor
        return found.notifications
    finally:
        dynamodb["per_write_request_unit"] = saved


def check_step6_write_price(break_even_half_price: Any) -> None:
    """The first break-even (RabbitMQ on EC2) if DynamoDB's write request price were halved."""
    if _unsolved(break_even_half_price):
        return
    from demo.aws import costs

    answer = _notifications(break_even_half_price, "break_even_half_price")
    _prices_untouched()
    crossing = costs.break_even("self-hosted")
    assert crossing is not None  # they cross at prices.yaml's prices
    today = crossing.notifications
    _hint(
        not _close(answer, today),
        "that is the break-even at today's prices: change `costs.prices()['dynamodb']"
        "['per_write_request_unit']` before you call `costs.break_even`.",
    )
    expected = break_even_with_write_price(0.5)
    _hint(
        _close(answer, expected),
        "not the break-even with half the write price: halve `per_write_request_unit` only, and "
        "ask `costs.break_even('self-hosted')` for the first crossing.",
    )
    _passed(
        f"{expected:,} notifications a month, against {today:,} today: "
        f"{expected / today - 1:+.0%} for half the price of DynamoDB's writes."
    )


def check_step6_arm64(break_even_arm64: Any) -> None:
    """The first break-even (RabbitMQ on EC2) with the functions on arm64 (Graviton)."""
    if _unsolved(break_even_arm64):
        return
    from demo.aws import costs

    answer = _notifications(break_even_arm64, "break_even_arm64")
    _prices_untouched()
    crossing = costs.break_even("self-hosted")
    on_arm64 = dataclasses.replace(costs.ASSUMPTIONS, architecture="arm64")
    crossing_arm64 = costs.break_even("self-hosted", assumptions=on_arm64)
    assert crossing is not None  # they cross at prices.yaml's prices
    assert crossing_arm64 is not None  # on arm64 too
    today, expected = crossing.notifications, crossing_arm64.notifications
    _hint(
        answer != today or today == expected,
        "that is the break-even on x86: pass `assumptions=` with `architecture='arm64'` "
        "(`dataclasses.replace(costs.ASSUMPTIONS, ...)`).",
    )
    _hint(_close(answer, expected), "not the break-even on arm64: change `architecture` only.")
    lambda_share = (
        costs.serverless_monthly(10**6).by_service()["Lambda"] / costs.serverless_monthly(10**6).total
    )
    _passed(
        f"{expected:,} notifications a month on arm64, against {today:,} on x86 "
        f"({expected / today - 1:+.1%}): Lambda is {lambda_share:.0%} of the bill, so its price moves little."
    )
