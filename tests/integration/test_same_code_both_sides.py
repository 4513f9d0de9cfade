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


def _post(url: str, body: object, headers: dict[str, str], then: str = "/health") -> list[tuple[int, dict]]:
    """POST ``body`` (bytes, or an iterable of chunks: sent chunked), then GET ``then`` on the same
    connection; both answers."""
    import http.client
    import json
    from urllib.parse import urlparse

    where = urlparse(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        conn.request(
            "POST", "/notifications", body=body, headers=headers, encode_chunked=not isinstance(body, bytes)
        )
        first = conn.getresponse()
        answers = [(first.status, json.loads(first.read() or b"{}"))]
        if first.getheader("Connection", "").lower() != "close":
            conn.request("GET", then)
            second = conn.getresponse()
            answers.append((second.status, json.loads(second.read() or b"{}")))
        return answers
    finally:
        conn.close()


def test_both_systems_read_a_chunked_body_and_refuse_an_empty_content_type(cloud, tmp_path):
    """One behaviour on both, as API Gateway's: a chunked body is read (and the connection goes on);
    no Content-Type is JSON, an empty one is refused (415)."""
    import time

    from envelopes import payin

    from demo.bank.signature import SIGNATURE_HEADER, sign
    from demo.parties.client import encode

    with (
        FintechClient(port=0, control_port=0) as client,
        Monolith(port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3") as monolith,
    ):
        for url, secret in ((monolith.url, monolith.signing_secret), (cloud.api_url, cloud.signing_secret)):
            envelope = payin(f"chunked-{uuid.uuid4().hex[:8]}", 700)
            body = encode(envelope)
            signed = {
                SIGNATURE_HEADER: sign(secret, body, int(time.time())),
                "Content-Type": "application/json",
            }
            answers = _post(url, iter([body[:10], body[10:40], body[40:]]), signed)
            assert answers[0] == (202, {"notification_id": envelope["webhook_id"], "status": "accepted"}), url
            if url == cloud.api_url:  # kept alive (the monolith's server closes every connection)
                assert [status for status, _ in answers[1:]] == [200], "the chunks were read as a request"
            status, answer = _post(url, body, signed | {"Content-Type": ""})[0]
            assert (status, answer["error"]["code"]) == (415, "unsupported_media_type"), url
