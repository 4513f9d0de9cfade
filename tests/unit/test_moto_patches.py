"""The local cloud's fixes to moto: a transaction backs up its items, not whole tables, and still
rolls back all of them when one fails (DynamoDB's all-or-nothing); a queue reads the clock once
per pass and still counts, hides, delays, deletes and dead-letters its messages as SQS does.
And every other fix answers every request as moto does: the same requests, in two interpreters
(tests/moto_equivalence.py), get the same answers with and without them.
(How much faster they are is measured by benchmarks/moto_fixes.py, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from demo.localcloud.moto_server import MotoServer


@pytest.fixture(scope="module")
def server():
    server = MotoServer(port=0)  # installs the fixes
    server.start()
    yield server
    server.stop()


def client_of(server, service):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-west-2",  # not the local cloud's region: nothing shared with its tables and queues
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture(scope="module")
def dynamodb(server):
    client = client_of(server, "dynamodb")
    name = f"patch-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client, name


def put(table, pk, condition=True):
    op = {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": "S"}}}
    if condition:
        op["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": op}


def add(table, pk, amount):
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": pk}, "sk": {"S": "S"}},
            "UpdateExpression": "ADD n :a",
            "ExpressionAttributeValues": {":a": {"N": str(amount)}},
        }
    }


def get(client, table, pk):
    return client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "S"}}).get("Item")


def test_the_fixes_are_installed(server):  # the local cloud's moto server installs them
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import Queue, SQSBackend

    from demo.localcloud import moto_patches

    assert DynamoDBBackend.transact_write_items is moto_patches.transact_write_items
    assert SQSBackend.get_queue_attributes is moto_patches.get_queue_attributes
    assert Queue.delete_message is moto_patches.delete_message
    assert Queue.messages.fget is moto_patches._messages


def test_a_transaction_applies_all_its_items(dynamodb):
    client, table = dynamodb
    client.transact_write_items(TransactItems=[put(table, "m-1"), add(table, "w-1", 5)])
    assert get(client, table, "m-1") is not None
    assert get(client, table, "w-1")["n"] == {"N": "5"}


def test_a_failed_condition_rolls_back_every_item_before_and_after_it(dynamodb):
    client, table = dynamodb
    client.transact_write_items(TransactItems=[put(table, "m-2"), add(table, "w-2", 7)])
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[add(table, "w-2", 100), put(table, "m-2"), put(table, "new-2", condition=False)]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    assert get(client, table, "w-2")["n"] == {"N": "7"}  # the update before the failure: undone
    assert get(client, table, "new-2") is None  # the put after it: undone


@pytest.fixture
def queues(server):
    sqs = client_of(server, "sqs")
    name = f"patch-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    return sqs, url, dlq


COUNTS = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def counts(sqs, url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]
    return [int(attributes[name]) for name in COUNTS]


def test_a_queue_counts_its_visible_in_flight_and_delayed_messages(queues):
    sqs, url, _ = queues
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"now-{i}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(sqs, url) == [5, 0, 1]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert len(received) == 2
    assert counts(sqs, url) == [3, 2, 1]
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert [int(everything[name]) for name in COUNTS] == [3, 2, 1]
    assert "RedrivePolicy" in everything
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert only == {"VisibilityTimeout": "30"}


def test_asking_for_an_unknown_attribute_is_refused(queues):
    sqs, url, _ = queues
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert raised.value.response["Error"]["Code"] == "InvalidAttributeName"


def test_a_received_message_is_hidden_a_delayed_one_waits_and_a_deleted_one_is_gone(queues):
    sqs, url, _ = queues
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.send_message(QueueUrl=url, MessageBody="first")
    (first,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert first["Body"] == "first"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])  # again: fine, as on SQS
    assert counts(sqs, url) == [0, 0, 1]


def test_a_message_made_visible_again_can_be_deleted_by_its_newest_or_an_older_handle(queues):
    sqs, url, _ = queues
    sqs.send_message(QueueUrl=url, MessageBody="again")
    (first,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    (second,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == [0, 0, 0]


def test_an_unknown_receipt_handle_is_refused_and_deletes_nothing(queues):
    sqs, url, _ = queues
    sqs.send_message(QueueUrl=url, MessageBody="stays")
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert counts(sqs, url) == [1, 0, 0]


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(queues):
    sqs, url, dlq = queues
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):  # maxReceiveCount 2: received twice, never deleted
        (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == "poison"


def test_a_second_server_hands_step_functions_back_when_it_stops(server):
    """A test's own moto server must not leave the session's Step Functions calling a dead port."""
    import os

    before = os.environ["MOTO_PORT"]
    second = MotoServer(port=0)
    second.start()
    assert os.environ["MOTO_PORT"] == str(second.port)
    second.stop()
    assert os.environ["MOTO_PORT"] == before


def test_the_fixes_answer_every_request_as_moto_does():
    script = Path(__file__).resolve().parents[1] / "moto_equivalence.py"
    runs = [
        subprocess.Popen([sys.executable, str(script), fixed], stdout=subprocess.PIPE, text=True)
        for fixed in ("0", "1")
    ]
    released, fixed = (json.loads(run.communicate(timeout=120)[0]) for run in runs)
    assert all(run.returncode == 0 for run in runs)
    assert len(released) > 40  # DynamoDB, SQS and EventBridge requests, with their errors
    assert {answer[0] for answer in released if answer[1] == "error"} >= {
        "put_item",
        "update_item",
        "transact_write_items",
        "delete_message",
        "get_queue_attributes",
    }
    for one, other in zip(released, fixed, strict=True):
        assert one == other


# -- an EventBridge rule's pattern matched on the fields it names: the same verdict as moto's ------

_names = st.sampled_from(["source", "detail-type", "detail", "a", "b", "wallet_id", "x.y", "resources"])
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["bank.ledger", "w-1", "", "B"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)),
    max_leaves=8,
)
_filters = st.lists(
    st.one_of(
        _scalars,
        st.fixed_dictionaries({"prefix": st.sampled_from(["bank", "w-", "Bal", ""])}),
        st.fixed_dictionaries({"exists": st.booleans()}),
        st.fixed_dictionaries({"anything-but": st.sampled_from(["w-1", "other"])}),
        st.fixed_dictionaries({"numeric": st.sampled_from([[">", 0], ["<=", 2]])}),
    ),
    min_size=1,
    max_size=3,
)
_patterns = st.recursive(
    st.dictionaries(_names, _filters, min_size=1, max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(_names, inner, min_size=1, max_size=2),
        st.fixed_dictionaries({"$or": st.lists(inner, min_size=1, max_size=3)}),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(pattern=_patterns, event=st.dictionaries(_names, _values, max_size=6))
def test_a_rule_pattern_matches_an_event_exactly_when_moto_says_it_does(pattern, event):
    from moto.events.models import EventPattern

    from demo.localcloud import moto_patches

    rule = EventPattern(json.dumps(pattern), pattern)
    try:
        expected = moto_patches._MATCHES_EVENT(rule, event)
    except Exception as error:  # a pattern moto cannot evaluate: the same error, not a verdict
        with pytest.raises(type(error)):
            moto_patches.matches_event(rule, event)
        return
    assert moto_patches.matches_event(rule, event) == expected


def test_the_base_event_message_copies_as_moto_copies_it_and_shares_nothing():
    import copy

    import moto.events.models as events_models

    from demo.localcloud import moto_patches

    moto_patches.apply()
    base = events_models._BASE_EVENT_MESSAGE
    assert isinstance(base, moto_patches._BaseEventMessage)
    one, other = copy.deepcopy(base), copy.deepcopy(dict(base))  # ours, and copy's own on the same dict
    assert one == other and type(one) is dict
    one["resources"].append("arn:x")
    one["detail"]["a"] = 1
    assert base["resources"] == [] and base["detail"] == {}  # the copy shares no list or dict
    assert copy.deepcopy(base)["resources"] == []
