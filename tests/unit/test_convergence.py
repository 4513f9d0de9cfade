"""The heart of the suite: the ledger converges.

For any set of distinct notifications, delivered in any order and with any number of
duplicates, the final balances are the same, and equal to what the set itself says (computed
here by a formula over the set, not by the ledger).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from demo.bank import service
from demo.bank.memory import InMemoryLedger
from demo.bank.notifications import parse

WALLETS = ["w-1", "w-2"]
AUTHS = ["a-1", "a-2", "a-3"]
TYPES = ["payin.received", "card.authorization", "card.settlement", "card.reversal", "card.refund"]

amounts = st.integers(min_value=1, max_value=1_000_000)


@st.composite
def notification_sets(draw):
    """A list of distinct envelopes (distinct webhook ids) over a few wallets and authorizations."""
    specs = draw(
        st.lists(
            st.tuples(st.sampled_from(TYPES), st.sampled_from(WALLETS), st.sampled_from(AUTHS), amounts),
            max_size=25,
        )
    )
    envelopes = []
    for i, (webhook, wallet, auth, amount) in enumerate(specs):
        payload = {"wallet_id": wallet, "currency": "EUR"}
        if webhook != "card.reversal":
            payload["amount"] = amount
        if webhook.startswith("card.") and webhook != "card.refund":
            payload["authorization_id"] = auth
        if webhook == "card.authorization":
            payload["card"] = {"pan": "5488210000003691", "holder": "ALEX OAK"}
            payload["merchant"] = {"name": "Shop", "mcc": "5411"}
        envelopes.append(
            {
                "webhook": webhook,
                "webhook_id": str(uuid.UUID(int=i + 1)),
                "webhook_created_at": 1_764_412_800 + i,
                "object": "cardtransaction",
                "object_id": f"ct-{i}",
                "object_payload": payload,
            }
        )
    return envelopes


@st.composite
def deliveries(draw):
    """(the distinct set, the deliveries: a permutation of it with duplicates inserted anywhere)."""
    distinct = draw(notification_sets())
    order = draw(st.permutations(distinct))
    delivered = list(order)
    if distinct:
        for _ in range(draw(st.integers(min_value=0, max_value=15))):
            position = draw(st.integers(min_value=0, max_value=len(delivered)))
            delivered.insert(position, draw(st.sampled_from(distinct)))
    return distinct, delivered


def expected_balances(distinct):
    """Balances implied by the set alone: credits minus settlements; holds of open authorizations."""
    current = defaultdict(int)
    authorized = {}
    closed = set()
    for e in distinct:
        p = e["object_payload"]
        key = (p["wallet_id"], p.get("authorization_id"))
        match e["webhook"]:
            case "payin.received" | "card.refund":
                current[p["wallet_id"]] += p["amount"]
            case "card.settlement":
                current[p["wallet_id"]] -= p["amount"]
                closed.add(key)
            case "card.reversal":
                closed.add(key)
            case "card.authorization":
                authorized[key] = max(authorized.get(key, 0), p["amount"])
                current[p["wallet_id"]] += 0
    holds = defaultdict(int)
    for key, amount in authorized.items():
        if key not in closed:
            holds[key[0]] += amount
    touched = {e["object_payload"]["wallet_id"] for e in distinct}
    return {w: (current[w], holds[w]) for w in touched}


def final_balances(delivered):
    store = InMemoryLedger()
    for envelope in delivered:
        service.apply(store, parse(json.dumps(envelope).encode()))
    result = {}
    for wallet in WALLETS:
        balance = store.balance(wallet)
        if balance is not None:
            assert balance.authorized_balance == balance.current_balance - balance.authorizations
            result[wallet] = (balance.current_balance, balance.authorizations)
    return result


@settings(max_examples=300, deadline=None)
@given(deliveries())
def test_any_order_and_any_duplicates_give_the_balances_the_set_implies(case):
    distinct, delivered = case
    assert final_balances(delivered) == expected_balances(distinct)


@settings(max_examples=100, deadline=None)
@given(notification_sets(), st.randoms(use_true_random=False))
def test_two_different_deliveries_of_one_set_end_equal(distinct, rng):
    first = list(distinct)
    second = list(distinct) + list(distinct[: len(distinct) // 2])
    rng.shuffle(first)
    rng.shuffle(second)
    assert final_balances(first) == final_balances(second)
