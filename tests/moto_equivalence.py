"""The same AWS requests against moto, with or without the local cloud's fixes: their answers.

Run by tests/unit/test_moto_patches.py in two fresh interpreters (the fixes patch moto's classes
for a whole process): ``python tests/moto_equivalence.py 0`` (moto as released) and ``... 1``
(demo.localcloud.moto_patches applied). Each prints one JSON document; the test compares them.
What is random by design (ids, receipt handles, clock readings) is replaced by its kind.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

REGION = "eu-west-1"
RANDOM_KEYS = {
    "MessageId",
    "ReceiptHandle",
    "RequestId",
    "EventId",
    "HTTPHeaders",
    "id",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "SentTimestamp",
    "ApproximateFirstReceiveTimestamp",
    "QueueUrl",
    "QueueUrls",
    "CreationDateTime",
    "LatestStreamLabel",
}


def normal(value: Any) -> Any:
    """``value`` with its random parts named, not shown; JSON strings parsed (event bodies)."""
    if isinstance(value, dict):
        found = {k: (f"<{k}>" if k in RANDOM_KEYS else normal(v)) for k, v in sorted(value.items())}
        if isinstance(value.get("Body"), str) and "MD5OfBody" in value:  # the body holds an id
            found["MD5OfBody"] = value["MD5OfBody"] == hashlib.md5(value["Body"].encode()).hexdigest()
        return found
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, datetime):
        return "<datetime>"
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return {"json": normal(json.loads(value))}
        except ValueError:
            return value
    return value


def answers() -> list[Any]:
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    found: list[Any] = []

    def call(client: Any, operation: str, **kwargs: Any) -> Any:
        try:
            response = getattr(client, operation)(**kwargs)
        except ClientError as error:
            found.append(
                [
                    operation,
                    "error",
                    normal(error.response.get("Error")),
                    normal(
                        {k: v for k, v in error.response.items() if k not in ("Error", "ResponseMetadata")}
                    ),
                ]
            )
            return None
        found.append([operation, normal({k: v for k, v in response.items() if k != "ResponseMetadata"})])
        return response

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = "equivalence"
        call(
            dynamodb,
            "create_table",
            TableName=table,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        new = "attribute_not_exists(pk)"
        item = {
            "pk": {"S": "W#1"},
            "sk": {"S": "WALLET"},
            "v": {"N": "1"},
            "b": {"N": "100"},
            "m": {"M": {"x": {"L": [{"S": 'é"\n'}, {"BOOL": True}, {"NULL": True}]}}},
        }
        call(dynamodb, "put_item", TableName=table, Item=item, ConditionExpression=new)
        call(dynamodb, "put_item", TableName=table, Item=item, ConditionExpression=new)  # refused
        call(
            dynamodb,
            "put_item",
            TableName=table,
            Item=item,
            ConditionExpression="v = :v",
            ExpressionAttributeValues={":v": {"N": "7"}},
        )
        call(
            dynamodb,
            "get_item",
            TableName=table,
            Key={"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
            ConsistentRead=True,
        )
        call(dynamodb, "get_item", TableName=table, Key={"pk": {"S": "W#9"}, "sk": {"S": "WALLET"}})
        for _ in range(2):  # the same expression twice: parsed once with the fixes
            call(
                dynamodb,
                "update_item",
                TableName=table,
                Key={"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
                UpdateExpression="ADD n :one SET #b = #b + :amount, tags = list_append(if_not_exists(tags, :empty), :tag)",
                ConditionExpression="attribute_exists(pk) AND #b >= :zero",
                ExpressionAttributeNames={"#b": "b"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":amount": {"N": "25"},
                    ":zero": {"N": "0"},
                    ":empty": {"L": []},
                    ":tag": {"L": [{"S": "t"}]},
                },
                ReturnValues="ALL_NEW",
            )
        call(
            dynamodb,
            "update_item",
            TableName=table,
            Key={"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
            UpdateExpression="SET #b = #b - :amount",
            ConditionExpression="#b >= :amount",
            ExpressionAttributeNames={"#b": "b"},
            ExpressionAttributeValues={":amount": {"N": "100000"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        call(
            dynamodb,
            "update_item",
            TableName=table,
            Key={"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
            UpdateExpression="SET b = :x",
        )  # value missing
        call(
            dynamodb,
            "update_item",
            TableName=table,
            Key={"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
            UpdateExpression="SET b = = :x",
            ExpressionAttributeValues={":x": {"N": "1"}},
        )  # syntax
        version = {"#v": "v"}
        for expected in ("1", "1", "2"):  # a versioned transaction: applied, then refused, then applied
            call(
                dynamodb,
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {**item, "v": {"N": str(int(expected) + 1)}},
                            "ConditionExpression": "#v = :v",
                            "ExpressionAttributeNames": version,
                            "ExpressionAttributeValues": {":v": {"N": expected}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"pk": {"S": "W#1"}, "sk": {"S": f"SEEN#{expected}"}},
                            "ConditionExpression": new,
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "W#3"}, "sk": {"S": "WALLET"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
            )
        call(
            dynamodb,
            "transact_write_items",
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "W#2"}, "sk": {"S": "A"}}}},
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "W#2"}, "sk": {"S": "A"}}}},
            ],
        )
        call(
            dynamodb,
            "transact_write_items",
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": "no-such-table", "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}}}},
            ],
        )
        ok = {"pk": {"S": "W#4"}, "sk": {"S": "A"}}
        refused = {"Put": {"TableName": table, "Item": item, "ConditionExpression": new}}
        for puts in (  # transactions of Puts and checks only, each refused in its own way
            [{"Put": {"TableName": table, "Item": ok}}, {"Put": {"TableName": "no-such-table", "Item": ok}}],
            [{"Put": {"TableName": table, "Item": ok}}, {"Put": {"TableName": table, "Item": ok}}],
            [refused, {"Put": {"TableName": table, "Item": {"pk": {"N": "1"}, "sk": {"S": "A"}}}}],
            [{"Put": {"TableName": table, "Item": {"pk": {"S": "W#5"}}}}, refused],
            [refused, {"Put": {"TableName": table, "Item": {**ok, "z": {"NULL": False}}}}],
            [refused, {"Put": {"TableName": table, "Item": {"pk": {"S": "W#6"}, "sk": {"S": "x" * 2000}}}}],
            [
                {"Put": {"TableName": table, "Item": ok}},
                {"ConditionCheck": {"TableName": table, "Key": ok, "ConditionExpression": new}},
            ],
            [{"Put": {"TableName": table, "Item": ok, "ConditionExpression": new}}, refused],
        ):
            call(dynamodb, "transact_write_items", TransactItems=puts)
        call(dynamodb, "get_item", TableName=table, Key=ok)  # written by none of them
        call(
            dynamodb,
            "batch_write_item",
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": "W#1"}, "sk": {"S": f"AUDIT#{i}"}, "e": {"S": f"e{i}"}}
                        }
                    }
                    for i in range(5)
                ]
            },
        )
        call(
            dynamodb,
            "batch_get_item",
            RequestItems={
                table: {
                    "Keys": [
                        {"pk": {"S": "W#1"}, "sk": {"S": "WALLET"}},
                        {"pk": {"S": "W#1"}, "sk": {"S": "AUDIT#3"}},
                        {"pk": {"S": "W#0"}, "sk": {"S": "X"}},
                    ],
                    "ConsistentRead": True,
                }
            },
        )
        call(
            dynamodb,
            "query",
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            FilterExpression="e <> :e",
            ExpressionAttributeValues={":pk": {"S": "W#1"}, ":a": {"S": "AUDIT#"}, ":e": {"S": "e2"}},
            Limit=3,
            ScanIndexForward=False,
        )
        call(dynamodb, "scan", TableName=table, FilterExpression="attribute_exists(e)", Select="COUNT")

        sqs = boto3.client("sqs", region_name=REGION)
        dlq = call(sqs, "create_queue", QueueName="equivalence-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
        queue = call(
            sqs,
            "create_queue",
            QueueName="equivalence",
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "30"},
        )["QueueUrl"]
        call(
            sqs,
            "send_message",
            QueueUrl=queue,
            MessageBody="one",
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "a"}},
        )
        call(
            sqs,
            "send_message_batch",
            QueueUrl=queue,
            Entries=[{"Id": str(i), "MessageBody": f"batch {i}"} for i in range(3)],
        )
        call(sqs, "send_message", QueueUrl=queue, MessageBody="later", DelaySeconds=60)
        call(sqs, "get_queue_attributes", QueueUrl=queue, AttributeNames=["All"])
        call(
            sqs,
            "get_queue_attributes",
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
        )
        call(sqs, "get_queue_attributes", QueueUrl=queue, AttributeNames=["NoSuchAttribute"])
        first = call(
            sqs,
            "receive_message",
            QueueUrl=queue,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        call(sqs, "get_queue_attributes", QueueUrl=queue, AttributeNames=["All"])
        handles = [m["ReceiptHandle"] for m in first["Messages"]]
        call(sqs, "change_message_visibility", QueueUrl=queue, ReceiptHandle=handles[0], VisibilityTimeout=0)
        call(sqs, "delete_message", QueueUrl=queue, ReceiptHandle=handles[1])
        call(
            sqs,
            "delete_message_batch",
            QueueUrl=queue,
            Entries=[{"Id": "x", "ReceiptHandle": handles[2]}, {"Id": "y", "ReceiptHandle": "not-a-handle"}],
        )
        call(sqs, "delete_message", QueueUrl=queue, ReceiptHandle="not-a-handle")
        for _ in range(2):  # the message made visible again: received a second time, then dead-lettered
            again = call(
                sqs,
                "receive_message",
                QueueUrl=queue,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["All"],
            )
            for message in again.get("Messages", []):
                sqs.change_message_visibility(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        call(
            sqs, "receive_message", QueueUrl=dlq, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        )
        call(sqs, "get_queue_attributes", QueueUrl=dlq, AttributeNames=["All"])

        events = boto3.client("events", region_name=REGION)
        targets = {}
        for name in ("default", "path", "transformer"):
            url = sqs.create_queue(QueueName=f"equivalence-{name}")["QueueUrl"]
            targets[name] = (
                url,
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
            )
        call(
            events,
            "put_rule",
            Name="equivalence",
            EventPattern=json.dumps({"source": ["bank.ledger"], "detail-type": [{"prefix": "Balance"}]}),
        )
        call(
            events,
            "put_targets",
            Rule="equivalence",
            Targets=[
                {"Id": "default", "Arn": targets["default"][1]},
                {"Id": "path", "Arn": targets["path"][1], "InputPath": "$.detail"},
                {
                    "Id": "transformer",
                    "Arn": targets["transformer"][1],
                    "InputTransformer": {
                        "InputPathsMap": {"s": "$.source", "t": "$.detail-type"},
                        "InputTemplate": '{"source": "<s>", "type": "<t>"}',
                    },
                },
            ],
        )
        at = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
        call(
            events,
            "put_events",
            Entries=[
                {
                    "Source": "bank.ledger",
                    "DetailType": "BalanceUpdated",
                    "Detail": json.dumps(
                        {"wallet_id": "w-1", "balance": 125, "nested": {"a": [1, 2.5, None]}}
                    ),
                    "Time": at,
                    "Resources": ["arn:aws:bank:eu-west-1:1:wallet/w-1"],
                },
                {
                    "Source": "bank.ledger",
                    "DetailType": "BalanceUpdated",
                    "Detail": json.dumps({"wallet_id": 'w-"2"\\', "note": "é\n\t"}),
                    "Time": at,
                    "Resources": ["arn:aws:x:1", 'odd "one"'],
                },
                {"Source": "bank.ledger", "DetailType": "BalanceUpdated", "Detail": "{}", "Time": at},
                {
                    "Source": "bank.ledger",
                    "DetailType": "CardTransactionUpdated",
                    "Detail": json.dumps({"wallet_id": "w-1"}),
                    "Time": at,
                },
                {
                    "Source": "other",
                    "DetailType": "BalanceUpdated",
                    "Detail": json.dumps({"wallet_id": "w-3"}),
                    "Time": at,
                },
                {"Source": "bank.ledger", "DetailType": "BalanceUpdated", "Detail": "not json", "Time": at},
            ],
        )
        for url, _ in targets.values():
            call(sqs, "receive_message", QueueUrl=url, MaxNumberOfMessages=10)
    return found


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    if sys.argv[1:] == ["1"]:
        sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
        from demo.localcloud import moto_patches

        moto_patches.apply()
    print(json.dumps(answers(), sort_keys=True, default=str))


if __name__ == "__main__":
    main()
