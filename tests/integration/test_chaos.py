"""Faults on cue in the local cloud, and the degraded mode they prove: nothing lost, all drained after.

Every test mends what it breaks (the fixture resets the faults and the client whatever happens):
the local cloud is shared by the tests of this worker.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cloud_helpers import dead_letters
from envelopes import authorization, payin
from polling import poll_until

from demo.parties.fintech import Mode

BANKDEMO = str(Path(sys.executable).with_name("bankdemo"))


@pytest.fixture
def faults(cloud, fintech):
    cloud.faults.reset()
    yield cloud.faults
    cloud.faults.reset()
    fintech.set_mode(Mode.UP)
    for poller in cloud.pollers:
        poller.resume()


def balance(api, wallet):
    found = api.balance(wallet)
    return None if found is None else found["current_balance"]


def notifications_backlog(cloud):
    return cloud.queue_depths()["bank-notifications"]


def test_with_dynamodb_down_the_api_accepts_the_backlog_waits_and_drains_when_it_is_back(
    cloud, api, faults, wallet
):
    cloud.wait_until_drained()
    dlq_before = dead_letters(cloud)
    faults.set("dynamodb", "down")
    answers = [api.send(payin(wallet, 100 + i)).status_code for i in range(8)]
    assert answers == [202] * 8  # the ingress writes nothing but the queue
    # the worker meets the outage and puts the records back, delayed: nothing burns its receives
    poll_until(lambda: notifications_backlog(cloud)["delayed"] >= 8, timeout=30)
    assert faults.state()["dynamodb"]["failed_calls"] > 0
    unavailable = httpx.get(f"{cloud.api_url}/wallets/{wallet}/balance", timeout=30)
    assert unavailable.status_code == 503
    assert unavailable.json()["error"]["code"] == "service_unavailable"
    assert unavailable.headers["Retry-After"] == "5"
    status = subprocess.run(
        [BANKDEMO, "status", "--aws-endpoint", cloud.aws_endpoint], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    shown = " ".join(status.stdout.split())  # rich wraps at the terminal's width
    assert "backlog:" in shown
    assert "put back for later by an outage" in shown
    assert "faults injected: dynamodb down" in shown
    assert "DynamoDB cannot be read (ServiceUnavailable)" in status.stderr
    faults.set("dynamodb", "up")
    cloud.wait_until_drained(timeout=60)
    assert balance(api, wallet) == sum(100 + i for i in range(8))
    assert dead_letters(cloud) == dlq_before


def test_dynamodb_failing_a_third_of_its_calls_changes_nothing_but_time(cloud, api, faults, wallet):
    faults.set("dynamodb", "errors", 0.3)
    for i in range(10):
        assert api.send(payin(wallet, 10 * (i + 1))).status_code == 202
    cloud.wait_until_drained(timeout=90)
    failed = faults.state()["dynamodb"]["failed_calls"]
    faults.set("dynamodb", "up")
    assert failed > 0
    assert balance(api, wallet) == 550


def test_slow_dynamodb_slows_its_callers(cloud, api, faults, wallet):
    api.send(payin(wallet, 5))
    cloud.wait_until_drained()
    faults.set("dynamodb", "slow", 400)
    started = time.perf_counter()
    assert balance(api, wallet) == 5
    assert time.perf_counter() - started >= 0.4
    assert faults.state()["dynamodb"]["slowed_calls"] >= 1


def test_with_kms_down_the_hold_is_taken_and_the_card_sealed_when_kms_is_back(cloud, api, faults, wallet):
    dynamodb = cloud.client("dynamodb")
    key = {"pk": {"S": f"WALLET#{wallet}"}, "sk": {"S": "CARD#a-kms"}}

    def sealed_card():
        return dynamodb.get_item(TableName=f"bank-ledger-{cloud.stage}", Key=key).get("Item")

    api.send(payin(wallet, 10_000))
    cloud.wait_until_drained()
    faults.set("kms", "down")
    assert api.send(authorization(wallet, "a-kms", 2_500)).status_code == 202
    poll_until(lambda: faults.state()["kms"]["failed_calls"] > 0, timeout=30)
    poll_until(lambda: api.balance(wallet)["authorizations"] == 2_500, timeout=30)  # the ledger goes on
    assert sealed_card() is None  # the card waits for KMS: never stored in clear meanwhile
    faults.set("kms", "up")
    cloud.wait_until_drained(timeout=60)
    assert sealed_card()["masked_pan"]["S"].endswith("3691")


def test_with_eventbridge_down_the_ledger_commits_and_the_events_follow_when_it_is_back(
    cloud, api, faults, fintech, wallet
):
    faults.set("events", "down")
    assert api.send(payin(wallet, 4_200)).status_code == 202
    poll_until(lambda: balance(api, wallet) == 4_200, timeout=30)  # the ledger did not wait
    poll_until(lambda: faults.state()["events"]["failed_calls"] > 0, timeout=30)
    assert not any(w["payload"].get("wallet_id") == wallet for w in fintech.log()["webhooks"])
    faults.set("events", "up")
    cloud.wait_until_drained(timeout=60)  # the redelivery finds the commit and publishes again
    assert any(w["payload"].get("wallet_id") == wallet for w in fintech.log()["webhooks"])


def test_with_sqs_down_the_api_says_503_and_nothing_is_half_done(cloud, api, faults, wallet):
    faults.set("sqs", "down")
    refused = api.send(envelope := payin(wallet, 77))
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert refused.headers["Retry-After"] == "5"
    faults.set("sqs", "up")
    assert api.send(envelope).status_code == 202  # the processor's retry
    cloud.wait_until_drained()
    assert balance(api, wallet) == 77


def test_with_the_client_down_the_ledger_and_the_audit_go_on(cloud, api, faults, fintech, wallet):
    audit = cloud.app_module  # noqa: F841 - the app is loaded: chalicelib is importable
    from chalicelib.audit import AuditTrail

    trail = AuditTrail(cloud.client("dynamodb"), f"bank-audit-{cloud.stage}")
    fintech.set_mode(Mode.DOWN)
    for amount in (300, 400):
        assert api.send(payin(wallet, amount)).status_code == 202
    poll_until(lambda: balance(api, wallet) == 700, timeout=30)
    poll_until(lambda: len(trail.history(wallet)) == 2, timeout=30)
    assert not any(w["payload"].get("wallet_id") == wallet for w in fintech.log()["webhooks"])
    fintech.set_mode(Mode.UP)
    cloud.wait_until_drained(timeout=60)
    from demo.aws.queues import redrive

    redrive(cloud.client("sqs"), "bank-webhooks", use_move_task=False)
    cloud.wait_until_drained(timeout=60)
    received = [w for w in fintech.log()["webhooks"] if w["payload"].get("wallet_id") == wallet]
    assert len(received) == 2  # both balance updates, after the outage, each once


def bankdemo(*args, timeout=60):
    return subprocess.run([BANKDEMO, *args], capture_output=True, text=True, timeout=timeout)


def test_the_chaos_command_sets_shows_and_mends_the_faults(cloud, faults, fintech):
    aws = ("--aws-endpoint", cloud.aws_endpoint)
    assert bankdemo("chaos", "dynamodb", "errors", "0.25", *aws).stdout.strip() == "dynamodb: errors 0.25"
    assert faults.get("dynamodb").mode == "errors"
    assert bankdemo("chaos", "EventBridge", "slow", "150", *aws).stdout.strip() == "events: slow 150 ms"
    client = ("--client-control", fintech.control_url)
    assert bankdemo("chaos", "client", "down", *client).stdout.strip() == "client: down"
    assert fintech.mode is Mode.DOWN
    shown = bankdemo("chaos", "status", *aws, *client, "--monolith", "http://127.0.0.1:9")
    assert shown.returncode == 0
    assert "errors 0.25" in shown.stdout and "slow 150" in shown.stdout and "not running" in shown.stdout
    assert bankdemo("chaos", "client", "up", *client).returncode == 0
    assert bankdemo("chaos", "reset", *aws).returncode == 0
    assert all(f["mode"] == "up" for f in faults.state().values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("s3", "down"), "unknown target 's3'"),
        (("dynamodb", "melt"), "unknown mode 'melt'"),
        (("dynamodb", "errors"), "errors needs a value"),
        (("dynamodb", "errors", "2"), "fraction"),
        (("sqs", "down", "5"), "takes no value"),
        (("dynamodb",), "needs a mode"),
        (("client", "explode"), "unknown client mode"),
        (("broker", "down"), "broker takes restart"),
    ],
)
def test_bad_chaos_commands_fail_clearly_and_break_nothing(cloud, faults, args, message):
    result = bankdemo("chaos", *args, "--aws-endpoint", cloud.aws_endpoint)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert all(f["mode"] == "up" for f in faults.state().values())


def test_chaos_without_a_local_cloud_says_how_to_start_one():
    result = bankdemo("chaos", "dynamodb", "down", "--aws-endpoint", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "bankdemo up" in result.stderr
