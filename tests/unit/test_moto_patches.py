"""The local cloud's one fix to moto: a transaction backs up its items, not whole tables, and still
rolls back all of them when one fails (DynamoDB's all-or-nothing)."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from demo.localcloud.moto_server import MotoServer


@pytest.fixture(scope="module")
def dynamodb():
    server = MotoServer(port=0)  # installs the fix
    server.start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name="us-west-2",  # not the local cloud's region: nothing shared with its tables
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
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
    yield client, name
    server.stop()


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


def test_the_fix_is_installed(dynamodb):  # the local cloud's moto server installs it
    from moto.dynamodb.models import DynamoDBBackend

    from demo.localcloud import moto_patches

    assert DynamoDBBackend.transact_write_items is moto_patches.transact_write_items


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
