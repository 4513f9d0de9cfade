"""What the monthly cost model (``demo.aws.costs``) starts from, before any price.

- the counts: what one notification of each type makes the deployed design do, read off
  demo/serverless (app.py, chalicelib/, resources.yaml); tests/unit/test_monthly_costs.py checks
  those it can against the code. ``mixed_counts`` averages them over the mix of notifications;
- the assumptions: every number the model cannot read off the code, in ``Assumptions``, each
  with the reason for it (the Lambda's memory and durations, the batching, the logs, the size of
  the items, the monolith's fleet and its broker).

Plain data: nothing here reads a price or calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    # cards_kept: the card vault's Encrypt (KMS, chalicelib/cards.py).
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
    "card": 450,  # WALLET#/CARD#<id>: masked PAN and the sealed card (KMS ciphertext)
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
