"""Bad input, word for word: each refusal of the domain's parsers names its field and says why.

docs/reference/bad-input.md lists what each entry answers; these tests pin the exact
``(path, message)`` pairs of a refused notification or decision, the bounds on both sides, the
messages of a body that is not JSON, and the JSON error body every error turns into.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from envelopes import CARD, MERCHANT, authorization, make_envelope, payin, reversal, settlement

from demo.bank import errors, notifications, reviews
from demo.bank.errors import (
    FieldError,
    InvalidDecision,
    InvalidNotification,
    InvalidReviewQuery,
    MalformedJSON,
)
from demo.bank.notifications import MAX_AMOUNT, MAX_BODY_BYTES, Card, Merchant, parse, validate

WEBHOOKS = "card.authorization, card.refund, card.reversal, card.settlement, payin.received"
ID_RULE = "must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'"
NOT_TEXT = "must be Unicode text (no lone surrogates, no U+FFFE or U+FFFF)"


def refusal(envelope: object) -> list[tuple[str, str]]:
    """The (path, message) pairs ``validate`` refuses ``envelope`` with, in the order reported."""
    with pytest.raises(InvalidNotification) as caught:
        validate(envelope)
    return [(e.field, e.message) for e in caught.value.errors]


def with_field(envelope: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """``envelope`` with the field at dotted ``path`` set to ``value`` (``...`` removes it)."""
    *parents, last = path.split(".")
    target = envelope
    for name in parents:
        target = target[name]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return envelope


# -- the envelope -------------------------------------------------------------------------------


def test_a_json_value_that_is_not_an_object_is_refused_as_a_whole() -> None:
    assert refusal([payin("w-1", 1)]) == [("$", "must be a JSON object")]


def test_an_empty_object_lists_every_envelope_field_in_order() -> None:
    assert refusal({}) == [
        ("webhook", "is required"),
        ("webhook_id", "is required"),
        ("webhook_created_at", "is required"),
        ("object", "is required"),
        ("object_id", "is required"),
        ("object_payload", "is required"),
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("webhook", "card.teleport", ("webhook", f"must be one of {WEBHOOKS}")),
        ("webhook", ["payin.received"], ("webhook", f"must be one of {WEBHOOKS}")),
        ("webhook", "PAYIN.RECEIVED", ("webhook", f"must be one of {WEBHOOKS}")),
        ("webhook_id", "not-a-uuid", ("webhook_id", "must be a UUID")),
        ("webhook_id", 42, ("webhook_id", "must be a UUID")),
        ("webhook_id", "{6f1d8a52-3c1e-4e4b-9a57-2f0f4a8b9c10}", ("webhook_id", "must be a UUID")),
        ("webhook_id", "6f1d8a523c1e4e4b9a572f0f4a8b9c10", ("webhook_id", "must be a UUID")),
        (
            "webhook_created_at",
            "yesterday",
            ("webhook_created_at", "must be a positive integer of unix seconds"),
        ),
        ("webhook_created_at", True, ("webhook_created_at", "must be a positive integer of unix seconds")),
        ("webhook_created_at", 1.5, ("webhook_created_at", "must be a positive integer of unix seconds")),
        ("webhook_created_at", 0, ("webhook_created_at", "must be a positive integer of unix seconds")),
        ("webhook_created_at", 10**11, ("webhook_created_at", "must be a positive integer of unix seconds")),
        ("object", 7, ("object", "must be a string")),
        ("object", "", ("object", "must be 1 to 64 characters")),
        ("object", "   ", ("object", "must be 1 to 64 characters")),
        ("object", "x" * 65, ("object", "must be 1 to 64 characters")),
        ("object", "card\ntransaction", ("object", "must not contain control characters")),
        ("object", "card\ud800", ("object", NOT_TEXT)),
        ("object_id", "", ("object_id", ID_RULE)),
        ("object_id", "a" * 65, ("object_id", ID_RULE)),
        ("object_id", "-ct", ("object_id", ID_RULE)),
        ("object_id", 12, ("object_id", ID_RULE)),
        ("object_payload", [1], ("object_payload", "must be an object")),
        ("object_payload", "w-1", ("object_payload", "must be an object")),
    ],
)
def test_each_envelope_field_is_refused_by_its_path_with_its_reason(
    path: str, value: object, expected: tuple[str, str]
) -> None:
    assert refusal(with_field(payin("w-1", 100), path, value)) == [expected]


@pytest.mark.parametrize("created_at", [1, 10**11 - 1])
def test_the_creation_time_bounds_are_accepted(created_at: int) -> None:
    assert validate(with_field(payin("w-1", 100), "webhook_created_at", created_at)).created_at == created_at


def test_an_object_of_64_characters_is_accepted_and_a_card_number_in_it_is_masked() -> None:
    assert validate(with_field(payin("w-1", 1), "object", "o" * 64)).object == "o" * 64
    n = validate(with_field(payin("w-1", 1), "object", "ct 4111111111111111"))
    assert n.object == "ct 411111******1111"


def test_a_valid_notification_keeps_every_field() -> None:
    envelope = authorization("w-1", "a-1", 1_250)
    envelope["webhook_id"] = envelope["webhook_id"].upper()  # kept in lower case: one form of each id
    assert validate(envelope) == notifications.Notification(
        notification_id=envelope["webhook_id"].lower(),
        webhook="card.authorization",
        created_at=1_764_412_800,
        object="cardtransaction",
        object_id=envelope["object_id"],
        wallet_id="w-1",
        amount=1_250,
        authorization_id="a-1",
        card=Card(CARD["pan"], CARD["holder"]),
        merchant=Merchant(MERCHANT["name"], MERCHANT["mcc"]),
    )


# -- the payload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("object_payload.wallet_id", ..., ("object_payload.wallet_id", "is required")),
        ("object_payload.wallet_id", "../etc", ("object_payload.wallet_id", ID_RULE)),
        ("object_payload.wallet_id", "w" * 65, ("object_payload.wallet_id", ID_RULE)),
        ("object_payload.currency", "USD", ("object_payload.currency", "must be EUR")),
        ("object_payload.currency", None, ("object_payload.currency", "must be EUR")),
        ("object_payload.amount", ..., ("object_payload.amount", "is required")),
        ("object_payload.amount", "100", ("object_payload.amount", "must be an integer number of cents")),
        ("object_payload.amount", 12.0, ("object_payload.amount", "must be an integer number of cents")),
        ("object_payload.amount", True, ("object_payload.amount", "must be an integer number of cents")),
        ("object_payload.amount", 0, ("object_payload.amount", f"must be between 1 and {MAX_AMOUNT} cents")),
        ("object_payload.amount", -1, ("object_payload.amount", f"must be between 1 and {MAX_AMOUNT} cents")),
        (
            "object_payload.amount",
            MAX_AMOUNT + 1,
            ("object_payload.amount", "must be between 1 and 1000000000000 cents"),
        ),
    ],
)
def test_each_payload_field_is_refused_by_its_dotted_path(
    path: str, value: object, expected: tuple[str, str]
) -> None:
    assert refusal(with_field(payin("w-1", 100), path, value)) == [expected]


@pytest.mark.parametrize("amount", [1, MAX_AMOUNT])
def test_the_amount_bounds_are_accepted(amount: int) -> None:
    assert validate(payin("w-1", amount)).amount == amount


def test_a_payload_without_a_currency_is_in_euros() -> None:
    envelope = with_field(payin("w-1", 100), "object_payload.currency", ...)
    assert validate(envelope).amount == 100


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        (
            make_envelope("card.authorization", wallet_id="w-1"),
            [
                ("object_payload.amount", "is required"),
                ("object_payload.authorization_id", "is required"),
                ("object_payload.card", "is required"),
                ("object_payload.merchant", "is required"),
            ],
        ),
        (
            make_envelope("card.settlement", wallet_id="w-1"),
            [("object_payload.amount", "is required"), ("object_payload.authorization_id", "is required")],
        ),
        (
            make_envelope("card.reversal", wallet_id="w-1"),
            [("object_payload.authorization_id", "is required")],
        ),
        (make_envelope("card.refund", wallet_id="w-1"), [("object_payload.amount", "is required")]),
        (make_envelope("payin.received", wallet_id="w-1"), [("object_payload.amount", "is required")]),
    ],
    ids=lambda value: value["webhook"] if isinstance(value, dict) else "",
)
def test_each_webhook_type_needs_its_own_payload_keys(
    envelope: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert refusal(envelope) == expected


def test_an_unknown_webhook_type_asks_for_no_payload_key() -> None:
    # the payload's own checks still run; the keys a type needs are not asked of an unknown type
    envelope = make_envelope("card.teleport", wallet_id="w-1")
    assert refusal(envelope) == [("webhook", f"must be one of {WEBHOOKS}")]


def test_a_reversal_carries_no_amount_and_an_authorization_id() -> None:
    n = validate(reversal("w-1", "a-9"))
    assert (n.amount, n.authorization_id, n.card, n.merchant) == (None, "a-9", None, None)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("object_payload.authorization_id", "a 1", ("object_payload.authorization_id", ID_RULE)),
        ("object_payload.card", "5488210000003691", ("object_payload.card", "must be an object")),
        ("object_payload.card.pan", ..., ("object_payload.card.pan", "must be 12 to 19 digits")),
        ("object_payload.card.pan", 5488210000003691, ("object_payload.card.pan", "must be 12 to 19 digits")),
        ("object_payload.card.pan", "1" * 11, ("object_payload.card.pan", "must be 12 to 19 digits")),
        ("object_payload.card.pan", "1" * 20, ("object_payload.card.pan", "must be 12 to 19 digits")),
        ("object_payload.card.holder", ..., ("object_payload.card.holder", "is required")),
        ("object_payload.card.holder", 7, ("object_payload.card.holder", "must be a string")),
        (
            "object_payload.card.holder",
            "H" * 65,
            ("object_payload.card.holder", "must be 1 to 64 characters"),
        ),
        (
            "object_payload.card.holder",
            "A\x7fB",
            ("object_payload.card.holder", "must not contain control characters"),
        ),
        ("object_payload.card.holder", "OAK\uffff", ("object_payload.card.holder", NOT_TEXT)),
        ("object_payload.merchant", ["Shop"], ("object_payload.merchant", "must be an object")),
        ("object_payload.merchant.name", ..., ("object_payload.merchant.name", "is required")),
        (
            "object_payload.merchant.name",
            "N" * 129,
            ("object_payload.merchant.name", "must be 1 to 128 characters"),
        ),
        (
            "object_payload.merchant.name",
            "\t",
            ("object_payload.merchant.name", "must be 1 to 128 characters"),
        ),
        ("object_payload.merchant.mcc", ..., ("object_payload.merchant.mcc", "must be 4 digits")),
        ("object_payload.merchant.mcc", 5411, ("object_payload.merchant.mcc", "must be 4 digits")),
        ("object_payload.merchant.mcc", "541", ("object_payload.merchant.mcc", "must be 4 digits")),
    ],
)
def test_each_card_and_merchant_field_is_refused_by_its_dotted_path(
    path: str, value: object, expected: tuple[str, str]
) -> None:
    assert refusal(with_field(authorization("w-1", "a-1", 100), path, value)) == [expected]


def test_every_failing_field_of_a_card_and_a_merchant_is_reported_at_once() -> None:
    envelope = authorization("w-1", "a-1", 100)
    envelope["object_payload"]["card"] = {"pan": "12", "holder": ""}
    envelope["object_payload"]["merchant"] = {"name": "", "mcc": "x"}
    assert refusal(envelope) == [
        ("object_payload.card.pan", "must be 12 to 19 digits"),
        ("object_payload.card.holder", "must be 1 to 64 characters"),
        ("object_payload.merchant.name", "must be 1 to 128 characters"),
        ("object_payload.merchant.mcc", "must be 4 digits"),
    ]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("object_payload.card.pan", "1" * 12),
        ("object_payload.card.pan", "1" * 19),
        ("object_payload.card.holder", "H" * 64),
        ("object_payload.merchant.name", "N" * 128),
        ("object_payload.merchant.mcc", "0000"),
    ],
)
def test_the_length_bounds_of_card_and_merchant_fields_are_accepted(path: str, value: str) -> None:
    n = validate(with_field(authorization("w-1", "a-1", 100), path, value))
    assert value in (n.card.pan, n.card.holder, n.merchant.name, n.merchant.mcc)  # type: ignore[union-attr]


def test_a_card_number_typed_into_the_merchant_name_is_kept_masked() -> None:
    envelope = with_field(
        authorization("w-1", "a-1", 100), "object_payload.merchant.name", "Shop 4111111111111111"
    )
    assert validate(envelope).merchant == Merchant("Shop 411111******1111", "5411")


# -- the body: size and JSON ------------------------------------------------------------------


def test_a_body_of_exactly_64_kib_is_not_too_large_and_one_byte_more_is() -> None:
    notifications.check_size(b" " * MAX_BODY_BYTES)
    with pytest.raises(errors.PayloadTooLarge) as caught:
        notifications.check_size(b" " * (MAX_BODY_BYTES + 1))
    assert caught.value.message == "body is 65537 bytes; the limit is 65536"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"NaN", "body is not valid JSON: NaN is not JSON"),
        (b'{"amount": -Infinity}', "body is not valid JSON: -Infinity is not JSON"),
        (b"", "body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b'{"a": 1} x', "body is not valid JSON: Extra data: line 1 column 10 (char 9)"),
        (b'{"a": "\xef\xbf\xbf"}', "body holds U+FFFF, a character no queue message may carry"),
        (b'{"\xef\xbf\xbe": 1}', "body holds U+FFFE, a character no queue message may carry"),
        (b"\x00", "body holds U+0000, a character no queue message may carry"),
    ],
)
def test_a_body_that_is_not_json_is_told_why(body: bytes, message: str) -> None:
    with pytest.raises(MalformedJSON) as caught:
        notifications.load_json(body)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_bytes_that_are_not_utf8_are_told_so() -> None:
    with pytest.raises(MalformedJSON) as caught:
        notifications.load_json(b'{"a": "\xff"}')
    assert caught.value.message.startswith("body is not valid JSON: 'utf-8' codec can't decode byte 0xff")


def test_nesting_too_deep_for_the_parser_is_malformed_json() -> None:
    with pytest.raises(MalformedJSON) as caught:
        notifications.load_json(b"[" * 100_000 + b"]" * 100_000)
    assert caught.value.message.startswith("body is not valid JSON: ")


def test_json_text_is_read_whole_and_a_byte_order_mark_is_only_skipped_in_front() -> None:
    assert notifications.load_json(b'\xef\xbb\xbf{"a": [1, "\\ufffe"]}') == {"a": [1, "\ufffe"]}
    with pytest.raises(MalformedJSON):
        notifications.load_json(b'{"a": 1}\xef\xbb\xbf')


def test_the_digest_is_the_sha256_of_the_canonical_envelope_with_the_id_in_lower_case() -> None:
    envelope = payin("w-1", 100)
    envelope["webhook_id"] = envelope["webhook_id"].upper()
    canonical = json.dumps(
        {**envelope, "webhook_id": envelope["webhook_id"].lower()}, sort_keys=True, separators=(",", ":")
    )
    assert canonical.startswith('{"object":"cardtransaction","object_id":')
    n = parse(json.dumps(envelope, indent=2).encode())
    assert n.digest == hashlib.sha256(canonical.encode()).hexdigest()
    assert notifications.content_digest(envelope, n.notification_id) == n.digest


def test_a_parsed_notification_is_the_validated_one_with_its_digest() -> None:
    envelope = settlement("w-1", "a-1", 700)
    n = parse(json.dumps(envelope).encode())
    assert n == validate(envelope)  # the digest does not take part in equality
    assert len(n.digest) == 64 and validate(envelope).digest == ""


def test_is_valid_id_wants_a_string_of_the_identifier_form() -> None:
    assert notifications.is_valid_id("a" * 64)
    assert notifications.is_valid_id("W.1_x:y-z")
    for value in ("a" * 65, "", "-w", 7, None, ["w-1"]):
        assert not notifications.is_valid_id(value)


# -- decisions and the review filter ------------------------------------------------------------


def decision_body(**body: object) -> bytes:
    return json.dumps(body).encode()


def decision_refusal(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDecision) as caught:
        reviews.parse_decision(body)
    assert caught.value.message == "invalid decision: " + ", ".join(e.field for e in caught.value.errors)
    return [(e.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[]", [("(body)", "must be a JSON object")]),
        (b'"approve"', [("(body)", "must be a JSON object")]),
        (decision_body(), [("decision", "must be 'approve' or 'reject'")]),
        (decision_body(decision="APPROVE"), [("decision", "must be 'approve' or 'reject'")]),
        (decision_body(decision=True), [("decision", "must be 'approve' or 'reject'")]),
        (decision_body(decision=["approve"]), [("decision", "must be 'approve' or 'reject'")]),
        (decision_body(decision={"approve": 1}), [("decision", "must be 'approve' or 'reject'")]),
        (decision_body(decision="reject"), [("reason", "is required to reject")]),
        (decision_body(decision="reject", reason=" \n "), [("reason", "is required to reject")]),
        (decision_body(decision="approve", reason=None), [("reason", "must be a string")]),
        (decision_body(decision="approve", reason="x" * 501), [("reason", "must be at most 500 characters")]),
        (
            decision_body(decision="approve", reason="a\x00b"),
            [("reason", "must not contain control characters")],
        ),
        (
            decision_body(decision="approve", reason="\x0b"),
            [("reason", "must not contain control characters")],
        ),
        (decision_body(decision="approve", by="me"), [("by", "is not a decision field")]),
        (
            decision_body(decision="maybe", reason=3, zz=1, aa=2),
            [
                ("decision", "must be 'approve' or 'reject'"),
                ("reason", "must be a string"),
                ("aa", "is not a decision field"),
                ("zz", "is not a decision field"),
            ],
        ),
    ],
)
def test_a_bad_decision_is_refused_field_by_field(body: bytes, expected: list[tuple[str, str]]) -> None:
    assert decision_refusal(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (decision_body(decision="approve"), ("approve", "")),
        (decision_body(decision="approve", reason="ok"), ("approve", "ok")),
        (decision_body(decision="reject", reason="\tfunds\tunclear\n"), ("reject", "funds\tunclear")),
        (decision_body(decision="reject", reason="r" * 500), ("reject", "r" * 500)),
        (
            decision_body(decision="reject", reason="card 4111111111111111"),
            ("reject", "card 411111******1111"),
        ),
    ],
)
def test_a_good_decision_is_read_with_its_reason_trimmed_and_masked(
    body: bytes, expected: tuple[str, str]
) -> None:
    parsed = reviews.parse_decision(body)
    assert (parsed.decision, parsed.reason, parsed.decided_by) == (*expected, "")
    assert type(parsed.decision) is reviews.Decision


def test_a_decision_body_is_checked_for_size_and_json_first() -> None:
    with pytest.raises(errors.PayloadTooLarge):
        reviews.parse_decision(b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(MalformedJSON, match="NaN is not JSON"):
        reviews.parse_decision(b'{"decision": NaN}')


@pytest.mark.parametrize("value", ["", "PENDING", "open", "\x00"])
def test_an_unknown_review_status_is_refused_with_the_allowed_ones(value: str) -> None:
    with pytest.raises(InvalidReviewQuery) as caught:
        reviews.parse_status(value)
    assert caught.value.message == "status must be one of: pending, approved, rejected, escalated, all"


@pytest.mark.parametrize("status", list(reviews.Status))
def test_each_review_status_is_a_filter(status: reviews.Status) -> None:
    assert reviews.parse_status(str(status)) is status


# -- the JSON error body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.BankError("m"), 400, "bad_request"),
        (errors.MalformedJSON("m"), 400, "invalid_json"),
        (errors.PayloadTooLarge("m"), 413, "payload_too_large"),
        (errors.SignatureRejected("m"), 401, "invalid_signature"),
        (errors.SignatureMismatch("m"), 401, "invalid_signature"),
        (errors.ReplayRefused("m"), 409, "replay_refused"),
        (errors.InvalidWalletId("m"), 422, "invalid_wallet_id"),
        (errors.WalletNotFound("m"), 404, "wallet_not_found"),
        (errors.InvalidReviewQuery("m"), 422, "invalid_status"),
        (errors.ReviewNotFound("m"), 404, "review_not_found"),
        (errors.ReviewClosed("m"), 409, "review_closed"),
        (errors.DecisionConflict("m"), 409, "decision_conflict"),
        (errors.ReviewNotReady("m"), 409, "review_not_ready"),
        (errors.ServiceUnavailable("m"), 503, "service_unavailable"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_error_has_its_status_and_its_json_body(error: errors.BankError, status: int, code: str) -> None:
    assert error.status == status
    assert error.to_dict() == {"error": {"code": code, "message": "m"}}
    assert (str(error), error.message, error.args) == ("m", "m", ("m",))


def test_a_validation_error_lists_each_field_with_its_message() -> None:
    error = InvalidNotification([FieldError("webhook", "is required"), FieldError("object_id", ID_RULE)])
    assert (error.status, str(error)) == (422, "invalid notification: webhook, object_id")
    assert error.errors == [FieldError("webhook", "is required"), FieldError("object_id", ID_RULE)]
    assert error.to_dict() == {
        "error": {
            "code": "validation_error",
            "message": "invalid notification: webhook, object_id",
            "fields": [
                {"field": "webhook", "message": "is required"},
                {"field": "object_id", "message": ID_RULE},
            ],
        }
    }


def test_a_refused_decision_has_the_same_shape() -> None:
    error = InvalidDecision([FieldError("reason", "is required to reject")])
    assert error.to_dict() == {
        "error": {
            "code": "validation_error",
            "message": "invalid decision: reason",
            "fields": [{"field": "reason", "message": "is required to reject"}],
        }
    }
