"""Rotating the processor signing secret on the local cloud: nothing is refused during the window,
and the old secret is refused once the window is over."""

from __future__ import annotations

from envelopes import payin

from demo.parties.client import BankApi


def test_during_the_window_both_secrets_sign_and_after_it_only_the_new_one(cloud, wallet):
    old = cloud.signing_secret
    with cloud.settings_changed():  # a fresh container: its cache holds the secret from before
        with BankApi(cloud.api_url, old) as before:
            assert before.send(payin(wallet, 100)).status_code == 202
        new = cloud.rotate_signing_secret(window_seconds=600)
        with BankApi(cloud.api_url, new) as processor, BankApi(cloud.api_url, old) as late:
            assert processor.send(payin(wallet, 200)).status_code == 202  # re-read on the miss
            assert late.send(payin(wallet, 300)).status_code == 202  # still in its window

    with cloud.settings_changed():
        newer = cloud.rotate_signing_secret(window_seconds=0)
        with BankApi(cloud.api_url, newer) as processor, BankApi(cloud.api_url, new) as late:
            assert processor.send(payin(wallet, 400)).status_code == 202
            refused = late.send(payin(wallet, 500))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_signature"
    cloud.wait_until_drained()
