"""Step 0, the monolith: the same contract as the serverless API, on the same domain core."""

from __future__ import annotations

import json
import time

import pytest
from envelopes import authorization, payin, settlement
from monolith_helpers import wait_until_drained
from polling import poll_until

from demo.bank.notifications import MAX_BODY_BYTES
from demo.bank.signature import sign
from demo.monolith import Monolith
from demo.parties.client import BankApi, encode
from demo.parties.fintech import FintechClient
from demo.parties.processor import generate


@pytest.fixture
def client():
    with FintechClient(port=0, control_port=0) as running:
        yield running


@pytest.fixture
def monolith(client, tmp_path):
    with Monolith(port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3") as running:
        yield running


@pytest.fixture
def api(monolith):
    with BankApi(monolith.url, monolith.signing_secret) as client:
        yield client


def test_a_seeded_stream_gives_the_expected_balances_and_the_client_hears_them(monolith, api, client):
    stream = generate(60, seed=21)
    assert {api.send(e).status_code for e in stream.deliveries} == {202}
    wait_until_drained(monolith)
    for wallet_id, expected in stream.expected.items():
        balance = api.balance(wallet_id)
        assert (balance["current_balance"], balance["authorizations"]) == (
            expected.current_balance,
            expected.authorizations,
        )
        # the worker is sequential: the client's last balance.update per wallet is the final one
        told = client.log()["stats"]["balances"][wallet_id]
        assert {k: v for k, v in told.items() if k != "version"} == balance
        assert told["version"] >= 1  # the ledger's version of the wallet, that the client orders by
    stats = monolith.status()["worker_stats"]
    assert (stats["applied"], stats["duplicates"]) == (stream.distinct, stream.duplicates)
    assert stats["webhooks_failed"] == 0
    assert client.log()["stats"]["received"] == stats["webhooks_sent"]


def test_a_settlement_before_its_authorization_converges(monolith, api):
    for envelope in (
        settlement("w-1", "a-1", 1_250),
        payin("w-1", 5_000),
        authorization("w-1", "a-1", 1_250),
    ):
        assert api.send(envelope).status_code == 202
    wait_until_drained(monolith)
    balance = api.balance("w-1")
    assert (balance["current_balance"], balance["authorizations"]) == (3_750, 0)


def test_unknown_and_malformed_wallets(api):
    assert api._http.get("/wallets/w-nobody/balance").json()["error"]["code"] == "wallet_not_found"
    assert api._http.get("/wallets/w%20x/balance").status_code == 422


def _with(envelope, **payload):
    envelope["object_payload"].update(payload)
    return envelope


@pytest.mark.parametrize(
    ("body", "signing", "content_type", "status", "code"),
    [
        (b'{"webhook": ', "good", "application/json", 400, "invalid_json"),
        (encode(payin("w-1", -1)), "good", "application/json", 422, "validation_error"),
        (encode(_with(payin("w-1", 1), amount=1.5)), "good", "application/json", 422, "validation_error"),
        (encode(payin("w-1", 100)), "bad", "application/json", 401, "invalid_signature"),
        (encode(payin("w-1", 100)), "stale", "application/json", 401, "invalid_signature"),
        (
            encode(_with(payin("w-1", 1), note="x" * MAX_BODY_BYTES)),
            "good",
            "application/json",
            413,
            "payload_too_large",
        ),
        (encode(payin("w-1", 100)), "good", "text/plain", 415, "unsupported_media_type"),
    ],
    ids=[
        "invalid JSON",
        "negative amount",
        "float amount",
        "bad signature",
        "stale",
        "over 64 KiB",
        "content type",
    ],
)
def test_bad_input_gets_the_same_errors_as_the_serverless_api_and_nothing_is_queued(
    monolith, api, body, signing, content_type, status, code
):
    secret = monolith.signing_secret if signing != "bad" else "not-the-secret"
    at = time.time() - (301 if signing == "stale" else 0)
    response = api.post_notification(body, signature=sign(secret, body, int(at)), content_type=content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    status_now = monolith.status()
    assert status_now["inbox"]["accepted"] == 0
    assert status_now["queue_depth"] == 0


def test_an_invalid_message_on_the_broker_is_dropped_not_looping(monolith):
    monolith.broker.publish(json.dumps({"webhook": "nonsense"}))
    poll_until(lambda: monolith.status()["worker_stats"]["invalid"] == 1)
    assert monolith.status()["queue_depth"] == 0
