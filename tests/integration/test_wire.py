"""The functions' wire answers as the HTTP endpoint does.

The local cloud's functions reach moto on a Unix socket (demo/localcloud/connection.py), their
requests handed to moto's handlers without HTTP (demo/localcloud/dispatch.py); the CLI and the
AWS CLI reach the same moto over HTTP. The same requests, one set over each way in (each on
resources of its own), must get the same answers: the same fields, values and errors, but for
what AWS draws anew each time (ids, receipt handles, dates).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from demo.localcloud.session import REGION

VOLATILE = {
    "MessageId",
    "ReceiptHandle",
    "RequestId",
    "EventId",
    "SentTimestamp",
    "ApproximateFirstReceiveTimestamp",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "CreationDateTime",
    "CreationDate",
    "KeyId",
    "Arn",
    "CiphertextBlob",
    "Plaintext",
    "TableId",
    "TableArn",
    "QueueArn",
    "HTTPHeaders",
    "RetryAttempts",
    "HostId",
}


def normal(value: Any, name: str) -> Any:
    """The answer with what differs by nature (drawn ids, dates, this side's resource names) masked."""
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE else normal(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v, name) for v in value]
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, str):
        return re.sub(r"\d{12}", "<account>", value.replace(name, "<name>"))
    return value


def answers(clients: dict[str, Any], name: str) -> list[Any]:
    found: list[Any] = []

    def call(service: str, operation: str, **params: Any) -> Any:
        try:
            answer = getattr(clients[service], operation)(**params)
        except ClientError as error:
            found.append((operation, "error", error.response["Error"].get("Code")))
            return None
        answer.pop("ResponseMetadata", {}).get("HTTPStatusCode")
        found.append((operation, normal(answer, name)))
        return answer

    url = call("sqs", "create_queue", QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    call("sqs", "send_message", QueueUrl=url, MessageBody=json.dumps({"é": "ü", "n": 1}), DelaySeconds=0)
    call(
        "sqs",
        "send_message",
        QueueUrl=url,
        MessageBody="with attributes",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "card"}},
    )
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
    call(
        "sqs",
        "receive_message",
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
        MessageAttributeNames=["All"],
    )
    call("sqs", "delete_message", QueueUrl=url, ReceiptHandle="not-a-handle")
    call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    call("sqs", "delete_queue", QueueUrl=url)

    call(
        "dynamodb",
        "create_table",
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {
        "pk": {"S": "w-1"},
        "v": {"N": "1"},
        "b": {"B": b"\x00\xff"},
        "m": {"M": {"x": {"L": [{"N": "2.5"}]}}},
    }
    call("dynamodb", "put_item", TableName=name, Item=item)
    call("dynamodb", "get_item", TableName=name, Key={"pk": {"S": "w-1"}}, ConsistentRead=True)
    call(
        "dynamodb",
        "transact_write_items",
        TransactItems=[
            {
                "Put": {
                    "TableName": name,
                    "Item": {**item, "v": {"N": "2"}},
                    "ConditionExpression": "v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "7"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ],
    )
    call(
        "dynamodb",
        "update_item",
        TableName=name,
        Key={"pk": {"S": "w-1"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    call("dynamodb", "put_item", TableName=name, Item={"pk": {"N": "1"}})  # the wrong key type
    call("dynamodb", "delete_table", TableName=name)

    call(
        "events",
        "put_events",
        Entries=[
            {"Source": "test.wire", "DetailType": "Nothing", "Detail": json.dumps({"side": "either"})},
            {"Source": "test.wire", "DetailType": "Nothing", "Detail": "not json"},
        ],
    )
    key = call("kms", "create_key", Description="wire test")["KeyMetadata"]["KeyId"]
    call("kms", "generate_data_key", KeyId=key, KeySpec="AES_256", EncryptionContext={"wallet_id": "w-1"})
    context = {"wallet_id": "w-1", "authorization_id": "a-1", "purpose": "card"}
    sealed = call(
        "kms", "encrypt", KeyId=key, Plaintext=b'{"pan": "5488210000003691"}', EncryptionContext=context
    )
    call("kms", "decrypt", CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context)
    call("kms", "decrypt", CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext={"wallet_id": "w-2"})
    call("kms", "describe_key", KeyId="alias/no-such-key")
    return found


@pytest.mark.timeout(120)
def test_the_wire_and_the_http_endpoint_give_the_same_answers(cloud):
    services = ("sqs", "dynamodb", "events", "kms")
    config = Config(retries={"mode": "standard", "max_attempts": 1})
    http = {
        s: boto3.client(
            s,
            endpoint_url=cloud.aws_endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=config,
        )
        for s in services
    }
    wire = {s: cloud.client(s) for s in services}
    one, other = (f"wire-{uuid.uuid4().hex[:8]}" for _ in range(2))
    by_http, by_wire = answers(http, one), answers(wire, other)
    assert len(by_http) >= 17
    assert {a[2] for a in by_http if a[1] == "error"} >= {
        "ReceiptHandleIsInvalid",
        "TransactionCanceledException",
        "ValidationException",
    }
    for over_http, over_wire in zip(by_http, by_wire, strict=True):
        assert over_wire == over_http
