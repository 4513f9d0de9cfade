"""The SQS worker and the DynamoDB ledger, on the embedded local cloud.

The pollers reproduce Lambda's SQS event source mapping: partial batch failures, retries after
the visibility timeout, and the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

import json
import threading

import pytest
from envelopes import authorization, payin, reversal, settlement
from polling import poll_until

from demo.bank import service
from demo.bank.ledger import decide
from demo.bank.notifications import parse
from demo.bank.ports import ConcurrentUpdate
from demo.localcloud.cloud import LOCAL_PARAMETERS
from demo.settings import SERVERLESS_PROJECT

FREEZE_WALLET = json.loads(
    (SERVERLESS_PROJECT / "statemachines" / "large-payment-review.asl.json").read_text()
)["States"]["FreezeWallet"]


@pytest.fixture
def ledger(cloud):
    from chalicelib.ledger_table import DynamoDBLedger

    return DynamoDBLedger(cloud.client("dynamodb"), cloud.outputs["LedgerTableName"])


def note(envelope):
    return parse(json.dumps(envelope).encode())


def received_from_dlq(sqs, dlq_url, body):
    """This test's message from the DLQ, the others (poison that earlier tests on this worker's
    local cloud left there on purpose) made visible again at once."""
    messages = sqs.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    for other in (m for m in messages if m["Body"] != body):
        sqs.change_message_visibility(
            QueueUrl=dlq_url, ReceiptHandle=other["ReceiptHandle"], VisibilityTimeout=0
        )
    return [m for m in messages if m["Body"] == body]


def test_one_poison_message_goes_to_the_dlq_and_its_batch_mates_are_applied(
    cloud, api, sqs, queue_url, dlq_url, wallet
):
    poison = json.dumps({"webhook": "payin.received", "object_payload": {"wallet_id": wallet}})
    good = [payin(wallet, 100), payin(wallet, 200)]
    failed_before = sum(p.failed_records for p in cloud.pollers)
    with cloud.paused():
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": "good-0", "MessageBody": json.dumps(good[0])},
                {"Id": "poison", "MessageBody": poison},
                {"Id": "good-1", "MessageBody": json.dumps(good[1])},
            ],
        )
    # the good ones are applied on the first receive, the poison one is retried...
    poll_until(lambda: (api.balance(wallet) or {}).get("current_balance") == 300)
    # ...and lands in the DLQ after maxReceiveCount receives (visibility timeout 2 s locally)
    max_receives = int(LOCAL_PARAMETERS["NotificationsMaxReceiveCount"])
    moved = poll_until(lambda: received_from_dlq(sqs, dlq_url, poison), timeout=60)
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=moved[0]["ReceiptHandle"])
    assert moved[0]["Body"] == poison
    assert int(moved[0]["Attributes"]["ApproximateReceiveCount"]) >= max_receives
    assert sum(p.failed_records for p in cloud.pollers) - failed_before == max_receives
    cloud.wait_until_drained()
    assert api.balance(wallet)["current_balance"] == 300


def test_the_worker_reports_a_handler_crash_by_leaving_the_batch(
    cloud, sqs, queue_url, monkeypatch, wallet, api
):
    """If the handler raises, nothing of the batch is deleted: it comes back after the timeout."""
    workers = [p for p in cloud.pollers if p.queue_url.endswith("/bank-notifications")]
    calls = []
    real = workers[0].handler

    def crash_once(event, context):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("the worker crashed")
        return real(event, context)

    for worker in workers:
        monkeypatch.setattr(worker, "handler", crash_once)
    with cloud.paused():
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(payin(wallet, 7)))
    cloud.wait_until_drained(timeout=30)
    assert len(calls) >= 2
    assert api.balance(wallet)["current_balance"] == 7


def test_the_ledger_transaction_commits_a_notification_once(ledger, wallet):
    entry = decide(note(payin(wallet, 500)))
    first = ledger.commit(entry, ledger.read(wallet, None), applied_at=1_000)
    assert first.applied and first.balance.current_balance == 500 and first.balance.version == 1
    again = ledger.commit(entry, ledger.read(wallet, None), applied_at=2_000)
    # the redelivery changes nothing and gets back, from the failed condition, what was kept
    assert not again.applied
    assert (again.balance, again.balance.version, again.applied_at) == (first.balance, 1, 1_000)
    assert ledger.balance(wallet).current_balance == 500


def test_the_ledger_refuses_a_stale_authorization_version(ledger, wallet):
    first = decide(note(authorization(wallet, "a-1", 900)))
    stale = decide(note(reversal(wallet, "a-1")))  # decided from the same (empty) read
    assert ledger.commit(first, ledger.read(wallet, "a-1"), applied_at=1).applied
    with pytest.raises(ConcurrentUpdate):
        ledger.commit(stale, ledger.read(wallet, None), applied_at=2)  # the wallet is current, a-1 is not
    assert ledger.balance(wallet).authorizations == 900


def test_a_refused_commit_brings_back_the_wallet_as_it_is_and_the_retry_reads_nothing(cloud, wallet):
    """Two warm environments on one wallet: the second's memory is stale. Its commit is refused,
    the refusal carries the balance and the authorization as they are now, and its retry
    commits from them without a read."""
    from chalicelib.ledger_table import DynamoDBLedger

    table = cloud.outputs["LedgerTableName"]
    one, other = (DynamoDBLedger(cloud.client("dynamodb"), table) for _ in range(2))
    service.apply(one, note(authorization(wallet, "a-1", 400)))
    service.apply(other, note(payin(wallet, 1_000)))  # other's own read: the wallet and a-1
    service.apply(one, note(payin(wallet, 50)))  # other remembers the wallet one version back
    service.apply(one, note(settlement(wallet, "a-1", 400)))  # ... and a-1 open
    reads = ("dynamodb.GetItem", "dynamodb.BatchGetItem")

    def counted():
        calls = cloud.aws_calls()
        return sum(calls.get(name, 0) for name in reads), calls.get("dynamodb.TransactWriteItems", 0)

    before = counted()
    stale = other.read(wallet, "a-1")
    entry = decide(note(reversal(wallet, "a-1")), stale.authorization, frozen=stale.frozen)
    with pytest.raises(ConcurrentUpdate):
        other.commit(entry, stale, applied_at=1)
    fresh = other.read(wallet, "a-1")  # from the refusal, not from DynamoDB
    assert (fresh.balance.current_balance, fresh.balance.version) == (1_050 - 400, 4)
    assert fresh.authorization.closed and fresh.authorization.version == 2
    assert other.commit(
        decide(note(reversal(wallet, "a-1")), fresh.authorization), fresh, applied_at=2
    ).applied
    assert counted() == (before[0], before[1] + 2)  # two transactions, no read
    assert other.balance(wallet).current_balance == 650


def test_the_ledger_refuses_a_commit_decided_before_the_review_workflow_froze_the_wallet(
    cloud, ledger, wallet
):
    service.apply(ledger, note(payin(wallet, 5_000)))
    read = ledger.read(wallet, "a-1")
    hold = decide(note(authorization(wallet, "a-1", 900)), read.authorization, frozen=read.frozen)
    freeze = FREEZE_WALLET["Parameters"]  # the state machine's own UpdateItem
    cloud.client("dynamodb").update_item(
        TableName=cloud.outputs["LedgerTableName"],
        Key={"pk": {"S": f"WALLET#{wallet}"}, "sk": {"S": "BALANCE"}},
        UpdateExpression=freeze["UpdateExpression"],
        ConditionExpression=freeze["ConditionExpression"],
        ExpressionAttributeValues={
            ":frozen": {"BOOL": True},
            ":review": {"S": "rv-1"},
            ":now": {"S": "now"},
            ":one": {"N": "1"},
        },
    )
    with pytest.raises(ConcurrentUpdate):
        ledger.commit(hold, read, applied_at=1)
    assert service.apply(ledger, note(authorization(wallet, "a-1", 900))) == service.Outcome.APPLIED
    after = ledger.balance(wallet)
    assert (after.frozen, after.authorizations) == (True, 0)  # decided again, knowing: refused
    assert ledger.read(wallet, "a-1").authorization.refused


def test_the_single_table_layout(cloud, ledger, wallet):
    envelope = authorization(wallet, "a-1", 900)
    service.apply(ledger, note(envelope))
    ddb = cloud.client("dynamodb")
    table = cloud.outputs["LedgerTableName"]
    items = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"WALLET#{wallet}"}},
    )["Items"]
    assert {i["sk"]["S"] for i in items} == {"BALANCE", "AUTH#a-1"}
    marker = ddb.get_item(
        TableName=table, Key={"pk": {"S": f"NOTIFICATION#{envelope['webhook_id']}"}, "sk": {"S": "SEEN"}}
    )
    assert marker["Item"]["wallet_id"]["S"] == wallet
    stored = json.dumps(items)
    assert "5488210000003691" not in stored and "ALEX OAK" not in stored  # the ledger keeps no card data


def test_concurrent_workers_on_one_wallet_and_one_authorization_converge(ledger, wallet):
    """Threads race on the same wallet and authorization: transactions and version checks keep it exact."""
    envelopes = [payin(wallet, 100) for _ in range(12)]
    envelopes += [authorization(wallet, "a-1", 400), settlement(wallet, "a-1", 450), reversal(wallet, "a-1")]
    envelopes += envelopes[:5]  # duplicates, racing their originals
    errors = []

    def work(envelope):
        try:
            service.apply(ledger, note(envelope))
        except Exception as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(e,)) for e in envelopes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    balance = ledger.balance(wallet)
    assert (balance.current_balance, balance.authorizations) == (1_200 - 450, 0)
