"""A notification id is one id whatever the letter case it comes in (issue: a payin applied twice).

A UUID is accepted in any case; the id that keys the "seen" marker, the events and the review is
its lower-case form, on both systems (they share ``demo.bank.notifications.parse``), and a
redelivery that differs only by the id's case, the keys' order or the whitespace is a duplicate,
not a replay.
"""

from __future__ import annotations

import json
import random

from envelopes import payin
from hypothesis import given
from hypothesis import strategies as st

from demo.bank import events, reviews, service
from demo.bank.memory import InMemoryLedger, InMemoryPublisher
from demo.bank.notifications import parse
from demo.bank.service import Outcome


def _cased(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, flips, strict=False))


@given(st.uuids(), st.lists(st.booleans(), min_size=36, max_size=36), st.randoms())
def test_any_casing_and_layout_of_one_notification_is_the_same_notification(uid, flips, rng: random.Random):
    envelope = payin("w-case", 100) | {"webhook_id": str(uid)}
    canonical = parse(json.dumps(envelope).encode())
    keys = list(envelope)
    rng.shuffle(keys)
    variant = {k: envelope[k] for k in keys} | {"webhook_id": _cased(str(uid), flips)}
    found = parse(json.dumps(variant, indent=rng.choice([None, 1, 4])).encode())
    assert found.notification_id == canonical.notification_id == str(uid)
    assert found.digest == canonical.digest  # a duplicate, not a replay
    assert reviews.review_id(found.notification_id) == reviews.review_id(canonical.notification_id)
    assert events.event_id(found.notification_id, "balance.updated") == events.event_id(
        canonical.notification_id, "balance.updated"
    )


def test_another_body_under_the_same_id_in_another_case_is_still_a_replay():
    envelope = payin("w-case", 100)
    other = envelope | {
        "webhook_id": envelope["webhook_id"].upper(),
        "object_payload": {**envelope["object_payload"], "amount": 900},
    }
    assert parse(json.dumps(other).encode()).digest != parse(json.dumps(envelope).encode()).digest


def test_a_payin_redelivered_with_its_id_in_upper_case_is_applied_once():
    store, publisher = InMemoryLedger(), InMemoryPublisher()
    envelope = payin("w-upper", 2_500)
    again = envelope | {"webhook_id": envelope["webhook_id"].upper()}
    outcomes = [
        service.apply_and_publish(store, publisher, parse(json.dumps(e).encode()), now=1_000)
        for e in (envelope, again)
    ]
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    balance = store.balance("w-upper")
    assert balance is not None and balance.current_balance == 2_500
    assert len({e.event_id for e in publisher.events}) == len(publisher.events) // 2  # the same events, twice
