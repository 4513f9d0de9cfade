"""A card number typed where none belongs (a merchant's name, a review's reason) is kept masked."""

from __future__ import annotations

import json
import random

from envelopes import authorization
from hypothesis import given
from hypothesis import strategies as st

from demo.bank import reviews, service
from demo.bank.memory import InMemoryLedger, InMemoryPublisher
from demo.bank.notifications import parse
from demo.bank.pan import _CANDIDATE, is_luhn, mask_card_numbers
from demo.parties.processor import luhn_pan


def _luhn_runs(text: str) -> list[str]:
    runs = (m.group().replace(" ", "").replace("-", "") for m in _CANDIDATE.finditer(text))
    return [r for r in runs if 13 <= len(r) <= 19 and is_luhn(r)]


@given(st.randoms(), st.text(alphabet="abc ,.", max_size=8), st.sampled_from(["", " ", "-"]))
def test_no_luhn_valid_card_number_survives_in_a_free_text(rng: random.Random, around: str, separator: str):
    pan = luhn_pan(rng, prefix=rng.choice(["411111", "548821", "378282"]))
    typed = separator.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    masked = mask_card_numbers(f"{around}{typed}{around}")
    assert not _luhn_runs(masked)
    assert pan not in masked.replace(" ", "").replace("-", "")
    assert masked.startswith(around) and masked.endswith(pan[-4:] + around)


def test_other_digit_runs_are_kept_as_typed():
    for text in ("call 0612345678", "order 1234567890123", "5488-2100-0000-3692", "12 rue de la Paix"):
        assert not _luhn_runs(text)
        assert mask_card_numbers(text) == text


def test_a_card_number_in_the_merchant_name_or_a_reason_is_never_kept_in_clear():
    pan = luhn_pan(random.Random(7))
    envelope = authorization("w-pan", "a-pan", 1_000)
    envelope["object_payload"]["merchant"]["name"] = f"Cafe {pan}"
    notification = parse(json.dumps(envelope).encode())
    assert pan not in notification.merchant.name
    publisher = InMemoryPublisher()
    service.apply(InMemoryLedger(), notification)
    service.apply_and_publish(InMemoryLedger(), publisher, notification, now=1)
    assert publisher.events and pan not in repr([e.payload for e in publisher.events])
    decision = reviews.parse_decision(json.dumps({"decision": "reject", "reason": f"card {pan}"}).encode())
    assert pan not in decision.reason and decision.reason.endswith(pan[-4:])
