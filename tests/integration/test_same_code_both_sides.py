"""The talk's point: the same domain code, before and after, gives the same balances."""

from __future__ import annotations

import uuid

from monolith_helpers import wait_until_drained

from demo.monolith import Monolith
from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient
from demo.parties.processor import generate


def test_one_seeded_stream_gives_identical_balances_on_the_monolith_and_on_lambda(cloud, tmp_path):
    stream = generate(120, seed=2026, wallets=5, wallet_prefix=f"same-{uuid.uuid4().hex[:8]}-")
    balances = {}
    with (
        FintechClient(port=0, control_port=0) as client,
        Monolith(port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3") as monolith,
        BankApi(monolith.url, monolith.signing_secret) as api,
    ):
        assert {api.send(e).status_code for e in stream.deliveries} == {202}
        wait_until_drained(monolith)
        balances["monolith"] = {w: api.balance(w) for w in stream.expected}
    with BankApi(cloud.api_url, cloud.signing_secret) as api:
        assert {api.send(e).status_code for e in stream.deliveries} == {202}
        cloud.wait_until_drained()
        balances["serverless"] = {w: api.balance(w) for w in stream.expected}
    assert balances["monolith"] == balances["serverless"]
    for wallet_id, expected in stream.expected.items():
        assert balances["serverless"][wallet_id]["authorized_balance"] == expected.authorized_balance


def test_a_notification_id_in_another_letter_case_is_a_duplicate_on_both_systems(cloud, tmp_path):
    """A UUID is accepted in any case: the same payin sent again with its id upper-cased is applied once."""
    from envelopes import payin

    wallet = f"case-{uuid.uuid4().hex[:8]}"
    first = payin(wallet, 4_200)
    variants = [first, first | {"webhook_id": first["webhook_id"].upper()}]
    with (
        FintechClient(port=0, control_port=0) as client,
        Monolith(port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3") as monolith,
        BankApi(monolith.url, monolith.signing_secret) as api,
    ):
        assert [api.send(e).status_code for e in variants] == [202, 202]
        wait_until_drained(monolith)
        assert api.balance(wallet)["current_balance"] == 4_200
        assert monolith.status()["worker_stats"]["duplicates"] >= 1
    with BankApi(cloud.api_url, cloud.signing_secret) as api:
        assert [api.send(e).status_code for e in variants] == [202, 202]
        cloud.wait_until_drained()
        assert api.balance(wallet)["current_balance"] == 4_200
