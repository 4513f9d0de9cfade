"""The monolith's weaknesses, reproduced on cue and measured: what the talk migrates away from.

Run with ``-s`` to see the figures: ``pytest tests/integration/test_monolith_weaknesses.py -s -q``.
"""

from __future__ import annotations

import os
import time

import pytest
from monolith_helpers import wait_until_drained
from polling import poll_until

from demo.monolith import Monolith
from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient, Mode
from demo.parties.processor import generate

BROKER_URL = os.environ.get("BROKER_TEST_URL")  # a real RabbitMQ, started by .ci/run


def brokers():
    yield pytest.param(None, id="embedded-broker")
    if BROKER_URL:
        yield pytest.param(BROKER_URL, id="rabbitmq")
    elif os.environ.get("CI"):
        raise RuntimeError("CI must test the RabbitMQ path: .ci/run starts RabbitMQ and sets BROKER_TEST_URL")
    else:
        yield pytest.param(
            None,
            id="rabbitmq",
            marks=pytest.mark.skip(reason="no RabbitMQ: set BROKER_TEST_URL=amqp://... (.ci/run starts one)"),
        )


@pytest.fixture(params=list(brokers()))
def broker_url(request):
    return request.param


@pytest.fixture
def client():
    with FintechClient(port=0, control_port=0) as running:
        yield running


@pytest.fixture
def monolith(client, tmp_path, broker_url):
    with Monolith(
        port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3", broker_url=broker_url
    ) as m:
        m.broker.purge()  # a clean queue, on a RabbitMQ other tests used before
        yield m


@pytest.fixture
def api(monolith):
    with BankApi(monolith.url, monolith.signing_secret) as client:
        yield client


def report(name, **figures):
    print(f"\nMEASURED {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def test_a_broker_restart_loses_the_queued_notifications(monolith, api):
    """Accepted with 202, so the processor will not resend them; queued in a transient queue; gone."""
    stream = generate(30, seed=1, duplicates=0)
    monolith.inject("worker-stop")  # a worker being redeployed: messages wait in the broker
    assert {api.send(e).status_code for e in stream.deliveries} == {202}
    poll_until(lambda: monolith.status()["queue_depth"] == 30)

    lost = monolith.inject("broker-restart")["messages_lost"]
    monolith.inject("worker-start")
    poll_until(lambda: monolith.worker.running and monolith.status()["queue_depth"] == 0)

    inbox = monolith.status()["inbox"]
    report("broker restart", accepted=inbox["accepted"], lost=lost, applied=inbox["applied"])
    assert lost == 30
    assert (inbox["accepted"], inbox["applied"]) == (30, 0)
    assert all(api.balance(w) is None for w in stream.expected)  # the bank never heard of them


def test_a_slow_client_blocks_every_wallet(monolith, api, client):
    """Head-of-line blocking: the worker waits for the client, so every wallet's backlog grows."""
    delay = 0.1
    client.set_mode(Mode.SLOW, delay=delay)
    stream = generate(40, seed=2, wallets=4, duplicates=0)
    growth = []  # total backlog after every 10 notifications sent
    sent_at = time.monotonic()
    for i, envelope in enumerate(stream.deliveries, start=1):
        assert api.send(envelope).status_code == 202
        if i % 10 == 0:
            growth.append(sum(monolith.status()["pending_by_wallet"].values()))
    send_seconds = time.monotonic() - sent_at
    backlog = monolith.status()["pending_by_wallet"]
    poll_until(lambda: not monolith.status()["pending_by_wallet"], timeout=120, interval=0.2)
    drain_seconds = time.monotonic() - sent_at
    webhooks = monolith.status()["worker_stats"]["webhooks_sent"]
    report(
        "slow client",
        client_delay_s=delay,
        notifications=len(stream.deliveries),
        sent_in_s=round(send_seconds, 2),
        backlog_every_10_sent=growth,
        backlog_per_wallet_after_send=backlog,
        drained_after_s=round(drain_seconds, 1),
        webhooks=webhooks,
    )
    assert growth == sorted(growth) and growth[-1] > growth[0]  # the backlog grows while we send
    assert set(backlog) == set(stream.expected)  # every wallet waits, not only one
    assert sum(backlog.values()) > len(stream.deliveries) / 2
    assert drain_seconds >= webhooks * delay  # the worker did nothing but wait for the client
    client.set_mode(Mode.UP)
    wait_until_drained(monolith)


def test_with_the_database_down_the_ingress_refuses_notifications(monolith, api):
    """The ingress writes the inbox before the broker: no database, no 202."""
    stream = generate(10, seed=3, duplicates=0)
    monolith.inject("database-down")
    answers = [api.send(e) for e in stream.deliveries]
    refused = sum(r.status_code == 503 for r in answers)
    depth = monolith.status()["queue_depth"]
    monolith.inject("database-up")
    report("database down", sent=len(answers), refused_503=refused, queued=depth)
    assert refused == len(answers)
    assert {r.json()["error"]["code"] for r in answers} == {"database_unavailable"}
    assert depth == 0
    assert api.send(stream.deliveries[0]).status_code == 202  # and back when it is back
