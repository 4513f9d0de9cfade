"""What a workflow costs, from its real definition and the public prices in ``demo/aws/prices.yaml``.

Step Functions bills a Standard workflow per state transition (each state entered, retries
included) and an Express workflow per request and per GB-second. The transitions of each way
through the review workflow are counted by walking its definition, not typed in.

Step 6 adds a month of the whole bank (``serverless_monthly``) against the always-on "before"
(``always_on_monthly``) and where they cross (``break_even``): see the section at the end.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from demo.settings import SERVERLESS_PROJECT

PRICES = Path(__file__).resolve().parent / "prices.yaml"
REVIEW_DEFINITION = SERVERLESS_PROJECT / "statemachines" / "large-payment-review.asl.json"


@cache
def prices() -> dict[str, Any]:
    return yaml.safe_load(PRICES.read_text())


def load_definition(path: Path = REVIEW_DEFINITION) -> dict[str, Any]:
    return json.loads(path.read_text())


def successors(state: dict[str, Any]) -> list[str]:
    """Every state this one can go to: Next, each Choice and the Default, each Catch."""
    names = [state["Next"]] if "Next" in state else []
    names += [choice["Next"] for choice in state.get("Choices", [])]
    names += [state["Default"]] if "Default" in state else []
    names += [catcher["Next"] for catcher in state.get("Catch", [])]
    return names


def paths(definition: dict[str, Any]) -> list[list[str]]:
    """Every way through the workflow, from StartAt to a state that ends it (no loops here)."""
    states = definition["States"]
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        state = states[path[-1]]
        following = [name for name in successors(state) if name not in path]
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            found.append(path)
        for name in dict.fromkeys(following):
            walk([*path, name])

    walk([definition["StartAt"]])
    return found


def outcome_paths(definition: dict[str, Any]) -> dict[str, list[str]]:
    """The successful ways through the review, named by the event that ends them."""
    named = {}
    for path in paths(definition):
        last = definition["States"][path[-1]]
        if last["Type"] == "Task" and "Entries" in last.get("Parameters", {}):
            named[last["Parameters"]["Entries"][0]["DetailType"]] = path
    return named


@dataclass(frozen=True)
class WorkflowCost:
    outcome: str
    transitions: int
    standard_per_execution: float
    express_per_execution: float | None  # None: Express cannot run this way through

    def per(self, executions: int) -> tuple[float, float | None]:
        express = None if self.express_per_execution is None else self.express_per_execution * executions
        return self.standard_per_execution * executions, express


def express_cost(seconds: float, memory_mb: int = 64) -> float:
    """One Express execution of ``seconds`` using ``memory_mb``: request plus duration."""
    p = prices()["stepfunctions"]["express"]
    billed_seconds = math.ceil(seconds * 1000 / p["duration_rounding_ms"]) * p["duration_rounding_ms"] / 1000
    billed_gb = math.ceil(memory_mb / p["memory_chunk_mb"]) * p["memory_chunk_mb"] / 1024
    return p["per_request"] + billed_gb * billed_seconds * p["per_gb_second"]


def review_costs(
    decision_wait_seconds: float, service_seconds: float = 1.0, definition: dict[str, Any] | None = None
) -> list[WorkflowCost]:
    """The cost of one review per outcome, Standard (as deployed) and Express (as it would be).

    ``decision_wait_seconds``: how long the workflow waits for the human; ``service_seconds``:
    the time of its service calls. Express cannot wait for a task token and stops at 5 minutes,
    so it cannot run a way through that waits for a person (its cost is then None).
    """
    definition = definition or load_definition()
    p = prices()["stepfunctions"]
    costs = []
    for outcome, path in sorted(outcome_paths(definition).items()):
        waits = any(
            definition["States"][name].get("Resource", "").endswith(".waitForTaskToken") for name in path
        )
        runs_on_express = not waits or p["express"]["supports_wait_for_task_token"]
        seconds = service_seconds + (decision_wait_seconds if waits else 0)
        express = (
            express_cost(seconds)
            if runs_on_express and seconds <= p["express"]["max_duration_seconds"]
            else None
        )
        costs.append(
            WorkflowCost(outcome, len(path), len(path) * p["standard"]["per_state_transition"], express)
        )
    return costs


def standard_monthly_cost(transitions_per_month: int) -> float:
    """A month of Standard executions, after the free tier."""
    p = prices()["stepfunctions"]["standard"]
    return max(0, transitions_per_month - p["free_transitions_per_month"]) * p["per_state_transition"]


# --- Step 6: a month of the bank, serverless against the always-on "before" ------------------
#
# Pure functions of the price file and of the counts below; nothing here calls AWS. The counts
# are what one notification makes the deployed design do, read off demo/serverless (app.py,
# chalicelib/, resources.yaml); tests/unit/test_monthly_costs.py checks those it can against the
# code. Every other number is an assumption, named in ``Assumptions`` with the reason for it.

PAYIN = "payin.received"
CARD_AUTHORIZATION = "card.authorization"
CARD_SETTLEMENT = "card.settlement"
CARD_REVERSAL = "card.reversal"
CARD_REFUND = "card.refund"

# --8<-- [start:counts]
# The share of each notification type: the rolls demo/parties/processor.py draws its stream with
# (payin below 0.15, authorization below 0.55, settlement below 0.80, reversal below 0.92,
# refund above). Large payments (which start a step 3 review) are not in the mix.
MIX: dict[str, float] = {
    PAYIN: 0.15,
    CARD_AUTHORIZATION: 0.40,
    CARD_SETTLEMENT: 0.25,
    CARD_REVERSAL: 0.12,
    CARD_REFUND: 0.08,
}

# What one notification of each type makes the worker do.
PER_NOTIFICATION: dict[str, dict[str, int]] = {
    # events: what demo.bank.events.events_for publishes (PutEvents entries): the card transaction
    #   (card notifications only), then the balance.
    # transaction_items: items of the ledger's TransactWriteItems (chalicelib/ledger_table.py):
    #   the seen marker, the balance, the authorization when the notification has one, and the
    #   sealed card of a card authorization (CARD#).
    # read_units: strongly consistent reads before deciding (DynamoDBLedger.read): the balance,
    #   and the authorization of a card notification (one GetItem, or one BatchGetItem of two).
    #   A warm worker that wrote the wallet last reads nothing: the model counts the cold case.
    # cards_kept: the card vault's GenerateDataKey (KMS, chalicelib/cards.py).
    PAYIN: {"events": 1, "transaction_items": 2, "read_units": 1, "cards_kept": 0},
    CARD_AUTHORIZATION: {"events": 2, "transaction_items": 4, "read_units": 2, "cards_kept": 1},
    CARD_SETTLEMENT: {"events": 2, "transaction_items": 3, "read_units": 2, "cards_kept": 0},
    CARD_REVERSAL: {"events": 2, "transaction_items": 3, "read_units": 2, "cards_kept": 0},
    CARD_REFUND: {"events": 2, "transaction_items": 2, "read_units": 1, "cards_kept": 0},
}

# The same for every notification, whatever its type.
EVERY_NOTIFICATION: dict[str, int] = {
    "api_requests": 1,  # POST /notifications, an API Gateway REST API request
    "ingress_invocations": 1,  # the api_handler Lambda that verifies and enqueues it
    "notification_messages": 1,  # one SendMessage to bank-notifications (SqsNotificationQueue.enqueue)
    "read_requests": 1,  # DynamoDBLedger.read: one request (GetItem, or BatchGetItem for a card)
}

# What each published event makes the rest of the design do.
PER_EVENT: dict[str, int] = {
    "webhook_messages": 1,  # WebhooksRule routes CardTransactionUpdated and BalanceUpdated to bank-webhooks
    "audit_messages": 1,  # AuditRule routes every bank.ledger event to bank-audit
    "audit_puts": 1,  # the audit writer's put request, in its batch's BatchWriteItem (chalicelib/audit.py)
}

# What each consumer batch does once, whatever its size. (The worker's batch publishes its events
# in PutEvents calls of up to 10 entries; EventBridge bills per entry, not per call.)
PER_BATCH: dict[str, int] = {
    "counter_updates": 1,  # the dispatcher: one UpdateItem of webhooks_delivered for the batch
}

SQS_BATCH_SIZE = 10  # @app.on_sqs_message(batch_size=10), on every consumer in app.py
CONSUMER_QUEUES = 4  # bank-notifications, -webhooks, -audit, -reviews: each polled by Lambda
KMS_CUSTOMER_KEYS = 1  # BankKey in resources.yaml
CLOUDWATCH_ALARMS = 0  # resources.yaml defines none
# --8<-- [end:counts]

# --8<-- [start:assumptions]
# Bytes each item takes in DynamoDB (estimates, each with DynamoDB's 100 bytes of per-item overhead).
ITEM_BYTES: dict[str, int] = {
    "seen_marker": 250,  # NOTIFICATION#<id>/SEEN: wallet, applied_at, a SHA-256 digest
    "authorization": 200,  # WALLET#/AUTH#<id>, one per card authorization, updated by its settlement
    "card": 450,  # WALLET#/CARD#<id>: masked PAN and the sealed card (ciphertext, nonce, data key)
    "audit_event": 800,  # AUDIT#<wallet>/EVENT#<id>: type, ids and the event's detail as JSON
}


@dataclass(frozen=True)
class Assumptions:
    """What the model cannot read off the code: each value with why it was chosen."""

    # Lambda: Chalice's defaults (.chalice/config.json sets no memory size nor architecture).
    memory_mb: int = 128
    architecture: str = "x86"
    # Durations, estimated for warm functions: no measurement on AWS exists in this repo.
    ingress_ms: float = 50.0  # verify the signature (SSM cached), validate, one SendMessage
    consumer_batch_ms: float = 20.0  # each SQS consumer invocation's own overhead
    worker_record_ms: float = 40.0  # per notification: a read and a transaction (+KMS for a card)
    dispatcher_record_ms: float = 60.0  # per webhook: an HTTPS POST to the client
    audit_record_ms: float = 10.0  # per event: its share of the batch's BatchWriteItem
    # Batching: Chalice sets no batching window, so a poll returns what the queue holds; we take
    # it that messages arriving within ~0.1 s of each other share a batch (1 + rate x 0.1, at most
    # 10): one message a batch at a trickle, full batches from ~90 messages a second.
    batch_window_seconds: float = 0.1
    # An idle event source mapping long-polls with 5 pollers, 20 s a poll (a fixed monthly cost).
    idle_pollers_per_queue: int = 5
    long_poll_seconds: int = 20
    # Logs: the app logs at WARNING (chalicelib/logs.py), so nothing on success; Lambda writes its
    # START, END and REPORT lines per invocation: ~400 bytes with CloudWatch's per-event overhead.
    log_bytes_per_invocation: int = 400
    log_retention_months: float = 1.0  # a month's logs kept (Chalice sets no retention: set one)
    # KMS beyond the card vault: SQS and DynamoDB encrypt with BankKey and cache data keys for
    # 5 minutes per caller; ~20 (resource, caller) pairs refresh one every 5 minutes.
    kms_cached_key_callers: int = 20
    # A notification or an event is ~1 KB (the processor's envelopes are 250-410 bytes): one
    # SQS request and one EventBridge event each (64 KB chunks).
    message_kb: float = 1.0
    # DynamoDB storage: the data one month of notifications adds, kept with its PITR backup.
    storage_months: float = 1.0
    # The monolith: a PHP app server (ingress, worker and synchronous webhook in one) handles
    # ~50 notifications a second on an m5.large (an assumption, not a measurement: the local
    # demo's throughput is one laptop process, not an EC2 instance). The fleet is sized for a
    # peak of 3x the monthly average, with one spare instance (N+1), and never fewer than 2.
    monolith_instance: str = "m5.large"
    monolith_per_instance_per_second: float = 50.0
    peak_to_average: float = 3.0
    min_app_instances: int = 2
    disk_gb_per_instance: int = 30  # gp3 root volume; the monolith's SQLite ledger lives on it
    # RabbitMQ: thousands of small messages a second per node, far above the fleet's peak
    # (~1,200/s at 10^9 a month): the broker does not grow with N here.
    broker_instance: str = "m5.large"
    amazon_mq_instance: str = "mq.m5.large"
    broker_storage_gb: int = 20  # Amazon MQ bills the RabbitMQ storage used; transient queues stay small
    # --8<-- [end:assumptions]


ASSUMPTIONS = Assumptions()
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


def mixed_counts(mix: dict[str, float] = MIX) -> dict[str, float]:
    """The counts per notification, averaged over the mix of notification types."""
    if abs(sum(mix.values()) - 1) > 1e-9:
        raise ValueError(f"the mix must add up to 1, not {sum(mix.values())}")
    counts: dict[str, float] = {key: float(value) for key, value in EVERY_NOTIFICATION.items()}
    for webhook, share in mix.items():
        for key, value in PER_NOTIFICATION[webhook].items():
            counts[key] = counts.get(key, 0.0) + share * value
    counts["card_authorizations"] = mix.get(CARD_AUTHORIZATION, 0.0)
    return counts


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

    # KMS: the key, a data key per card kept, and the data keys SQS and DynamoDB cache.
    kms = p["kms"]
    lines.append(
        _line("KMS", "customer-managed key (BankKey)", KMS_CUSTOMER_KEYS, "key-months", kms["per_key_month"])
    )
    kms_requests = n * c["cards_kept"] + a.kms_cached_key_callers * hours_per_month() * 12
    lines.append(
        _line(
            "KMS",
            "requests (card data keys, cached keys)",
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
