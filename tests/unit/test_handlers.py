"""The Chalice handlers with in-memory adapters: thin, and Lambda-shaped in what they return."""

from __future__ import annotations

import json
import time

import pytest
from envelopes import payin

from demo.bank.memory import (
    InMemoryCardVault,
    InMemoryLedger,
    InMemoryPublisher,
    InMemoryQueue,
    InMemoryReviews,
    StaticSecrets,
)
from demo.bank.signature import sign
from demo.localcloud.cloud import load_chalice_app
from demo.localcloud.session import chalicelib_module


class FakeContainer:
    def __init__(self):
        self.ledger = InMemoryLedger()
        self.queue = InMemoryQueue()
        self.events = InMemoryPublisher()
        self.secrets = StaticSecrets("test-secret")
        self.reviews = self.review_workflow = InMemoryReviews(self.ledger)
        self.cards = InMemoryCardVault(self.ledger)
        self.requeue = None  # no outage in these tests (tests/unit/test_outages.py has them)
        self.settings = chalicelib_module("bootstrap").Settings(
            stage="unit", ledger_table="t", signing_secret_parameter="p", review_threshold_cents=10_000
        )


@pytest.fixture
def app_module(monkeypatch):
    module = load_chalice_app()
    fake = FakeContainer()
    monkeypatch.setattr(module, "container", lambda: fake)
    monkeypatch.setattr(module, "fake", fake, raising=False)
    return module


def sqs_event(*bodies):
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"rh-{i}",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:bank-notifications",
                "awsRegion": "eu-west-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_the_worker_reports_only_the_failed_records(app_module):
    event = sqs_event(
        json.dumps(payin("w-1", 100)), "not json", json.dumps(payin("w-1", 50)), '{"webhook": 1}'
    )
    result = app_module.apply_notifications(event, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-3"}]}
    assert app_module.fake.ledger.balance("w-1").current_balance == 150


def test_a_fully_successful_batch_reports_no_failure(app_module):
    assert app_module.apply_notifications(sqs_event(json.dumps(payin("w-1", 1))), None) == {
        "batchItemFailures": []
    }


def post(app_module, body, secret):
    """POST through Chalice's test client, signed with ``secret``."""
    from chalice.test import Client

    headers = {"Content-Type": "application/json", "Bank-Signature": sign(secret, body, int(time.time()))}
    with Client(app_module.app) as client:
        return client.http.post("/notifications", body=body, headers=headers)


def test_the_ingress_enqueues_the_verified_body(app_module):
    body = json.dumps(payin("w-1", 100)).encode()
    response = post(app_module, body, "test-secret")
    assert response.status_code == 202
    [(notification, raw)] = app_module.fake.queue.items
    assert raw == body.decode() and notification.amount == 100


def test_the_ingress_enqueues_nothing_on_a_bad_signature(app_module):
    response = post(app_module, json.dumps(payin("w-1", 100)).encode(), "wrong")
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "invalid_signature"
    assert app_module.fake.queue.items == []


def test_the_worker_publishes_the_events_of_what_it_applied(app_module):
    app_module.apply_notifications(sqs_event(json.dumps(payin("w-1", 100))), None)
    assert [e.type for e in app_module.fake.events.events] == ["BalanceUpdated"]


def test_retry_delays_double_up_to_their_cap():
    from chalicelib.webhooks import retry_delay

    assert [retry_delay(n, base=30, cap=900) for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert retry_delay(40, base=30, cap=10**9) == 43_200  # SQS's 12-hour maximum


def bus_event(detail_type, detail):
    """An EventBridge event as an SQS target receives it."""
    return json.dumps({"detail-type": detail_type, "source": "bank.ledger", "detail": detail})


def test_the_review_desk_starts_a_review_once_and_files_its_token(app_module):
    from demo.bank.reviews import ReviewRequest

    request = ReviewRequest("rv-" + "a" * 32, "n-1", "w-1", "payin.received", 2_000_000, "EUR")
    flagged = bus_event("LargePaymentFlagged", {"payload": request.to_dict()})
    event = sqs_event(flagged, flagged, bus_event("BalanceUpdated", {}))
    assert app_module.review_desk(event, None) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    desk = app_module.fake.reviews
    assert desk.started == [request.review_id]
    filed = bus_event("ReviewRequested", {"review_id": request.review_id, "task_token": "token-2"})
    app_module.review_desk(sqs_event(filed), None)
    assert desk.review(request.review_id).task_token == "token-2"


def test_a_decision_goes_through_the_route_and_a_bad_one_gets_its_error(app_module):
    from chalice.test import Client

    from demo.bank.reviews import ReviewRequest

    request = ReviewRequest("rv-" + "b" * 32, "n-2", "w-2", "payin.received", 2_000_000, "EUR")
    app_module.fake.reviews.start(request)
    url = f"/reviews/{request.review_id}/decision"
    headers = {"Content-Type": "application/json"}
    with Client(app_module.app) as client:
        bad = client.http.post(url, body=json.dumps({"decision": "reject"}), headers=headers)
        good = client.http.post(url, body=json.dumps({"decision": "approve"}), headers=headers)
        listed = client.http.get("/reviews?status=approved")
    assert bad.status_code == 422 and json.loads(bad.body)["error"]["fields"][0]["field"] == "reason"
    assert good.status_code == 202 and json.loads(good.body)["decision"] == "approve"
    [approved] = json.loads(listed.body)["reviews"]
    assert approved["review_id"] == request.review_id and "task_token" not in approved
