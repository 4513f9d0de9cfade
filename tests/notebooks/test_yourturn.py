"""The exercises' checks (notebooks/yourturn.py), without a kernel: an answer still ``...`` only
prints the "Your turn" line; a wrong answer raises AssertionError with a hint, not the solution;
a right one prints ✅. The checks that need a running system get small stand-ins here; the
notebook tests run every check against the real systems, with the solutions applied."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from demo.aws import costs
from demo.bank.events import BALANCE_UPDATED, event_id
from demo.bank.signature import sign
from demo.parties.client import encode
from demo.parties.processor import generate

PATH = Path(__file__).resolve().parents[2] / "notebooks" / "yourturn.py"


def load_yourturn():
    spec = importlib.util.spec_from_file_location("yourturn", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("yourturn", module)
    spec.loader.exec_module(module)
    return module


yourturn = load_yourturn()
SECRET = "the-bank-secret"
BODY = encode({"webhook": "payin.received", "webhook_id": "n-1", "object_payload": {"amount": 1}})

ENVELOPE = {"webhook": "payin.received", "webhook_id": "3f2a6c1e-8b4d-4e2a-9c1f-0a7b5d3e2f10"}
STREAM = generate(8, seed=56, wallets=1, wallet_prefix="res-you-")
CLOUD_SETTINGS = SimpleNamespace(
    app_module=SimpleNamespace(
        container=lambda: SimpleNamespace(settings=SimpleNamespace(review_threshold_cents=1_000_000))
    )
)


class FakeMonolith:
    """The worker running, the queue empty; ``applied``: the notification ids in the ledger."""

    def __init__(self, applied: set[str], worker: str = "running") -> None:
        self.applied, self.worker = applied, worker
        self.ledger = SimpleNamespace(seen_digest=lambda i: "digest" if i in self.applied else None)

    def status(self) -> dict:
        return {"worker": self.worker, "queue_depth": 0, "worker_busy": False}


def payins(n: int) -> list[dict]:
    return [{"webhook": "payin.received", "webhook_id": f"n-{i}", "object_payload": {}} for i in range(n)]


# Every check, with its answers still ..., prints the Your turn line and returns.
UNSOLVED = [
    lambda: yourturn.check_step0_broker_restart(None, ..., ...),
    lambda: yourturn.check_step0_broker_restart(None, payins(2), ...),
    lambda: yourturn.check_step1_signature(SECRET, ..., ..., ..., ...),
    lambda: yourturn.check_step1_duplicate(None, ..., ...),
    lambda: yourturn.check_step2_event_id(None, ENVELOPE, ..., ...),
    lambda: yourturn.check_step3_threshold(None, ...),
    lambda: yourturn.check_step3_review(None, None, ...),
    lambda: yourturn.check_step4_card_permissions(..., ...),
    lambda: yourturn.check_step4_card_at_rest(None, ..., ..., ...),
    lambda: yourturn.check_step5_outage(None, None, STREAM, ..., ...),
    lambda: yourturn.check_step6_write_price(...),
    lambda: yourturn.check_step6_arm64(...),
]


@pytest.mark.parametrize("check", UNSOLVED, ids=range(len(UNSOLVED)))
def test_an_answer_still_ellipsis_only_prints_your_turn(check, capsys):
    assert check() is None
    assert capsys.readouterr().out == yourturn.YOUR_TURN + "\n"
    assert yourturn.YOUR_TURN.startswith("Your turn: replace the ... above")


def wrong(check, *hints: str) -> str:
    with pytest.raises(AssertionError) as raised:
        check()
    message = str(raised.value)
    assert message.startswith("Not yet: "), message
    for hint in hints:
        assert hint in message, message
    return message


def passes(check, capsys) -> str:
    check()
    out = capsys.readouterr().out
    assert out.startswith("✅ "), out
    return out


def test_step0_a_prediction_off_the_ledger_is_refused_with_a_hint(capsys):
    mine = payins(8)
    lost_all = FakeMonolith(applied=set())
    message = wrong(lambda: yourturn.check_step0_broker_restart(lost_all, mine, 8), "does that queue survive")
    assert " 0 " not in message, "the hint does not give the answer away"
    passes(lambda: yourturn.check_step0_broker_restart(lost_all, mine, 0), capsys)


def test_step0_nothing_lost_or_the_worker_stopped_says_what_to_do():
    mine = payins(3)
    applied_all = FakeMonolith(applied={e["webhook_id"] for e in mine})
    wrong(lambda: yourturn.check_step0_broker_restart(applied_all, mine, 3), "Stop the worker")
    stopped = FakeMonolith(applied=set(), worker="stopped")
    wrong(lambda: yourturn.check_step0_broker_restart(stopped, mine, 0), "worker-start")
    wrong(lambda: yourturn.check_step0_broker_restart(stopped, "payins", 0), "list of envelopes")


def test_step1_signatures_are_checked_with_the_real_scheme(capsys):
    now = int(time.time())
    good, bad = sign(SECRET, BODY, now), sign("another", BODY, now)
    check = yourturn.check_step1_signature
    wrong(lambda: check(SECRET, BODY, bad, bad, [202, 401]), "refuses `good`")
    wrong(lambda: check(SECRET, BODY, good, good, [202, 401]), "secret of your own")
    stale = sign("another", BODY, now - 3600)
    wrong(lambda: check(SECRET, BODY, good, stale, [202, 401]), "another reason")
    wrong(lambda: check(SECRET, BODY, good, bad, [202, 202]), "post_notification")
    wrong(lambda: check(SECRET, "text", good, bad, [202, 401]), "bytes")
    passes(lambda: check(SECRET, BODY, good, bad, [202, 401]), capsys)


def test_step1_a_payin_applied_twice_is_refused_with_a_hint(capsys):
    payin = {
        "webhook": "payin.received",
        "webhook_id": "n-1",
        "object_payload": {"wallet_id": "w", "amount": 4200},
    }
    twice = SimpleNamespace(balance=lambda wallet: {"current_balance": 8400})
    wrong(
        lambda: yourturn.check_step1_duplicate(twice, payin, {"current_balance": 8400}), "same `webhook_id`"
    )
    unknown = SimpleNamespace(balance=lambda wallet: None)
    wrong(lambda: yourturn.check_step1_duplicate(unknown, payin, None), "wait_until_drained")
    once = SimpleNamespace(balance=lambda wallet: {"current_balance": 4200})
    passes(lambda: yourturn.check_step1_duplicate(once, payin, {"current_balance": 4200}), capsys)


def test_step2_the_event_id_is_the_real_one(capsys):
    wrong(lambda: yourturn.check_step2_event_id(None, ENVELOPE, ENVELOPE["webhook_id"], {}), "event_id(")
    right = event_id(ENVELOPE["webhook_id"], BALANCE_UPDATED)
    hook = {
        "webhook_id": right,
        "webhook": "balance.update",
        "payload": {"wallet_id": "w", "current_balance": 1},
    }
    client = SimpleNamespace(log=lambda: {"webhooks": [hook]})
    wrong(lambda: yourturn.check_step2_event_id(client, ENVELOPE, right, None), "client.log()")
    passes(lambda: yourturn.check_step2_event_id(client, ENVELOPE, right, hook), capsys)


def test_step3_the_threshold_is_the_apps_and_inclusive(capsys):
    check = yourturn.check_step3_threshold
    wrong(lambda: check(CLOUD_SETTINGS, 1_000_000), "opens a review")
    wrong(lambda: check(CLOUD_SETTINGS, 10_000), "go higher")
    wrong(lambda: check(CLOUD_SETTINGS, 9_999.99), "cents")
    passes(lambda: check(CLOUD_SETTINGS, 999_999), capsys)


def test_step3_a_review_not_approved_is_refused_with_a_hint():
    notebook_review = {"review_id": "r-1", "wallet_id": "orch-1"}
    wrong(lambda: yourturn.check_step3_review(None, CLOUD_SETTINGS, notebook_review), "wallet of your own")
    rejected = {"review_id": "r-2", "wallet_id": "orch-you", "amount": 2_000_000, "status": "rejected"}
    api = SimpleNamespace(review=lambda review_id: rejected)
    wrong(lambda: yourturn.check_step3_review(api, CLOUD_SETTINGS, rejected), "api.decide")


def test_step4_the_card_permissions_are_read_off_the_policies(capsys):
    seal, decrypt = yourturn.card_key_permissions()
    assert seal == {"apply_notifications"} and decrypt == set()
    check = yourturn.check_step4_card_permissions
    wrong(lambda: check({"apply_notifications", "api_handler"}, set()), "kms:Encrypt")
    wrong(lambda: check({"apply_notifications"}, {"apply_notifications"}), "kms:ViaService")
    wrong(lambda: check(["apply_notifications"], set()), "set of function names")
    passes(lambda: check({"apply_notifications"}, set()), capsys)


def test_step4_a_card_never_sent_is_refused_with_a_hint():
    table = SimpleNamespace(paginate=lambda TableName: [{"Items": [{"pk": {"S": "WALLET#w"}}]}])
    cloud = SimpleNamespace(
        outputs={"LedgerTableName": "ledger"},
        client=lambda service: SimpleNamespace(get_paginator=lambda name: table),
    )
    wrong(lambda: yourturn.check_step4_card_at_rest(cloud, "5488210000003691", 0, None), "548821******3691")
    wrong(lambda: yourturn.check_step4_card_at_rest(cloud, "1234", 0, None), "12 to 19 digits")


def test_step5_predictions_are_checked_before_the_run():
    check = yourturn.check_step5_outage
    n = len(STREAM.deliveries)
    assert STREAM.distinct < n, "the exercise's stream has duplicates"
    wrong(lambda: check(None, None, STREAM, STREAM.distinct, n), "how many 202s")
    wrong(lambda: check(None, None, STREAM, n, STREAM.distinct), "Duplicates too")
    wrong(lambda: check(None, None, STREAM, n, 0), "neither drops it nor copies it")
    down = SimpleNamespace(faults=SimpleNamespace(state=lambda: {"dynamodb": {"mode": "down"}}))
    wrong(lambda: check(down, None, STREAM, n, n), "still down")


def test_step6_break_evens_are_computed_by_the_cost_model(capsys):
    today = costs.break_even("self-hosted").notifications
    half = yourturn.break_even_with_write_price(0.5)
    assert half > today
    wrong(lambda: yourturn.check_step6_write_price(today), "today's prices")
    wrong(lambda: yourturn.check_step6_write_price(half * 2), "half the write price")
    wrong(lambda: yourturn.check_step6_write_price("many"), "number of notifications")
    passes(lambda: yourturn.check_step6_write_price(half), capsys)

    arm64 = dataclasses.replace(costs.ASSUMPTIONS, architecture="arm64")
    on_arm64 = costs.break_even("self-hosted", assumptions=arm64)
    wrong(lambda: yourturn.check_step6_arm64(today), "on x86")
    wrong(lambda: yourturn.check_step6_arm64(half), "arm64")
    passes(lambda: yourturn.check_step6_arm64(on_arm64), capsys)  # a BreakEven is accepted too


def test_step6_a_price_left_changed_is_caught():
    prices = costs.prices()["dynamodb"]
    saved = prices["per_write_request_unit"]
    prices["per_write_request_unit"] = saved / 2
    try:
        wrong(lambda: yourturn.check_step6_write_price(123_456_789), "put back the price")
    finally:
        prices["per_write_request_unit"] = saved
