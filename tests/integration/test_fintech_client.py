"""The fintech client: verifies, deduplicates, records; and its modes, switched on cue."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from demo.bank.signature import sign
from demo.parties.fintech import FintechClient, Mode
from demo.settings import LOCAL_WEBHOOK_SECRET


@pytest.fixture
def client():
    with FintechClient(port=0, control_port=0) as running:
        yield running


def deliver(client, webhook, secret=LOCAL_WEBHOOK_SECRET, timeout=10.0):
    body = json.dumps(webhook).encode()
    headers = {"Content-Type": "application/json", "Bank-Signature": sign(secret, body, int(time.time()))}
    return httpx.post(client.webhook_url, content=body, headers=headers, timeout=timeout)


def balance_update(webhook_id="w-id-1", wallet="w-1", current=100):
    return {
        "webhook": "balance.update",
        "webhook_id": webhook_id,
        "webhook_created_at": 1,
        "object": "wallet",
        "object_id": wallet,
        "object_payload": {"wallet_id": wallet, "current_balance": current, "authorizations": 0},
    }


def test_a_signed_webhook_is_received_once_and_a_redelivery_is_a_duplicate(client):
    assert deliver(client, balance_update()).json() == {"status": "received"}
    assert deliver(client, balance_update()).json() == {"status": "duplicate"}
    log = client.log()
    assert (log["stats"]["received"], log["stats"]["duplicates"]) == (1, 1)
    assert [w["webhook_id"] for w in log["webhooks"]] == ["w-id-1"]
    assert log["stats"]["balances"]["w-1"]["current_balance"] == 100


def test_a_badly_signed_webhook_is_rejected_and_not_recorded(client):
    response = deliver(client, balance_update(), secret="not-the-secret")
    assert response.status_code == 401
    assert client.log()["stats"]["rejected"] == 1
    assert client.log()["webhooks"] == []


def test_error_mode_answers_500(client):
    client.set_mode(Mode.ERROR)
    assert deliver(client, balance_update()).status_code == 500
    client.set_mode(Mode.UP)
    assert deliver(client, balance_update()).status_code == 200
    assert client.log()["stats"]["refused"] == 1


def test_slow_mode_answers_after_the_delay(client):
    client.set_mode(Mode.SLOW, delay=0.3)
    started = time.perf_counter()
    assert deliver(client, balance_update()).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_down_mode_refuses_connections_and_up_listens_again_on_the_same_port(client):
    port = client.port
    client.set_mode(Mode.DOWN)
    with pytest.raises(httpx.ConnectError):
        deliver(client, balance_update())
    client.set_mode(Mode.UP)
    assert client.port == port
    assert deliver(client, balance_update()).status_code == 200


def test_the_control_port_reads_the_log_switches_modes_and_resets(client):
    deliver(client, balance_update())
    control = client.control_url
    assert httpx.get(f"{control}/log").json()["stats"]["received"] == 1
    assert httpx.post(f"{control}/mode", json={"mode": "slow", "delay": 0.5}).json() == {
        "mode": "slow",
        "delay": 0.5,
    }
    assert httpx.post(f"{control}/mode", json={"mode": "sideways"}).status_code == 400
    assert httpx.post(f"{control}/mode", json={"mode": "slow", "delay": 1000}).status_code == 400
    assert httpx.post(f"{control}/reset").status_code == 200
    assert httpx.get(f"{control}/log").json()["stats"]["received"] == 0


def test_balance_updates_out_of_order_leave_the_client_with_the_highest_version(client):
    """After an outage and a redrive the bank's webhooks come in any order: the client keeps the
    balance of the highest version, whatever the order and the timestamps (whole seconds, equal)."""
    updates = []
    for version, current in ((1, 100), (2, 250), (3, 175)):
        update = balance_update(webhook_id=f"w-id-v{version}", current=current)
        update["object_payload"]["version"] = version
        updates.append(update)
    for update in (updates[2], updates[0], updates[1]):  # 3, then 1 and 2 late
        assert deliver(client, update).json() == {"status": "received"}
    stats = client.log()["stats"]
    assert (stats["balances"]["w-1"]["current_balance"], stats["balances"]["w-1"]["version"]) == (175, 3)
    assert stats["stale"] == 2


def test_the_bank_tells_each_balance_with_the_version_of_its_ledger_write():
    from envelopes import payin

    from demo.bank import service
    from demo.bank.memory import InMemoryLedger, InMemoryPublisher
    from demo.bank.notifications import parse

    store, publisher = InMemoryLedger(), InMemoryPublisher()
    deliveries = [payin("w-v", 100), payin("w-v", 200)]
    for envelope in [*deliveries, deliveries[0]]:  # the first one redelivered: the same version again
        service.apply_and_publish(store, publisher, parse(json.dumps(envelope).encode()), now=1)
    told = [e.payload["version"] for e in publisher.events if e.type == "BalanceUpdated"]
    assert told == [1, 2, 1]
