import json

import pytest
from envelopes import authorization, make_envelope, payin, refund, reversal, settlement

from demo.bank import notifications
from demo.bank.errors import InvalidNotification, MalformedJSON, PayloadTooLarge
from demo.bank.notifications import MAX_AMOUNT, MAX_BODY_BYTES, parse


def body(envelope) -> bytes:
    return json.dumps(envelope).encode()


def failing_fields(envelope) -> set[str]:
    with pytest.raises(InvalidNotification) as caught:
        parse(body(envelope))
    return {e.field for e in caught.value.errors}


@pytest.mark.parametrize(
    "envelope",
    [
        payin("w-1", 100),
        authorization("w-1", "a-1", 1250),
        settlement("w-1", "a-1", 1250),
        reversal("w-1", "a-1"),
        refund("w-1", 5),
    ],
    ids=lambda e: e["webhook"],
)
def test_each_valid_notification_type_parses(envelope):
    n = parse(body(envelope))
    assert n.notification_id == envelope["webhook_id"]
    assert n.webhook == envelope["webhook"]
    assert n.wallet_id == "w-1"


def test_an_authorization_keeps_its_card_and_merchant():
    n = parse(body(authorization("w-1", "a-1", 1250)))
    assert (n.amount, n.authorization_id) == (1250, "a-1")
    assert n.card is not None and n.card.pan == "5488210000003691" and n.card.holder == "ALEX OAK"
    assert n.merchant is not None and n.merchant.mcc == "5411"


def test_invalid_json_is_malformed():
    with pytest.raises(MalformedJSON):
        parse(b'{"webhook": ')


@pytest.mark.parametrize("raw", [b"NaN", b'{"a": Infinity}', b"\xff\xfe", b"[" * 100_000])
def test_non_json_constants_bad_bytes_and_deep_nesting_are_malformed(raw):
    with pytest.raises((MalformedJSON, PayloadTooLarge)):
        parse(raw)


def test_a_body_over_64_kib_is_too_large_before_parsing():
    with pytest.raises(PayloadTooLarge):
        parse(b" " * (MAX_BODY_BYTES + 1))


def test_json_that_is_not_an_object_is_invalid():
    assert failing_fields([1, 2]) == {"$"}


def test_every_missing_envelope_field_is_reported_at_once():
    assert failing_fields({}) == {
        "webhook",
        "webhook_id",
        "webhook_created_at",
        "object",
        "object_id",
        "object_payload",
    }


def test_an_unknown_webhook_type_is_invalid():
    assert "webhook" in failing_fields(make_envelope("card.teleport", wallet_id="w-1"))


@pytest.mark.parametrize("amount", [12.5, "1250", -1, 0, True, None, MAX_AMOUNT + 1, 10**40, 1e3])
def test_amounts_must_be_positive_integer_cents_within_bounds(amount):
    envelope = payin("w-1", 1)
    envelope["object_payload"]["amount"] = amount
    assert failing_fields(envelope) == {"object_payload.amount"}


def test_an_amount_written_as_an_exponent_is_not_integer_cents():
    raw = body(payin("w-1", 1)).replace(b'"amount": 1', b'"amount": 1e400')
    with pytest.raises(InvalidNotification):
        parse(raw)


def test_the_largest_amount_is_accepted():
    assert parse(body(payin("w-1", MAX_AMOUNT))).amount == MAX_AMOUNT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("webhook_id", "not-a-uuid"),
        ("webhook_id", 42),
        ("webhook_created_at", "yesterday"),
        ("webhook_created_at", -5),
        ("object_id", ""),
        ("object_id", "a" * 65),
        ("object_id", "ct 1"),
    ],
)
def test_envelope_fields_are_checked(field, value):
    envelope = payin("w-1", 100)
    envelope[field] = value
    assert failing_fields(envelope) == {field}


@pytest.mark.parametrize("wallet_id", ["", "w 1", "w/1", "ü-1", "x" * 65, 7, None, "\u202ew-1"])
def test_wallet_ids_are_plain_identifiers(wallet_id):
    assert "object_payload.wallet_id" in failing_fields(payin(wallet_id, 100))


def test_only_euros_are_accepted():
    envelope = payin("w-1", 100)
    envelope["object_payload"]["currency"] = "USD"
    assert failing_fields(envelope) == {"object_payload.currency"}


def test_an_authorization_needs_its_authorization_card_and_merchant():
    envelope = make_envelope("card.authorization", wallet_id="w-1", amount=100)
    assert failing_fields(envelope) == {
        "object_payload.authorization_id",
        "object_payload.card",
        "object_payload.merchant",
    }


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"pan": "5488 2100 0000 3691", "holder": "A"}, "object_payload.card.pan"),
        ({"pan": 5488210000003691, "holder": "A"}, "object_payload.card.pan"),
        ({"pan": "5488210000003691", "holder": "ALEX\x00OAK"}, "object_payload.card.holder"),
        ({"pan": "5488210000003691", "holder": "   "}, "object_payload.card.holder"),
        ("5488210000003691", "object_payload.card"),
    ],
)
def test_card_details_are_checked(card, field):
    envelope = authorization("w-1", "a-1", 100)
    envelope["object_payload"]["card"] = card
    assert failing_fields(envelope) == {field}


def test_unicode_text_is_kept_but_control_characters_are_not():
    envelope = authorization("w-1", "a-1", 100)
    envelope["object_payload"]["merchant"]["name"] = "Café Ünïcödé 東京 🍜"
    assert parse(body(envelope)).merchant.name == "Café Ünïcödé 東京 🍜"
    envelope["object_payload"]["merchant"]["name"] = "Cafe\u0085"
    assert failing_fields(envelope) == {"object_payload.merchant.name"}


def test_the_error_body_lists_the_failing_fields():
    with pytest.raises(InvalidNotification) as caught:
        parse(body(payin("w-1", -5)))
    error = caught.value.to_dict()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == [
        {"field": "object_payload.amount", "message": f"must be between 1 and {MAX_AMOUNT} cents"}
    ]
    assert caught.value.status == 422


def test_is_valid_id():
    assert notifications.is_valid_id("w-1")
    assert not notifications.is_valid_id("../etc")


@pytest.mark.parametrize("webhook", [["payin.received"], {"type": "payin.received"}])
def test_a_webhook_type_that_is_a_list_or_an_object_is_invalid_not_a_crash(webhook):
    envelope = payin("w-1", 100)
    envelope["webhook"] = webhook  # unhashable: a set lookup would raise TypeError
    assert failing_fields(envelope) == {"webhook"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_in_another_encoding_than_utf8_is_malformed(encoding):
    # json.loads reads them from bytes; with a byte order mark the ingress then failed (a 500),
    # without one (UTF-16-LE) it queued the body, NUL bytes included, which SQS refuses
    with pytest.raises(MalformedJSON):
        parse(json.dumps(payin("w-1", 100)).encode(encoding))


@pytest.mark.parametrize("text", ["ALEX \ud800", "\udfffOAK", "ALEX\ufffe", "OAK\uffff"])
def test_text_that_cannot_travel_is_refused(text):
    envelope = authorization("w-1", "a-1", 100)
    envelope["object_payload"]["card"]["holder"] = text  # json.dumps writes \ud800 and \uffff escaped
    assert failing_fields(envelope) == {"object_payload.card.holder"}


def test_a_utf8_byte_order_mark_is_ignored():
    assert parse(b"\xef\xbb\xbf" + body(payin("w-1", 100))).amount == 100
