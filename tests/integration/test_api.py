"""The HTTP API of the serverless side, over real HTTP, against the embedded local cloud."""

from __future__ import annotations

import json
import time

import pytest
from envelopes import authorization, make_envelope, payin, reversal, settlement

from demo.bank.notifications import MAX_BODY_BYTES
from demo.bank.signature import sign
from demo.parties.client import encode


def test_health_names_the_stage(api):
    assert api.health() == {"status": "ok", "stage": "local"}


def test_a_notification_is_accepted_then_applied(cloud, api, wallet):
    envelope = payin(wallet, 10_000)
    response = api.send(envelope)
    assert response.status_code == 202
    assert response.json() == {"notification_id": envelope["webhook_id"], "status": "accepted"}
    cloud.wait_until_drained()
    assert api.balance(wallet) == {
        "wallet_id": wallet,
        "currency": "EUR",
        "current_balance": 10_000,
        "authorizations": 0,
        "authorized_balance": 10_000,
        "frozen": False,
    }


def test_a_duplicate_is_accepted_and_absorbed(cloud, api, wallet):
    envelope = payin(wallet, 2_500)
    assert [api.send(envelope).status_code for _ in range(3)] == [202, 202, 202]
    cloud.wait_until_drained()
    assert api.balance(wallet)["current_balance"] == 2_500


def test_a_settlement_before_its_authorization_converges(cloud, api, wallet):
    for envelope in (
        settlement(wallet, "a-1", 1_250),
        payin(wallet, 5_000),
        authorization(wallet, "a-1", 1_250),
    ):
        response = api.send(envelope)
        assert response.status_code == 202, response.text
    cloud.wait_until_drained()
    balance = api.balance(wallet)
    assert (balance["current_balance"], balance["authorizations"]) == (3_750, 0)


def test_holds_show_in_the_authorized_balance(cloud, api, wallet):
    for envelope in (
        payin(wallet, 5_000),
        authorization(wallet, "a-1", 1_000),
        authorization(wallet, "a-2", 700),
    ):
        api.send(envelope)
    api.send(reversal(wallet, "a-2"))
    cloud.wait_until_drained()
    balance = api.balance(wallet)
    assert (balance["current_balance"], balance["authorizations"], balance["authorized_balance"]) == (
        5_000,
        1_000,
        4_000,
    )


def test_an_unknown_wallet_is_404_with_a_json_error(api):
    response = api._http.get("/wallets/w-nobody/balance")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "wallet_not_found"


def test_a_malformed_wallet_id_is_422(api):
    response = api._http.get("/wallets/w%20x/balance")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_wallet_id"


def _signed(secret: str, body: bytes, at: float | None = None) -> str:
    return sign(secret, body, int(at if at is not None else time.time()))


def _with(envelope, **payload):
    envelope["object_payload"].update(payload)
    return envelope


# (name, body, how to sign, content type, expected status, expected error code)
BAD_INPUT = [
    ("invalid JSON", b'{"webhook": ', "good", "application/json", 400, "invalid_json"),
    (
        "missing fields",
        encode({"webhook": "payin.received"}),
        "good",
        "application/json",
        422,
        "validation_error",
    ),
    (
        "wrong types",
        encode(_with(payin("w-1", 1), wallet_id=7, amount="10")),
        "good",
        "application/json",
        422,
        "validation_error",
    ),
    ("negative amount", encode(payin("w-1", -100)), "good", "application/json", 422, "validation_error"),
    (
        "float amount",
        encode(_with(payin("w-1", 1), amount=12.5)),
        "good",
        "application/json",
        422,
        "validation_error",
    ),
    (
        "unknown webhook type",
        encode(make_envelope("card.teleport", wallet_id="w-1", amount=1)),
        "good",
        "application/json",
        422,
        "validation_error",
    ),
    (
        "bad signature",
        encode(payin("w-1", 100)),
        "other-secret",
        "application/json",
        401,
        "invalid_signature",
    ),
    ("stale signature", encode(payin("w-1", 100)), "stale", "application/json", 401, "invalid_signature"),
    ("missing signature", encode(payin("w-1", 100)), "none", "application/json", 401, "invalid_signature"),
    (
        "body over 64 KiB",
        encode(_with(payin("w-1", 100), note="x" * MAX_BODY_BYTES)),
        "good",
        "application/json",
        413,
        "payload_too_large",
    ),
    ("wrong content type", encode(payin("w-1", 100)), "good", "text/plain", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize(
    ("body", "signing", "content_type", "status", "code"),
    [c[1:] for c in BAD_INPUT],
    ids=[c[0] for c in BAD_INPUT],
)
def test_bad_input_gets_a_json_error_and_enqueues_nothing(
    cloud, api, sqs, queue_url, body, signing, content_type, status, code
):
    signature = {
        "good": _signed(cloud.signing_secret, body),
        "other-secret": _signed("not-the-secret", body),
        "stale": _signed(cloud.signing_secret, body, at=time.time() - 301),
        "none": None,
    }[signing]
    with cloud.paused():
        response = api.post_notification(
            body, signature=signature, unsigned=signature is None, content_type=content_type
        )
        depth = cloud.queue_depths()["bank-notifications"]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert depth == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_a_schema_error_names_every_failing_field(api):
    envelope = payin("w 1", -5)
    del envelope["webhook_id"]
    response = api.send(envelope)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert fields == {"webhook_id", "object_payload.wallet_id", "object_payload.amount"}


def test_the_queue_holds_the_verified_body_with_its_id(cloud, api, sqs, queue_url, wallet):
    envelope = payin(wallet, 42)
    with cloud.paused():
        api.send(envelope)
        message = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"], VisibilityTimeout=0)[
            "Messages"
        ][0]
    assert json.loads(message["Body"]) == envelope
    assert message["MessageAttributes"]["notification_id"]["StringValue"] == envelope["webhook_id"]
    cloud.wait_until_drained()
    assert api.balance(wallet)["current_balance"] == 42
