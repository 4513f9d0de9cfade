"""A replay with another body, even correctly signed, changes nothing and tells the client nothing."""

from __future__ import annotations

from envelopes import payin
from polling import poll_until


def test_a_tampered_replay_is_refused_counted_and_never_published(cloud, api, wallet, fintech):
    counters = cloud.app_module.container().counters
    before = counters.read().get("replays_refused", 0)
    original = payin(wallet, 1_000)
    assert api.send(original).status_code == 202
    # Applied first: a standard queue keeps no order and the pollers run batches side by side, so
    # a tampered copy sent right behind it could be applied first (and the original refused).
    cloud.wait_until_drained()
    assert api.send(original).status_code == 202  # a redelivery: a duplicate, absorbed
    tampered = {**original, "object_payload": {**original["object_payload"], "amount": 900_000}}
    assert api.send(tampered).status_code == 202  # the ingress cannot tell without the ledger
    cloud.wait_until_drained()

    assert poll_until(lambda: counters.read().get("replays_refused", 0)) == before + 1
    assert api.balance(wallet)["current_balance"] == 1_000
    told = [
        h["payload"] for h in fintech.log()["webhooks"] if (h["payload"] or {}).get("wallet_id") == wallet
    ]
    assert told and all(p["current_balance"] == 1_000 for p in told)
