"""An outage is not the message's fault: the record goes back to its queue, delayed, and keeps its receives."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from envelopes import payin
from test_handlers import FakeContainer, bus_event, sqs_event

from demo.bank.reviews import ReviewRequest
from demo.localcloud.cloud import load_chalice_app
from demo.localcloud.session import chalicelib_module

outages = chalicelib_module("outages")


def client_error(status, code):
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetItem"
    )


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (client_error(503, "ServiceUnavailable"), True),
        (client_error(500, "InternalServerError"), True),
        (client_error(400, "ThrottlingException"), True),
        (client_error(400, "ProvisionedThroughputExceededException"), True),
        (client_error(500, "KMSInternalException"), True),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), True),
        (client_error(400, "ValidationException"), False),
        (client_error(400, "ConditionalCheckFailedException"), False),
        (client_error(403, "AccessDeniedException"), False),
        (KeyError("detail"), False),
        (ValueError("bad"), False),
        # PutEvents entries EventBridge refused: retryable (throttled, its own failure) or not
        (chalicelib_module("events").PublishFailed("not published", "ThrottlingException"), True),
        (chalicelib_module("events").PublishFailed("not published", "InternalFailure"), True),
        (chalicelib_module("events").PublishFailed("not published", "MalformedDetail"), False),
        (chalicelib_module("events").PublishFailed("not published", "AccessDeniedException"), False),
    ],
)
def test_an_outage_is_a_service_that_failed_not_a_request_that_was_wrong(error, outage):
    assert outages.is_outage(error) is outage


def test_the_delay_doubles_and_is_capped_by_the_stage_and_by_sqs():
    assert [outages.outage_delay(n, 1, 8) for n in range(6)] == [1, 2, 4, 8, 8, 8]
    assert outages.outage_delay(20, 10, 10_000) == 900  # SQS DelaySeconds: 15 minutes at most
    assert outages.outage_delay(0, 0.1, 8) == 1


class FakeSqs:
    def __init__(self, fail=None):
        self.sent = []
        self.fail = fail

    def get_queue_url(self, QueueName):
        return {"QueueUrl": f"http://sqs/{QueueName}"}

    def send_message(self, **kwargs):
        if self.fail:
            raise self.fail
        self.sent.append(kwargs)


def record(body="{}", retries=None, **attributes):
    message = sqs_event(body)["Records"][0]
    message["messageAttributes"] = {
        name: {"stringValue": value, "dataType": "String", "stringListValues": [], "binaryListValues": []}
        for name, value in attributes.items()
    }
    if retries is not None:
        message["messageAttributes"][outages.RETRIES_ATTRIBUTE] = {
            "stringValue": str(retries),
            "dataType": "Number",
        }
    return message


def test_a_requeued_record_keeps_its_body_and_attributes_and_counts_its_outages():
    sqs = FakeSqs()
    requeue = outages.OutageRequeue(sqs, base=1, cap=8, max_retries=5)
    assert requeue.later(record('{"a": 1}', notification_id="n-1")) == 1
    assert requeue.later(record('{"a": 1}', retries=3, notification_id="n-1")) == 8
    first, second = sqs.sent
    assert first["QueueUrl"] == "http://sqs/bank-notifications"
    assert first["MessageBody"] == '{"a": 1}'
    assert first["DelaySeconds"] == 1
    assert first["MessageAttributes"] == {
        "notification_id": {"DataType": "String", "StringValue": "n-1"},
        "outage_retries": {"DataType": "Number", "StringValue": "1"},
    }
    assert second["MessageAttributes"]["outage_retries"]["StringValue"] == "4"


def test_after_too_many_outages_a_record_takes_the_normal_path():
    sqs = FakeSqs()
    assert outages.OutageRequeue(sqs, 1, 8, max_retries=5).later(record(retries=5)) is None
    assert sqs.sent == []


class OutageAt:
    """A ledger that is down from the ``n``-th commit on."""

    def __init__(self, ledger, n, error):
        self._ledger, self._n, self._error, self.commits = ledger, n, error, 0

    def __getattr__(self, name):
        return getattr(self._ledger, name)

    def commit(self, entry, state, applied_at):
        self.commits += 1
        if self.commits >= self._n:
            raise self._error
        return self._ledger.commit(entry, state, applied_at)


@pytest.fixture
def worker(monkeypatch):
    module = load_chalice_app()
    fake = FakeContainer()
    fake.requeue = outages.OutageRequeue(FakeSqs(), 1, 8, 100)
    monkeypatch.setattr(module, "container", lambda: fake)
    return module, fake


def test_the_worker_puts_back_the_record_that_met_the_outage_and_the_rest_untried(worker):
    module, fake = worker
    fake.ledger = OutageAt(fake.ledger, 2, client_error(503, "ServiceUnavailable"))
    bodies = [json.dumps(payin("w-o", 100 * (i + 1))) for i in range(4)]
    result = module.apply_notifications(sqs_event(*bodies), None)
    assert result == {"batchItemFailures": []}  # nothing counts a receive against these records
    assert fake.ledger.commits == 2  # the third and fourth were not tried: the ledger is down
    assert [m["MessageBody"] for m in fake.requeue._client.sent] == bodies[1:]
    assert fake.ledger.balance("w-o").current_balance == 100


def test_poison_is_not_an_outage_it_fails_and_goes_the_way_of_the_dlq(worker):
    module, fake = worker
    result = module.apply_notifications(sqs_event("not json", json.dumps(payin("w-p", 5))), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert fake.requeue._client.sent == []
    assert fake.ledger.balance("w-p").current_balance == 5


def test_when_the_queue_itself_is_down_the_record_fails_and_sqs_redelivers_it(worker):
    module, fake = worker
    fake.requeue = outages.OutageRequeue(FakeSqs(fail=client_error(503, "ServiceUnavailable")), 1, 8, 100)
    fake.ledger = OutageAt(fake.ledger, 1, client_error(500, "InternalServerError"))
    result = module.apply_notifications(
        sqs_event(json.dumps(payin("w-q", 5)), json.dumps(payin("w-q", 6))), None
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}


def test_every_consumer_requeues_on_an_outage(worker):
    """The dispatcher, the audit writer and the review desk take the same path as the worker."""
    module, fake = worker
    detail = {
        "event_id": "e-1",
        "type": "BalanceUpdated",
        "notification_id": "n-1",
        "wallet_id": "w-1",
        "occurred_at": 1,
        "object": "wallet",
        "object_id": "w-1",
        "payload": {
            "wallet_id": "w-1",
            "current_balance": 1,
            "authorizations": 0,
            "authorized_balance": 1,
            "currency": "EUR",
        },
    }
    body = json.dumps({"detail-type": "BalanceUpdated", "source": "bank.ledger", "detail": detail})

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise client_error(503, "ServiceUnavailable")

            return fail

    request = ReviewRequest("rv-" + "b" * 32, "n-2", "w-1", "payin.received", 2_000_000, "EUR")
    flagged = bus_event("LargePaymentFlagged", {"payload": request.to_dict()})
    fake.reviews = fake.review_workflow = Down()
    fake.audit = chalicelib_module("audit").AuditTrail(Down(), "bank-audit")  # DynamoDB down
    for handler, message in ((module.write_audit, body), (module.review_desk, flagged)):
        fake.requeue._client.sent.clear()
        assert handler(sqs_event(message), None) == {"batchItemFailures": []}
        assert [m["MessageBody"] for m in fake.requeue._client.sent] == [message]


class ConflictingDynamoDB:
    """A DynamoDB client whose transactions are cancelled ``conflicts`` times with TransactionConflict
    (another transaction was in flight on the same items), then succeed."""

    exceptions = type(
        "Exceptions",
        (),
        {"TransactionCanceledException": type("TransactionCanceledException", (Exception,), {})},
    )

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.transactions = 0
        self.reads = 0

    def get_item(self, **_):
        self.reads += 1
        return {}

    def transact_write_items(self, TransactItems):
        self.transactions += 1
        if self.transactions <= self.conflicts:
            error = self.exceptions.TransactionCanceledException("Transaction cancelled")
            error.response = {
                "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]
                + [{"Code": "None"}] * (len(TransactItems) - 2)
            }
            raise error
        return {}


def test_a_transaction_conflict_is_a_concurrent_update_retried_not_a_poison_record():
    from demo.bank import notifications, service

    dynamodb = ConflictingDynamoDB(conflicts=2)
    ledger = chalicelib_module("ledger_table").DynamoDBLedger(dynamodb, "ledger")
    notification = notifications.parse(json.dumps(payin("w-conflict", 500)).encode())

    committed = service.commit(ledger, notification, now=1, pause=lambda seconds: None)

    assert committed.applied and committed.balance.current_balance == 500
    assert dynamodb.transactions == 3  # two conflicts, retried, then the commit
    assert dynamodb.reads == 3  # what it knew was forgotten: each retry read the wallet again


def test_after_too_many_conflicts_the_record_fails_with_a_concurrent_update():
    from demo.bank import notifications, service
    from demo.bank.ports import ConcurrentUpdate

    ledger = chalicelib_module("ledger_table").DynamoDBLedger(ConflictingDynamoDB(conflicts=99), "ledger")
    notification = notifications.parse(json.dumps(payin("w-conflict", 500)).encode())

    with pytest.raises(ConcurrentUpdate, match="after 3 attempts"):
        service.commit(ledger, notification, now=1, max_attempts=3, pause=lambda seconds: None)
