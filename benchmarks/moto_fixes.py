"""What the local cloud's fixes to moto buy (demo/localcloud/moto_patches/): time per call, with and without.

Not a test: it prints medians of measured times. Each variant runs in a fresh interpreter, without
a server or HTTP: the cost is moto's own. Depth 0 times whole requests through boto3 and moto's
request handling (parsing, backend, serialization) on a small table and queue; the other depths
time moto's backends alone, on a queue that deep and a table that big.

    python benchmarks/moto_fixes.py [--depths 1000,5000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

ACCOUNT, REGION = "123456789012", "eu-west-1"


def measure(depth: int, repeat: int) -> dict[str, float]:
    """Median milliseconds per call on a queue ``depth`` messages deep and a table ``depth`` items big."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    dlq = sqs.create_queue("bench-dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 5})
    sqs.create_queue("bench", RedrivePolicy=policy, VisibilityTimeout="30")
    for _ in range(depth):
        sqs.send_message("bench", "x" * 500, {}, delay_seconds=0)
    dynamodb = dynamodb_backends[ACCOUNT][REGION]
    dynamodb.create_table(
        "bench",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}],
        throughput=None,
        billing_mode="PAY_PER_REQUEST",
        indexes=None,
        global_indexes=None,
        streams=None,
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for i in range(depth):
        dynamodb.put_item("bench", {"pk": {"S": f"item-{i}"}, "n": {"N": "0"}})

    def timed(call: Any) -> float:
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    received: list[Any] = []
    counter = iter(range(10**9))
    return {
        "ReceiveMessage (10)": timed(lambda: received.extend(sqs.receive_message("bench", 10, 0, 30))),
        "DeleteMessage": timed(lambda: sqs.delete_message("bench", received.pop().receipt_handle)),
        "GetQueueAttributes (All)": timed(lambda: sqs.get_queue_attributes("bench", ["All"])),
        "SendMessage": timed(lambda: sqs.send_message("bench", "y", {}, delay_seconds=0)),
        "TransactWriteItems (2 items)": timed(
            lambda: dynamodb.transact_write_items(
                [
                    {"Put": {"TableName": "bench", "Item": {"pk": {"S": f"new-{next(counter)}"}}}},
                    {
                        "Update": {
                            "TableName": "bench",
                            "Key": {"pk": {"S": "item-0"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        ),
    }


def measure_requests(repeat: int) -> dict[str, float]:
    """Median milliseconds per request through boto3 and moto's request handling (in process, no
    HTTP): what the fixes to moto's parsing and serialization buy, the backends' work included."""
    import boto3
    from moto import mock_aws

    def timed(call: Any) -> float:
        call()  # once first: what is built once (clients, parsers) is not what is measured
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="requests",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        wallet = {"pk": {"S": "W#1"}, "v": {"N": "1"}, "balance": {"N": "0"}, "currency": {"S": "EUR"}}
        dynamodb.put_item(TableName="requests", Item=wallet)
        versions = iter(range(1, 10**9))
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="requests-target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = boto3.client("events", region_name=REGION)
        rules = {  # the bank's bus (demo/serverless/resources.yaml): three rules, two to this queue
            "webhooks": {
                "source": ["bank.ledger"],
                "detail-type": ["CardTransactionUpdated", "BalanceUpdated"],
            },
            "audit": {"source": ["bank.ledger"]},
            "reviews": {"source": ["bank.ledger", "bank.reviews"], "detail-type": ["LargePaymentFlagged"]},
        }
        for name, pattern in rules.items():
            events.put_rule(Name=name, EventPattern=json.dumps(pattern))
            events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
        detail = {  # about the size of a BalanceUpdated event's detail
            "event_id": "0" * 32,
            "occurred_at": 1_765_000_000,
            "wallet_id": "w-1",
            "balance": {"current_balance": 125_00, "authorizations": 0, "currency": "EUR", "version": 7},
            "notification": {"webhook": "payin.update", "webhook_id": "1" * 36, "amount": 25_00},
        }
        entries = [
            {
                "Source": "bank.ledger",
                "DetailType": "BalanceUpdated",
                "Detail": json.dumps({**detail, "wallet_id": f"w-{i}"}),
            }
            for i in range(10)
        ]

        def versioned_transaction() -> None:
            v = next(versions)
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "requests",
                            "Item": {**wallet, "v": {"N": str(v + 1)}},
                            "ConditionExpression": "v = :v",
                            "ExpressionAttributeValues": {":v": {"N": str(v)}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": "requests",
                            "Item": {"pk": {"S": f"SEEN#{v}"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )

        return {
            "GetItem (request)": timed(
                lambda: dynamodb.get_item(TableName="requests", Key={"pk": {"S": "W#1"}})
            ),
            "UpdateItem (request)": timed(
                lambda: dynamodb.update_item(
                    TableName="requests",
                    Key={"pk": {"S": "COUNTER"}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
            ),
            "TransactWriteItems (request)": timed(versioned_transaction),
            "PutEvents (10, 3 rules)": timed(lambda: events.put_events(Entries=entries)),
        }


def child(fixed: bool, depth: int, repeat: int) -> None:
    if fixed:
        from demo.localcloud import moto_patches

        moto_patches.apply()
    if depth == 0:
        print(json.dumps(measure_requests(repeat)))
        return
    print(json.dumps(measure(depth, repeat)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--depths", default="1000,5000", help="queue depths and table sizes (comma-separated)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="calls timed per figure (the median is shown)")
    parser.add_argument("--child", nargs=2, metavar=("FIXED", "DEPTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0] == "1", int(args.child[1]), args.repeat)
        return
    print(f"{'call':<30} {'depth':>6} {'moto 5.2 (ms)':>14} {'fixed (ms)':>11} {'faster':>8}")
    for depth in (0, *(int(d) for d in args.depths.split(","))):  # 0: whole requests, a small table
        results = []
        for fixed in ("0", "1"):
            command = [sys.executable, __file__, "--repeat", str(args.repeat), "--child", fixed, str(depth)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - this script
            results.append(json.loads(out.splitlines()[-1]))
        for call, before in results[0].items():
            after = results[1][call]
            print(
                f"{call:<30} {depth:>6} {before:>14.2f} {after:>11.2f} {before / after:>7.{0 if before / after >= 10 else 1}f}x"
            )


if __name__ == "__main__":
    main()
