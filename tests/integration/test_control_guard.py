"""The local control endpoints take requests from programs on this machine, never from a web page."""

from __future__ import annotations

import httpx
import pytest

from demo.control_guard import refusal
from demo.monolith import Monolith
from demo.parties.fintech import FintechClient

BROWSER_FORM = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
REBOUND = {"Host": "evil.example:4566"}


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        ("POST", {"Host": "127.0.0.1:4566", "Content-Type": "application/json"}, False),
        ("POST", {"host": "localhost:8011"}, False),
        ("POST", {"Host": "[::1]:8080"}, False),
        ("POST", {"Host": "127.0.0.1:4566", **BROWSER_FORM}, True),
        ("POST", {"Host": "127.0.0.1:4566", "Origin": "null"}, True),  # a sandboxed page, a file://
        ("POST", {"Host": "127.0.0.1:4566", "Sec-Fetch-Site": "cross-site"}, True),
        ("POST", {"Host": "127.0.0.1:4566", "Sec-Fetch-Site": "none"}, False),  # typed in the address bar
        ("POST", REBOUND, True),
        ("GET", REBOUND, True),  # a rebound page could read the answer
        ("GET", {"Host": "127.0.0.1:4566", **BROWSER_FORM}, False),  # a browser cannot read it
    ],
)
def test_what_the_guard_refuses(method, headers, refused):
    assert (refusal(method, headers) is not None) is refused


def test_the_local_cloud_control_refuses_a_browser_and_moto_s_data_dump(cloud):
    url = f"{cloud.aws_endpoint}/_chaos"
    before = httpx.get(url).json()
    attack = httpx.post(url, content=b'{"target": "dynamodb", "mode": "down"}', headers=BROWSER_FORM)
    assert attack.status_code == 403 and attack.json()["error"]["code"] == "forbidden"
    assert httpx.get(url).json() == before  # nothing changed
    assert httpx.post(f"{url}/reset", headers={"Host": "evil.example"}).status_code == 403
    for path in ("/moto-api/data.json", "/moto-api/reset"):
        closed = httpx.request("GET" if path.endswith("json") else "POST", f"{cloud.aws_endpoint}{path}")
        assert closed.status_code == 404, path  # not exposed: the dump holds every secret and body
    assert httpx.post(f"{url}/reset").status_code == 200  # the CLI's own call goes through


def test_the_client_and_the_monolith_refuse_a_browser(tmp_path):
    with (
        FintechClient(port=0, control_port=0) as client,
        Monolith(port=0, client_url=client.webhook_url, db_path=tmp_path / "bank.sqlite3") as monolith,
    ):
        for url in (f"{client.control_url}/mode", f"{monolith.url}/_admin/faults/database-down"):
            attack = httpx.post(url, content=b'{"mode": "down"}', headers=BROWSER_FORM)
            assert attack.status_code == 403, url
        assert client.log()["mode"] == "up"
        assert monolith.status()["database"] == "up"
        assert (
            httpx.post(f"{client.control_url}/mode", json={"mode": "slow", "delay": 0.1}).status_code == 200
        )
