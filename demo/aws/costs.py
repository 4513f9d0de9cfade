"""What the bank costs on AWS, from the public prices in ``demo/aws/prices.yaml``.

A month of the whole bank (step 6): ``serverless_monthly``, line by line, against the always-on
"before" (``always_on_monthly``), and where the two cross (``break_even``). Pure functions of the
price file and of the counts and assumptions of ``demo.aws.usage``; nothing here calls AWS.

``prices`` loads the price file once: this model and step 3's Step Functions workflow
(``demo.aws.workflow_costs``) read the same copy, so a price changed in a notebook changes both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# Assumptions and ASSUMPTIONS are the defaults of the model's functions: `bankdemo cost` and the
# notebooks' exercises name them costs.Assumptions and costs.ASSUMPTIONS.
from demo.aws.usage import ASSUMPTIONS as ASSUMPTIONS
from demo.aws.usage import (
    CLOUDWATCH_ALARMS,
    CONSUMER_QUEUES,
    ITEM_BYTES,
    KMS_CUSTOMER_KEYS,
    MIX,
    PER_BATCH,
    PER_EVENT,
    SQS_BATCH_SIZE,
    mixed_counts,
)
from demo.aws.usage import Assumptions as Assumptions

PRICES = Path(__file__).resolve().parent / "prices.yaml"


@cache
def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PRICES.read_text())
    return loaded


BROKERS = ("self-hosted", "amazon-mq")
# The services behind the monthly model, each a section of prices.yaml with its source and date.
MONTHLY_SERVICES = (
    "lambda",
    "api_gateway",
    "sqs",
    "eventbridge",
    "dynamodb",
    "kms",
    "ssm",
    "cloudwatch",
    "ec2",
    "amazon_mq",
)


@dataclass(frozen=True)
class LineItem:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float  # $ per unit (the first tier's, for a tiered price)
    cost: float  # $ a month
    free: float = 0.0  # units covered by a free tier
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class MonthlyCost:
    label: str
    notifications: int
    lines: tuple[LineItem, ...]

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.cost
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "notifications": self.notifications,
            "total": self.total,
            "lines": [line.to_dict() for line in self.lines],
        }


def hours_per_month() -> float:
    return float(prices()["ec2"]["hours_per_month"])


def seconds_per_month() -> float:
    return hours_per_month() * 3600


def price_sources(services: tuple[str, ...] = MONTHLY_SERVICES) -> dict[str, tuple[str, str]]:
    """``{service: (source, read_on)}`` of the prices the monthly model uses."""
    return {name: (prices()[name]["source"], prices()[name]["read_on"]) for name in services}


def batch_size(messages_per_month: float, assumptions: Assumptions = ASSUMPTIONS) -> float:
    """Messages an SQS consumer invocation gets, on average, at this monthly volume."""
    rate = messages_per_month / seconds_per_month()
    return min(float(SQS_BATCH_SIZE), 1.0 + rate * assumptions.batch_window_seconds)


def _tiered(quantity: float, tiers: list[list[Any]], per: float = 1e6) -> float:
    """The cost of ``quantity`` units under ``[[units in tier or None, $ per `per` units], ...]``."""
    cost, left = 0.0, quantity
    for size, price in tiers:
        used = left if size is None else min(left, size)
        cost += used * price / per
        left -= used
        if left <= 0:
            break
    return cost


def _line(
    service: str,
    item: str,
    quantity: float,
    unit: str,
    unit_price: float,
    free: float = 0.0,
    note: str = "",
) -> LineItem:
    free = min(free, quantity)
    return LineItem(service, item, quantity, unit, unit_price, (quantity - free) * unit_price, free, note)


def serverless_monthly(
    notifications: int,
    *,
    free_tier: bool = False,
    assumptions: Assumptions = ASSUMPTIONS,
    mix: dict[str, float] = MIX,
) -> MonthlyCost:
    """A month of the serverless bank receiving ``notifications``, line by line.

    ``free_tier``: take the AWS free tiers off (default: not, for a business comparison; the API
    Gateway one lasts 12 months only, the others do not expire).
    """
    a, p, n = assumptions, prices(), float(notifications)
    c = mixed_counts(mix)
    events = n * c["events"]
    webhooks, audits = events * PER_EVENT["webhook_messages"], events * PER_EVENT["audit_messages"]
    batches = {
        "worker": n / batch_size(n, a),
        "dispatcher": webhooks / batch_size(webhooks, a),
        "audit": audits / batch_size(audits, a),
    }
    lines: list[LineItem] = []

    # API Gateway: one REST request per notification, tiered.
    api = p["api_gateway"]
    requests = n * c["api_requests"]
    api_free = min(requests, api["free_requests_per_month"]) if free_tier else 0.0
    api_cost = _tiered(requests - api_free, api["rest_per_million_tiers"])
    first_tier = api["rest_per_million_tiers"][0][1] / 1e6
    lines.append(
        LineItem(
            "API Gateway", "REST API requests", requests, "requests", first_tier, api_cost, api_free, "tiered"
        )
    )

    # Lambda: the ingress per notification, each consumer per batch.
    lam = p["lambda"]
    invocations = n * c["ingress_invocations"] + sum(batches.values())
    gb = a.memory_mb / 1024
    seconds = (
        n * a.ingress_ms
        + sum(batches.values()) * a.consumer_batch_ms
        + n * a.worker_record_ms
        + webhooks * a.dispatcher_record_ms
        + audits * a.audit_record_ms
    ) / 1000
    lines.append(
        _line(
            "Lambda",
            "invocations (ingress, worker, dispatcher, audit)",
            invocations,
            "requests",
            lam["per_request"],
            lam["free_requests_per_month"] if free_tier else 0.0,
            f"batches of {batch_size(n, a):.1f} notifications, {batch_size(webhooks, a):.1f} events",
        )
    )
    lines.append(
        _line(
            "Lambda",
            f"duration, {a.memory_mb} MB {a.architecture}",
            seconds * gb,
            "GB-seconds",
            lam[f"per_gb_second_{'x86' if a.architecture == 'x86' else 'arm64'}"],
            lam["free_gb_seconds_per_month"] if free_tier else 0.0,
        )
    )

    # SQS: a send per message, a receive and a delete per batch; 64 KB chunks.
    sqs = p["sqs"]
    chunks = math.ceil(a.message_kb / sqs["chunk_kb"])
    notification_requests = n * c["notification_messages"] * chunks + 2 * batches["worker"]
    event_requests = (webhooks + audits) * chunks + 2 * (batches["dispatcher"] + batches["audit"])
    idle_polls = CONSUMER_QUEUES * a.idle_pollers_per_queue * seconds_per_month() / a.long_poll_seconds
    sqs_free = float(sqs["free_requests_per_month"]) if free_tier else 0.0
    for item, quantity in (
        ("bank-notifications requests", notification_requests),
        ("bank-webhooks + bank-audit requests", event_requests),
        (f"idle polls, {CONSUMER_QUEUES} event source mappings", idle_polls),
    ):
        used = min(sqs_free, quantity)
        sqs_free -= used
        lines.append(_line("SQS", item, quantity, "requests", sqs["per_request_standard"], used))

    # EventBridge: each event an entry of PutEvents; delivery to our queues is free.
    eb = p["eventbridge"]
    lines.append(
        _line(
            "EventBridge",
            "custom events (PutEvents)",
            events * math.ceil(a.message_kb / eb["chunk_kb"]),
            "events",
            eb["per_custom_event"],
            note=f"{c['events']:.2f} a notification: 2 per card notification, 1 per payin",
        )
    )
    lines.append(_line("EventBridge", "delivery to SQS (same account)", webhooks + audits, "events", 0.0))

    # DynamoDB, on demand.
    ddb = p["dynamodb"]
    writes = (
        n * c["transaction_items"] * ddb["transactional_write_units_per_item"]
        + events * PER_EVENT["audit_puts"]
        + batches["dispatcher"] * PER_BATCH["counter_updates"]
    )
    reads = n * c["read_units"]
    lines.append(
        _line(
            "DynamoDB",
            "writes (transactions, cards, audit, counter)",
            writes,
            "WRU",
            ddb["per_write_request_unit"],
        )
    )
    lines.append(
        _line(
            "DynamoDB",
            "consistent reads (balance, authorization)",
            reads,
            "RRU",
            ddb["per_read_request_unit"],
        )
    )
    stored_gb = (
        n
        * (
            ITEM_BYTES["seen_marker"]
            + c["card_authorizations"] * (ITEM_BYTES["authorization"] + ITEM_BYTES["card"])
        )
        + events * ITEM_BYTES["audit_event"]
    ) / 1e9
    stored_gb *= a.storage_months
    lines.append(
        _line(
            "DynamoDB",
            "storage (the items a month adds)",
            stored_gb,
            "GB-months",
            ddb["storage_per_gb_month"],
            ddb["free_storage_gb"] if free_tier else 0.0,
        )
    )
    lines.append(
        _line(
            "DynamoDB",
            "point-in-time recovery",
            stored_gb,
            "GB-months",
            ddb["pitr_per_gb_month"],
        )
    )

    # KMS: the key, an Encrypt per card kept, and the data keys SQS and DynamoDB cache.
    kms = p["kms"]
    lines.append(
        _line("KMS", "customer-managed key (BankKey)", KMS_CUSTOMER_KEYS, "key-months", kms["per_key_month"])
    )
    kms_requests = n * c["cards_kept"] + a.kms_cached_key_callers * hours_per_month() * 12
    lines.append(
        _line(
            "KMS",
            "requests (cards sealed, cached keys)",
            kms_requests,
            "requests",
            kms["per_request"],
            kms["free_requests_per_month"] if free_tier else 0.0,
        )
    )

    # SSM Parameter Store: standard parameters, standard throughput.
    lines.append(
        _line(
            "SSM",
            "standard parameters, API calls",
            0,
            "requests",
            p["ssm"]["per_standard_throughput_request"],
            note="no charge",
        )
    )

    # CloudWatch: the Lambda platform lines; no alarm is defined.
    cw = p["cloudwatch"]
    log_gb = invocations * a.log_bytes_per_invocation / 1e9
    logs_free = cw["free_logs_gb_per_month"] if free_tier else 0.0
    lines.append(_line("CloudWatch", "Logs ingestion", log_gb, "GB", cw["logs_ingestion_per_gb"], logs_free))
    lines.append(
        _line(
            "CloudWatch",
            "Logs storage",
            log_gb * a.log_retention_months,
            "GB-months",
            cw["logs_storage_per_gb_month"],
        )
    )
    lines.append(
        _line("CloudWatch", "alarms (none defined)", CLOUDWATCH_ALARMS, "alarms", cw["alarm_per_month"])
    )
    label = "serverless" + (" (free tier)" if free_tier else "")
    return MonthlyCost(label, notifications, tuple(lines))


def app_instances(notifications: float, assumptions: Assumptions = ASSUMPTIONS) -> int:
    """The monolith's fleet for this monthly volume: sized for the peak, N+1, at least the minimum."""
    a = assumptions
    peak = notifications / seconds_per_month() * a.peak_to_average
    return max(a.min_app_instances, math.ceil(peak / a.monolith_per_instance_per_second) + 1)


def always_on_monthly(
    notifications: int,
    broker: str = "self-hosted",
    *,
    cluster: bool = False,
    assumptions: Assumptions = ASSUMPTIONS,
) -> MonthlyCost:
    """A month of the always-on "before": the monolith's fleet behind a load balancer, and its
    RabbitMQ, self-hosted on EC2 or managed by Amazon MQ; one node, or a cluster of three."""
    if broker not in BROKERS:
        raise ValueError(f"broker must be one of {BROKERS}, not {broker!r}")
    a, p, n = assumptions, prices(), float(notifications)
    ec2, hours = p["ec2"], hours_per_month()
    instances = app_instances(n, a)
    lines = [
        _line(
            "EC2",
            f"monolith: {instances} x {a.monolith_instance}, always on",
            instances * hours,
            "instance-hours",
            ec2["instances"][a.monolith_instance],
            note=f"capacity {a.monolith_per_instance_per_second:g}/s each, peak {a.peak_to_average:g}x, N+1",
        ),
        _line(
            "EC2",
            f"monolith disks: {instances} x {a.disk_gb_per_instance} GB gp3",
            instances * a.disk_gb_per_instance,
            "GB-months",
            ec2["ebs_gp3_per_gb_month"],
        ),
        _line("ELB", "Application Load Balancer", hours, "hours", ec2["alb_per_hour"]),
        _line(
            "ELB",
            "capacity units (a connection a notification)",
            n / seconds_per_month() / ec2["alb_new_connections_per_lcu"] * hours,
            "LCU-hours",
            ec2["alb_per_lcu_hour"],
        ),
    ]
    nodes = p["amazon_mq"]["cluster_nodes"] if cluster else 1
    if broker == "self-hosted":
        lines += [
            _line(
                "EC2",
                f"RabbitMQ: {nodes} x {a.broker_instance}, self-hosted",
                nodes * hours,
                "instance-hours",
                ec2["instances"][a.broker_instance],
            ),
            _line(
                "EC2",
                f"RabbitMQ disks: {nodes} x {a.disk_gb_per_instance} GB gp3",
                nodes * a.disk_gb_per_instance,
                "GB-months",
                ec2["ebs_gp3_per_gb_month"],
            ),
        ]
    else:
        mq = p["amazon_mq"]
        deployment = "cluster" if cluster else "single-instance"
        lines += [
            _line(
                "Amazon MQ",
                f"RabbitMQ {deployment}: {nodes} x {a.amazon_mq_instance}",
                nodes * hours,
                "broker-hours",
                mq["instances"][a.amazon_mq_instance],
            ),
            _line(
                "Amazon MQ",
                "RabbitMQ storage",
                a.broker_storage_gb,
                "GB-months",
                mq["rabbitmq_storage_per_gb_month"],
            ),
        ]
    label = "always-on, " + ("RabbitMQ on EC2" if broker == "self-hosted" else "Amazon MQ for RabbitMQ")
    label += " (3-node cluster)" if cluster else ""
    return MonthlyCost(label, notifications, tuple(lines))


@dataclass(frozen=True)
class BreakEven:
    notifications: int
    serverless: float  # $ a month, at that volume
    always_on: float


LOW, HIGH = 10**3, 10**9


def crossings(
    broker: str = "self-hosted",
    *,
    cluster: bool = False,
    free_tier: bool = False,
    low: int = LOW,
    high: int = HIGH,
    assumptions: Assumptions = ASSUMPTIONS,
    steps: int = 600,
) -> list[BreakEven]:
    """Every volume in [low, high] where the serverless month costs what the always-on one does.

    Scans a log grid for a change of sign, then bisects each to the notification.
    """

    def both(n: int) -> BreakEven:
        return BreakEven(
            n,
            serverless_monthly(n, free_tier=free_tier, assumptions=assumptions).total,
            always_on_monthly(n, broker, cluster=cluster, assumptions=assumptions).total,
        )

    def gap(n: int) -> float:
        at = both(n)
        return at.serverless - at.always_on

    grid = sorted({round(low * (high / low) ** (i / steps)) for i in range(steps + 1)})
    found = []
    previous_n, previous = grid[0], gap(grid[0])
    for n in grid[1:]:
        current = gap(n)
        if (previous < 0) != (current < 0):
            lo, hi, below = previous_n, n, previous < 0
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if (gap(mid) < 0) == below:
                    lo = mid
                else:
                    hi = mid
            found.append(both(min((lo, hi), key=lambda m: abs(gap(m)))))
        previous_n, previous = n, current
    return found


def break_even(
    broker: str = "self-hosted",
    *,
    cluster: bool = False,
    free_tier: bool = False,
    low: int = LOW,
    high: int = HIGH,
    assumptions: Assumptions = ASSUMPTIONS,
) -> BreakEven | None:
    """The first volume in [low, high] where serverless costs as much as the always-on option,
    or None if the two never cross there."""
    found = crossings(
        broker, cluster=cluster, free_tier=free_tier, low=low, high=high, assumptions=assumptions
    )
    return found[0] if found else None
