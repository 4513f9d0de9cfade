"""The monthly cost model of step 6: hand-checked arithmetic, the shape of the curves, the
break-even, the price file's provenance, the counts per notification against the code, the CLI."""

from __future__ import annotations

import datetime
import itertools
import json
import math
import re
from collections import Counter
from types import SimpleNamespace

import pytest
from envelopes import authorization, payin, refund, reversal, settlement
from typer.testing import CliRunner

from demo.aws import costs, usage
from demo.aws.cfn import load_template
from demo.bank import service
from demo.bank.events import events_for
from demo.bank.ledger import Balance
from demo.bank.notifications import parse
from demo.cli import app
from demo.cli.cost import parse_per_month
from demo.localcloud.session import chalicelib_module
from demo.parties import processor
from demo.settings import SERVERLESS_PROJECT

ENVELOPES = {
    usage.PAYIN: payin("w-1", 5_000),
    usage.CARD_AUTHORIZATION: authorization("w-1", "a-1", 1_250),
    usage.CARD_SETTLEMENT: settlement("w-1", "a-1", 1_250),
    usage.CARD_REVERSAL: reversal("w-1", "a-1"),
    usage.CARD_REFUND: refund("w-1", 300),
}
EXACT = usage.Assumptions(batch_window_seconds=0)  # one message a batch: easy to count by hand


def line(month, service, starts):
    [found] = [x for x in month.lines if x.service == service and x.item.startswith(starts)]
    return found


# --- The price file ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", costs.MONTHLY_SERVICES)
def test_every_price_says_where_and_when_it_comes_from(service):
    section = costs.prices()[service]
    assert section["source"].startswith("https://")
    assert datetime.date.fromisoformat(section["read_on"]) <= datetime.date(2026, 11, 29)
    assert section["note"].strip(), f"{service}: say how the figures were read"


def test_the_model_reads_no_service_the_file_does_not_date():
    sources = costs.price_sources()
    used = {"API Gateway", "Lambda", "SQS", "EventBridge", "DynamoDB", "KMS", "SSM", "CloudWatch"}
    assert {x.service for x in costs.serverless_monthly(1000).lines} == used
    assert set(sources) == set(costs.MONTHLY_SERVICES)


# --- Arithmetic, by hand ----------------------------------------------------------------------


def test_a_thousand_notifications_line_by_line():
    p = costs.prices()
    month = costs.serverless_monthly(1000, assumptions=EXACT)
    # 15% payins (1 event), 85% card notifications (2 events): 1.85 events a notification
    events = 1000 * 1.85
    assert line(month, "API Gateway", "REST").cost == pytest.approx(1000 * 3.50 / 1e6)
    assert line(month, "API Gateway", "REST").unit_price == pytest.approx(
        p["api_gateway"]["rest_per_million_tiers"][0][1] / 1e6
    )
    # Lambda: 1,000 ingress + 1,000 worker + 1,850 dispatcher + 1,850 audit invocations
    assert line(month, "Lambda", "invocations").quantity == pytest.approx(5700)
    assert line(month, "Lambda", "invocations").cost == pytest.approx(5700 * p["lambda"]["per_request"])
    # 50 ms ingress, 20 ms a consumer batch, 40 ms a notification, 60 ms a webhook, 10 ms an audit
    seconds = (1000 * 50 + 4700 * 20 + 1000 * 40 + events * 60 + events * 10) / 1000
    assert line(month, "Lambda", "duration").quantity == pytest.approx(seconds * 128 / 1024)
    assert line(month, "Lambda", "duration").cost == pytest.approx(
        seconds / 8 * p["lambda"]["per_gb_second_x86"]
    )
    sqs = p["sqs"]["per_request_standard"]
    assert line(month, "SQS", "bank-notifications").cost == pytest.approx((1000 + 2 * 1000) * sqs)
    assert line(month, "SQS", "bank-webhooks").cost == pytest.approx((2 * events + 4 * events) * sqs)
    # 4 queues x 5 pollers x one 20 s poll each, for 730 hours
    assert line(month, "SQS", "idle polls").cost == pytest.approx(4 * 5 * 730 * 3600 / 20 * sqs)
    assert line(month, "EventBridge", "custom").cost == pytest.approx(
        events * p["eventbridge"]["per_custom_event"]
    )
    assert line(month, "EventBridge", "delivery").cost == 0
    # WRU: transactions (2.77 items + 0.40 cards) x 2, audit 1.85, and the counter once a
    # dispatcher batch (one webhook a batch here) 1.85 = 10.04 a notification
    assert line(month, "DynamoDB", "writes").quantity == pytest.approx(1000 * 10.04)
    assert line(month, "DynamoDB", "writes").cost == pytest.approx(
        10040 * p["dynamodb"]["per_write_request_unit"]
    )
    # RRU: the balance, and the authorization for 77% (authorization, settlement, reversal)
    assert line(month, "DynamoDB", "consistent reads").quantity == pytest.approx(1770)
    stored = (1000 * (250 + 0.40 * (200 + 450)) + events * 800) / 1e9
    assert line(month, "DynamoDB", "storage").cost == pytest.approx(
        stored * p["dynamodb"]["storage_per_gb_month"]
    )
    assert line(month, "KMS", "customer-managed key").cost == p["kms"]["per_key_month"]
    assert line(month, "KMS", "requests").quantity == pytest.approx(400 + 20 * 730 * 12)
    assert line(month, "SSM", "standard").cost == 0
    assert line(month, "CloudWatch", "Logs ingestion").cost == pytest.approx(
        5700 * 400 / 1e9 * p["cloudwatch"]["logs_ingestion_per_gb"]
    )
    assert line(month, "CloudWatch", "alarms").cost == 0
    assert month.total == pytest.approx(sum(x.cost for x in month.lines))


def test_the_always_on_side_at_a_low_volume():
    ec2, mq = costs.prices()["ec2"], costs.prices()["amazon_mq"]
    hour, alb = ec2["instances"]["m5.large"], ec2["alb_per_hour"] * 730
    disks = 30 * ec2["ebs_gp3_per_gb_month"]
    lcu = 1000 / (730 * 3600) / 25 * 730 * ec2["alb_per_lcu_hour"]
    self_hosted = costs.always_on_monthly(1000, "self-hosted")
    assert self_hosted.total == pytest.approx(3 * (hour * 730 + disks) + alb + lcu)  # 2 app + 1 broker
    cluster = costs.always_on_monthly(1000, "self-hosted", cluster=True)
    assert cluster.total == pytest.approx(5 * (hour * 730 + disks) + alb + lcu)
    managed = costs.always_on_monthly(1000, "amazon-mq", cluster=True)
    broker = 3 * mq["instances"]["mq.m5.large"] * 730 + 20 * mq["rabbitmq_storage_per_gb_month"]
    assert managed.total == pytest.approx(2 * (hour * 730 + disks) + alb + lcu + broker)
    with pytest.raises(ValueError, match="broker"):
        costs.always_on_monthly(1000, "kafka")


def test_api_gateway_prices_by_tier():
    month = costs.serverless_monthly(10**9)
    assert line(month, "API Gateway", "REST").cost == pytest.approx(333e6 * 3.50 / 1e6 + 667e6 * 2.80 / 1e6)


def test_the_free_tier_comes_off_only_when_asked():
    paid, free = costs.serverless_monthly(10**5), costs.serverless_monthly(10**5, free_tier=True)
    assert free.total < paid.total
    assert line(free, "Lambda", "invocations").cost == 0  # under 1M requests
    assert line(free, "API Gateway", "REST").cost == 0
    assert line(free, "KMS", "customer-managed key").cost == 1.0  # keys are never free
    assert all(x.free == 0 for x in paid.lines)


def test_batches_fill_with_the_rate():
    assert costs.batch_size(1000) == pytest.approx(1.0, abs=1e-3)
    assert costs.batch_size(10**10) == usage.SQS_BATCH_SIZE


# --- The curves -------------------------------------------------------------------------------

VOLUMES = [round(10 ** (3 + i / 10)) for i in range(61)]  # 10^3 .. 10^9


@pytest.mark.parametrize("free_tier", [False, True])
def test_the_serverless_month_grows_with_the_volume(free_tier):
    totals = [costs.serverless_monthly(n, free_tier=free_tier).total for n in VOLUMES]
    assert all(a < b for a, b in itertools.pairwise(totals))


@pytest.mark.parametrize(("broker", "cluster"), [("self-hosted", False), ("amazon-mq", True)])
def test_the_always_on_month_is_flat_until_the_fleet_is_full(broker, cluster):
    a = usage.ASSUMPTIONS
    full = a.monolith_per_instance_per_second * (730 * 3600) / a.peak_to_average  # 43.8M a month
    assert costs.app_instances(1000) == costs.app_instances(full - 1) == 2
    assert costs.app_instances(full + 1) == 3
    assert costs.app_instances(10**9) == math.ceil(10**9 / full) + 1

    def fixed(n):  # everything but the load balancer's capacity units, which follow the traffic
        month = costs.always_on_monthly(n, broker, cluster=cluster)
        return month.total - line(month, "ELB", "capacity").cost

    assert fixed(1000) == pytest.approx(fixed(full - 1))
    hour = costs.prices()["ec2"]["instances"]["m5.large"] * 730 + 30 * 0.08
    assert fixed(full + 1) - fixed(full - 1) == pytest.approx(hour)
    totals = [costs.always_on_monthly(n, broker, cluster=cluster).total for n in VOLUMES]
    assert all(a <= b for a, b in itertools.pairwise(totals))


@pytest.mark.parametrize("broker", costs.BROKERS)
@pytest.mark.parametrize("cluster", [False, True])
def test_the_break_even_is_where_the_curves_cross(broker, cluster):
    found = costs.break_even(broker, cluster=cluster)
    assert found is not None and costs.LOW < found.notifications < costs.HIGH
    serverless = costs.serverless_monthly(found.notifications).total
    always_on = costs.always_on_monthly(found.notifications, broker, cluster=cluster).total
    assert serverless == pytest.approx(always_on, abs=0.01)
    assert (found.serverless, found.always_on) == (pytest.approx(serverless), pytest.approx(always_on))
    below, above = int(found.notifications * 0.9), int(found.notifications * 1.1)
    assert (
        costs.serverless_monthly(below).total < costs.always_on_monthly(below, broker, cluster=cluster).total
    )
    assert (
        costs.serverless_monthly(above).total > costs.always_on_monthly(above, broker, cluster=cluster).total
    )


def test_no_break_even_where_the_curves_do_not_cross():
    assert costs.break_even("self-hosted", high=10**6) is None
    assert costs.crossings("amazon-mq", cluster=True, low=10**3, high=10**7) == []


# --- The counts per notification, against the code --------------------------------------------


class FakeDynamoDB:
    """Just enough of a low-level DynamoDB client to count what the adapters call."""

    exceptions = SimpleNamespace(
        TransactionCanceledException=type("TransactionCanceledException", (Exception,), {}),
        ConditionalCheckFailedException=type("ConditionalCheckFailedException", (Exception,), {}),
    )

    def __init__(self):
        self.items = {}
        self.calls = Counter()
        self.transaction_sizes = []
        self.read_units = 0
        self.written = 0

    @staticmethod
    def _key(item):
        return (item["pk"]["S"], item["sk"]["S"])

    def get_item(self, TableName, Key, ConsistentRead=False):
        assert ConsistentRead, "the model counts 1 RRU a read: strongly consistent, under 4 KB"
        self.calls["get_item"] += 1
        self.read_units += 1
        item = self.items.get(self._key(Key))
        return {"Item": item} if item else {}

    def batch_get_item(self, RequestItems):
        [(table, request)] = RequestItems.items()
        assert request["ConsistentRead"], "the model counts 1 RRU an item: strongly consistent, under 4 KB"
        self.calls["batch_get_item"] += 1
        self.read_units += len(request["Keys"])
        found = [self.items[self._key(k)] for k in request["Keys"] if self._key(k) in self.items]
        return {"Responses": {table: found}, "UnprocessedKeys": {}}

    def put_item(self, TableName, Item, **_):
        self.calls["put_item"] += 1
        self.items[self._key(Item)] = Item

    def update_item(self, **_):
        self.calls["update_item"] += 1

    def batch_write_item(self, RequestItems):
        [(_table, requests)] = RequestItems.items()
        self.calls["batch_write_item"] += 1
        for request in requests:
            self.items[self._key(request["PutRequest"]["Item"])] = request["PutRequest"]["Item"]
            self.written += 1
        return {"UnprocessedItems": {}}

    def transact_write_items(self, TransactItems):
        self.transaction_sizes.append(len(TransactItems))
        for op in TransactItems:
            self.items[self._key(op["Put"]["Item"])] = op["Put"]["Item"]


class FakeEvents:
    def __init__(self):
        self.calls = []

    def put_events(self, Entries):
        self.calls.append(len(Entries))
        return {"FailedEntryCount": 0, "Entries": [{} for _ in Entries]}


class FakeKms:
    def __init__(self):
        self.calls = 0

    def encrypt(self, **_):
        self.calls += 1
        return {"CiphertextBlob": b"sealed"}


@pytest.mark.parametrize("webhook", list(usage.PER_NOTIFICATION))
def test_the_worker_does_what_the_counts_say(webhook):
    dynamodb, events, kms = FakeDynamoDB(), FakeEvents(), FakeKms()
    ledger = chalicelib_module("ledger_table").DynamoDBLedger(dynamodb, "ledger")
    publisher = chalicelib_module("events").EventBridgePublisher(events, "bank")
    cards = chalicelib_module("cards").KmsCardVault(kms, dynamodb, "ledger", "key")
    notification = parse(json.dumps(ENVELOPES[webhook]).encode())

    service.apply_and_publish(ledger, publisher, notification, now=1, cards=cards)

    counts = usage.PER_NOTIFICATION[webhook]
    assert dynamodb.transaction_sizes == [counts["transaction_items"]]
    assert (
        dynamodb.calls["get_item"] + dynamodb.calls["batch_get_item"]
        == usage.EVERY_NOTIFICATION["read_requests"]
    )
    assert dynamodb.read_units == counts["read_units"]
    assert kms.calls == counts["cards_kept"]
    assert dynamodb.calls["put_item"] == 0  # the card goes in the ledger's transaction
    assert events.calls == [counts["events"]]  # one PutEvents call


def test_a_worker_batch_publishes_its_events_together_ten_a_call():
    dynamodb, events = FakeDynamoDB(), FakeEvents()
    ledger = chalicelib_module("ledger_table").DynamoDBLedger(dynamodb, "ledger")
    batch = chalicelib_module("events").EventBridgePublisher(events, "bank").batch()
    for i in range(7):  # 7 refunds, 2 events each
        notification = parse(json.dumps(refund("w-1", 100 + i)).encode())
        service.apply_and_publish(ledger, batch.of(f"m-{i}"), notification, now=1)
    assert events.calls == []  # nothing published before the batch is applied
    assert batch.flush() == {}
    assert events.calls == [10, 4]  # PutEvents takes 10 entries at most


@pytest.mark.parametrize("webhook", list(usage.PER_NOTIFICATION))
def test_the_events_a_notification_publishes(webhook):
    notification = parse(json.dumps(ENVELOPES[webhook]).encode())
    published = events_for(notification, Balance("w-1", 0, 0), occurred_at=1)
    assert len(published) == usage.PER_NOTIFICATION[webhook]["events"]
    assert len(published) <= chalicelib_module("events").MAX_ENTRIES


def test_each_event_is_audited_once_and_counted_once():
    dynamodb = FakeDynamoDB()
    audit = chalicelib_module("audit")
    notification = parse(json.dumps(ENVELOPES[usage.CARD_AUTHORIZATION]).encode())
    published = events_for(notification, Balance("w-1", 0, 0), occurred_at=1)
    trail = audit.AuditTrail(dynamodb, "audit").batch()
    for i, event in enumerate(published):
        trail.add(f"m-{i}", event)
    assert trail.flush() == {}
    audit.Counters(dynamodb, "ledger").add("webhooks_delivered", len(published))  # the dispatcher's batch
    assert dynamodb.written == 2 * usage.PER_EVENT["audit_puts"]  # one write unit an entry
    assert dynamodb.calls["batch_write_item"] == 1  # the batch's entries in one request
    assert dynamodb.calls["update_item"] == usage.PER_BATCH["counter_updates"]


def test_the_routing_and_the_resources_match_the_model():
    template = load_template(SERVERLESS_PROJECT / "resources.yaml")["Resources"]
    by_type = Counter(resource["Type"] for resource in template.values())
    assert by_type["AWS::KMS::Key"] == usage.KMS_CUSTOMER_KEYS
    assert by_type["AWS::CloudWatch::Alarm"] == usage.CLOUDWATCH_ALARMS
    for table in ("LedgerTable", "AuditTable"):
        properties = template[table]["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    webhooks = template["WebhooksRule"]["Properties"]["EventPattern"]
    assert set(webhooks["detail-type"]) == {"CardTransactionUpdated", "BalanceUpdated"}
    assert template["AuditRule"]["Properties"]["EventPattern"] == {"source": ["bank.ledger"]}


def test_the_consumers_and_the_lambda_settings_match_the_model():
    app_source = (SERVERLESS_PROJECT / "app.py").read_text()
    consumers = re.findall(r"@app\.on_sqs_message\(queue=\w+, batch_size=(\d+)\)", app_source)
    assert len(consumers) == usage.CONSUMER_QUEUES
    assert {int(size) for size in consumers} == {usage.SQS_BATCH_SIZE}
    config = (SERVERLESS_PROJECT / ".chalice" / "config.json").read_text()
    assert "lambda_memory_size" not in config and "architecture" not in config  # Chalice: 128 MB, x86
    assert (usage.ASSUMPTIONS.memory_mb, usage.ASSUMPTIONS.architecture) == (128, "x86")


def test_the_mix_is_the_processors():
    stream = processor.generate(20_000, seed=7, wallets=50, duplicates=0)
    seen = Counter(delivery["webhook"] for delivery in stream.deliveries)
    assert set(seen) == set(usage.MIX)
    for webhook, share in usage.MIX.items():
        assert seen[webhook] / len(stream.deliveries) == pytest.approx(share, abs=0.03)
    assert sum(usage.MIX.values()) == pytest.approx(1)
    with pytest.raises(ValueError, match="add up to 1"):
        usage.mixed_counts({usage.PAYIN: 0.5})


# --- The command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("1000000", 10**6),
        ("1,000,000", 10**6),
        ("1_000_000", 10**6),
        ("1e6", 10**6),
        ("2.5E3", 2500),
        ("1", 1),
    ],
)
def test_counts_are_read_in_the_usual_forms(text, count):
    assert parse_per_month(text) == count


def test_the_cost_command_prints_both_months_and_the_break_even():
    result = CliRunner().invoke(app, ["cost", "--per-month", "1e6"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    serverless = costs.serverless_monthly(10**6).total
    always_on = costs.always_on_monthly(10**6).total
    assert f"${serverless:,.2f}" in result.output
    assert f"${always_on:,.2f}" in result.output
    assert f"{costs.break_even().notifications:,}" in result.output
    assert "2026-11-29" in result.output


def test_the_cost_command_takes_the_broker_and_the_free_tier():
    result = CliRunner().invoke(
        app,
        ["cost", "--per-month", "1,000,000", "--broker", "amazon-mq", "--cluster", "--free-tier"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "Amazon MQ for RabbitMQ (3-node cluster)" in result.output
    assert f"${costs.serverless_monthly(10**6, free_tier=True).total:,.2f}" in result.output


@pytest.mark.parametrize("bad", ["0", "-5", "1.5", "abc", "1e", ""])
def test_a_bad_count_is_a_usage_error(bad):
    result = CliRunner().invoke(app, ["cost", "--per-month", bad])
    assert result.exit_code == 2
    assert "--per-month" in result.output
