"""Payment notifications: the envelope the card processor POSTs, parsed and validated.

A notification is accepted only whole: every field is checked and every failure reported at
once, by its dotted path (``object_payload.amount``), so that a client can fix its request.
Money is an integer number of cents, never a float.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from demo.bank.errors import FieldError, InvalidNotification, MalformedJSON, PayloadTooLarge
from demo.bank.pan import mask_card_numbers

MAX_BODY_BYTES = 64 * 1024
CURRENCY = "EUR"
MAX_AMOUNT = 10**12  # cents: ten billion euros, far above any single payment, far below overflow

PAYIN_RECEIVED = "payin.received"
CARD_AUTHORIZATION = "card.authorization"
CARD_SETTLEMENT = "card.settlement"
CARD_REVERSAL = "card.reversal"
CARD_REFUND = "card.refund"

# The payload keys each webhook type needs, beyond ``wallet_id``.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    PAYIN_RECEIVED: ("amount",),
    CARD_AUTHORIZATION: ("authorization_id", "amount", "card", "merchant"),
    CARD_SETTLEMENT: ("authorization_id", "amount"),
    CARD_REVERSAL: ("authorization_id",),
    CARD_REFUND: ("amount",),
}
WEBHOOK_TYPES = frozenset(REQUIRED_KEYS)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_PAN = re.compile(r"[0-9]{12,19}")
_MCC = re.compile(r"[0-9]{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Not text: lone surrogates (no UTF-8 encoding exists) and U+FFFE, U+FFFF (SQS refuses a message with them).
_NOT_TEXT = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Card:
    pan: str
    holder: str


@dataclass(frozen=True)
class Merchant:
    name: str
    mcc: str


@dataclass(frozen=True)
class Notification:
    """One validated notification. ``notification_id`` is the envelope's ``webhook_id``."""

    notification_id: str
    webhook: str
    created_at: int
    object: str
    object_id: str
    wallet_id: str
    amount: int | None = None
    authorization_id: str | None = None
    card: Card | None = None
    merchant: Merchant | None = None
    # SHA-256 of the raw body it was parsed from: the same notification id with another body is a
    # replay, not a redelivery (service.apply refuses it).
    digest: str = field(default="", compare=False, repr=False)


def is_valid_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a usable identifier (wallet, authorization, object)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, data: Mapping[str, Any], key: str, path: str, max_len: int = 128) -> str | None:
        value = data.get(key)
        if value is None:
            self.fail(path, "is required")
        elif not isinstance(value, str):
            self.fail(path, "must be a string")
        elif not value.strip() or len(value) > max_len:
            self.fail(path, f"must be 1 to {max_len} characters")
        elif _CONTROL.search(value):
            self.fail(path, "must not contain control characters")
        elif _NOT_TEXT.search(value):
            self.fail(path, "must be Unicode text (no lone surrogates, no U+FFFE or U+FFFF)")
        else:
            return value
        return None

    def ident(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.fail(path, "is required")
        elif not is_valid_id(value):
            self.fail(path, "must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'")
        else:
            return value
        return None

    def amount(self, data: Mapping[str, Any], path: str) -> int | None:
        value = data.get("amount")
        if value is None:
            self.fail(path, "is required")
        elif isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "must be an integer number of cents")
        elif not 0 < value <= MAX_AMOUNT:
            self.fail(path, f"must be between 1 and {MAX_AMOUNT} cents")
        else:
            return value
        return None

    def mapping(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            self.fail(path, "is required")
        elif not isinstance(value, dict):
            self.fail(path, "must be an object")
        else:
            return value
        return None


def validate(envelope: object) -> Notification:
    """Turn a decoded JSON envelope into a :class:`Notification` or raise :class:`InvalidNotification`."""
    check = _Checker()
    if not isinstance(envelope, dict):
        raise InvalidNotification([FieldError("$", "must be a JSON object")])

    webhook = envelope.get("webhook")
    if webhook is None:
        check.fail("webhook", "is required")
    elif not isinstance(webhook, str) or webhook not in WEBHOOK_TYPES:  # a list or an object is unhashable
        check.fail("webhook", f"must be one of {', '.join(sorted(WEBHOOK_TYPES))}")
        webhook = None

    webhook_id = envelope.get("webhook_id")
    if webhook_id is None:
        check.fail("webhook_id", "is required")
    elif not isinstance(webhook_id, str) or not _is_uuid(webhook_id):
        check.fail("webhook_id", "must be a UUID")
        webhook_id = None
    else:
        webhook_id = webhook_id.lower()  # one form, everywhere it is keyed: a case variant is the same id

    created_at = envelope.get("webhook_created_at")
    if created_at is None:
        check.fail("webhook_created_at", "is required")
    elif isinstance(created_at, bool) or not isinstance(created_at, int) or not 0 < created_at < 10**11:
        check.fail("webhook_created_at", "must be a positive integer of unix seconds")
        created_at = None

    obj = check.text(envelope, "object", "object", max_len=64)
    obj = None if obj is None else mask_card_numbers(obj)
    object_id = check.ident(envelope, "object_id", "object_id")
    payload = check.mapping(envelope, "object_payload", "object_payload")

    wallet_id = amount = authorization_id = card = merchant = None
    if payload is not None:
        wallet_id = check.ident(payload, "wallet_id", "object_payload.wallet_id")
        currency = payload.get("currency", CURRENCY)
        if currency != CURRENCY:
            check.fail("object_payload.currency", f"must be {CURRENCY}")
        needed = REQUIRED_KEYS.get(webhook, ()) if isinstance(webhook, str) else ()
        if "amount" in needed:
            amount = check.amount(payload, "object_payload.amount")
        if "authorization_id" in needed:
            authorization_id = check.ident(payload, "authorization_id", "object_payload.authorization_id")
        if "card" in needed:
            card = _card(check, payload)
        if "merchant" in needed:
            merchant = _merchant(check, payload)

    if check.errors:
        raise InvalidNotification(check.errors)
    # Each of these six is None only when its check recorded an error, and then validate raised above.
    return Notification(
        notification_id=webhook_id,  # type: ignore[arg-type]  # not None here (see above)
        webhook=webhook,  # type: ignore[arg-type]  # not None here (see above)
        created_at=created_at,  # type: ignore[arg-type]  # not None here (see above)
        object=obj,  # type: ignore[arg-type]  # not None here (see above)
        object_id=object_id,  # type: ignore[arg-type]  # not None here (see above)
        wallet_id=wallet_id,  # type: ignore[arg-type]  # not None here (see above)
        amount=amount,
        authorization_id=authorization_id,
        card=card,
        merchant=merchant,
    )


def _card(check: _Checker, payload: Mapping[str, Any]) -> Card | None:
    card = check.mapping(payload, "card", "object_payload.card")
    if card is None:
        return None
    pan = card.get("pan")
    if not isinstance(pan, str) or not _PAN.fullmatch(pan):
        check.fail("object_payload.card.pan", "must be 12 to 19 digits")
        pan = None
    holder = check.text(card, "holder", "object_payload.card.holder", max_len=64)
    return Card(pan, holder) if pan and holder else None


def _merchant(check: _Checker, payload: Mapping[str, Any]) -> Merchant | None:
    merchant = check.mapping(payload, "merchant", "object_payload.merchant")
    if merchant is None:
        return None
    name = check.text(merchant, "name", "object_payload.merchant.name")
    if name is not None:  # a card number typed into the name is kept masked, never in clear
        name = mask_card_numbers(name)
    mcc = merchant.get("mcc")
    if not isinstance(mcc, str) or not _MCC.fullmatch(mcc):
        check.fail("object_payload.merchant.mcc", "must be 4 digits")
        mcc = None
    return Merchant(name, mcc) if name and mcc else None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def check_size(body: bytes) -> None:
    """Refuse a body over ``MAX_BODY_BYTES`` before spending any work on it."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")


# What SQS accepts in a message body (#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
# #x10000 to #x10FFFF): the raw body is what the ingress queues.
_NOT_QUEUEABLE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def load_json(body: bytes) -> Any:
    """The JSON value of a request body, read as every entry reads it, or :class:`MalformedJSON`.

    UTF-8 only (RFC 8259): given bytes, json.loads would also read UTF-16 and UTF-32, which the
    queue cannot carry as they are. A leading byte order mark is ignored, as json.loads does.
    ``NaN`` and ``Infinity`` are not JSON.
    """
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except ValueError as error:
        raise MalformedJSON(f"body is not valid JSON: {error}") from None
    refused = _NOT_QUEUEABLE.search(text)
    if refused is not None:  # SQS would refuse the message: a 500 on AWS, a 400 here, on both systems
        raise MalformedJSON(
            f"body holds U+{ord(refused.group()):04X}, a character no queue message may carry"
        )
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise MalformedJSON(f"body is not valid JSON: {error}") from None


def parse(body: bytes) -> Notification:
    """Decode and validate a raw request body (size, JSON, then fields)."""
    check_size(body)
    envelope = load_json(body)
    notification = validate(envelope)
    return replace(notification, digest=content_digest(envelope, notification.notification_id))


def content_digest(envelope: dict[str, Any], notification_id: str) -> str:
    """What a replay is told by: the digest of the envelope's content, its id in canonical form.

    The same notification sent again with its id in upper case, its keys in another order or other
    whitespace has the same digest (a duplicate); another amount or wallet does not (a replay).
    """
    canonical = json.dumps({**envelope, "webhook_id": notification_id}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
