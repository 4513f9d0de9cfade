"""Against the API on AWS, `bankdemo` signs the IAM-guarded routes with SigV4, and only those."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from demo.bank.signature import SIGNATURE_HEADER
from demo.parties.client import BankApi, NoAwsCredentials

AWS_API = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/api/"
KEY, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "a-session-token"


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    return monkeypatch


class Gateway:
    """Records each request; answers as the bank would."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/balance"):
            body = {"wallet_id": "w-1", "currency": "EUR", "current_balance": 0}
            return httpx.Response(200, json=body)
        if request.url.path.endswith("/reviews"):
            return httpx.Response(200, json={"reviews": []})
        return httpx.Response(202, json={"status": "accepted"})


def signature_checks_out(request: httpx.Request) -> bool:
    """Sign again what the gateway received, at the same time: the signatures must match."""
    again = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=request.content,
        headers={"host": request.url.netloc.decode(), "X-Amz-Date": request.headers["X-Amz-Date"]},
    )
    signer = SigV4Auth(Credentials(KEY, SECRET, TOKEN), "execute-api", "eu-west-1")
    again.context["timestamp"] = request.headers["X-Amz-Date"]
    signer.add_auth(again)
    return again.headers["Authorization"] == request.headers["Authorization"]


def test_the_balance_and_review_routes_are_signed_with_sigv4_for_the_api_s_region(credentials):
    gateway = Gateway()
    with BankApi(AWS_API, transport=httpx.MockTransport(gateway)) as api:
        assert api.balance("w-1")["wallet_id"] == "w-1"
        assert api.reviews("pending") == []
        api.decide("r-1", "reject", "a reason")
    assert [r.url.path for r in gateway.requests] == [
        "/api/wallets/w-1/balance",
        "/api/reviews",
        "/api/reviews/r-1/decision",
    ]
    for request in gateway.requests:
        authorization = request.headers["Authorization"]
        assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={KEY}/")
        assert "/eu-west-1/execute-api/aws4_request" in authorization
        assert request.headers["X-Amz-Security-Token"] == TOKEN
        assert signature_checks_out(request), request.url  # the query string and the body included
    assert json.loads(gateway.requests[2].content) == {"decision": "reject", "reason": "a reason"}


def test_the_processor_s_notification_and_the_health_check_are_not_signed_by_aws(credentials):
    gateway = Gateway()
    with BankApi(AWS_API, secret="processor-secret", transport=httpx.MockTransport(gateway)) as api:
        api.send({"webhook": "payin.received", "webhook_id": "n-1", "object_payload": {}})
        api.health()
    sent, health = gateway.requests
    assert [sent.url.path, health.url.path] == ["/api/notifications", "/api/health"]
    for request in (sent, health):
        assert "Authorization" not in request.headers and "X-Amz-Date" not in request.headers
    assert sent.headers[SIGNATURE_HEADER].startswith("t=")  # the processor's own HMAC


def test_the_local_cloud_and_the_monolith_get_no_aws_signature(credentials):
    gateway = Gateway()
    for url in ("http://127.0.0.1:8000", "http://localhost:8080/"):
        with BankApi(url, transport=httpx.MockTransport(gateway)) as api:
            api.balance("w-1")
    assert all("Authorization" not in r.headers for r in gateway.requests)


def test_without_aws_credentials_a_guarded_route_says_how_to_set_them_and_sends_nothing(credentials):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        credentials.delenv(name)
    gateway = Gateway()
    with (
        BankApi(AWS_API, transport=httpx.MockTransport(gateway)) as api,
        pytest.raises(NoAwsCredentials, match="aws configure"),
    ):
        api.balance("w-1")
    assert gateway.requests == []


def test_the_client_signs_exactly_the_routes_the_app_guards_with_iam():
    """`IAM_ROUTE` in demo/parties/client.py repeats what demo/serverless/app.py decides: they must agree."""
    from demo.localcloud.cloud import load_chalice_app
    from demo.parties.client import IAM_ROUTE

    app = load_chalice_app().app
    routes = [
        (path, entry.authorizer is not None)
        for path, methods in app.routes.items()
        for entry in methods.values()
    ]
    assert any(guarded for _, guarded in routes) and not all(guarded for _, guarded in routes)
    for path, guarded in routes:
        on_aws = "/api" + path.replace("{", "x-").replace("}", "")  # a placeholder filled in
        assert bool(IAM_ROUTE.search(on_aws)) == guarded, path
