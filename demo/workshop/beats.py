"""The tour's beats (``bankdemo tour --list``), in the order the talk tells them, and their data.

Each beat runs against a ``demo.workshop.stage.Stage``, does what the presenter would type (the
``$ bankdemo ...`` line it prints) through ``demo.operations``, and checks what it shows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from demo.bank import notifications as n
from demo.operations import chaos, monolith, reviews, system
from demo.operations.output import console
from demo.operations.tables import balance_table, queue_table, scorecard_table
from demo.parties import processor
from demo.parties.client import BankApi, format_cents
from demo.workshop.stage import DRAIN_TIMEOUT, Stage
from demo.workshop.tour import Beat, Checks

# -- the beats' data: seeded, each beat its own wallets, so that any beat can run first ----------------

STREAM_A = {"count": 16, "seed": 101, "wallets": 2, "duplicates": 0.25, "wallet_prefix": "tour-a-w"}
STREAM_B = {"count": 12, "seed": 102, "wallets": 2, "duplicates": 0.0, "wallet_prefix": "tour-b-w"}
STREAM_D = {"count": 12, "seed": 104, "wallets": 2, "duplicates": 0.3, "wallet_prefix": "tour-d-w"}
STREAM_E = {"count": 4, "seed": 105, "wallets": 2, "duplicates": 0.0, "wallet_prefix": "tour-e-w"}
STREAM_F = {"count": 10, "seed": 106, "wallets": 2, "duplicates": 0.2, "wallet_prefix": "tour-f-w"}
BROKER_KEEPS = 6  # beat 2: the first deliveries, applied before the worker stops
REVIEW_WALLET = "tour-vip"
REVIEW_CENTS = 1_500_000  # 15,000.00 EUR: over the review threshold (10,000.00)
CARD_WALLET = "tour-card"
STORM_COUNT = 30


def stream(spec: dict[str, Any]) -> processor.Stream:
    return processor.generate(**spec)


def concat(*streams: processor.Stream) -> processor.Stream:
    """One stream from several with distinct wallets (their deliveries one after the other)."""
    deliveries = [d for s in streams for d in s.deliveries]
    expected = {w: e for s in streams for w, e in s.expected.items()}
    return processor.Stream(
        deliveries=deliveries, expected=expected, distinct=sum(s.distinct for s in streams)
    )


def part(whole: processor.Stream, deliveries: list[dict[str, Any]]) -> processor.Stream:
    """Some of a stream's deliveries, with the whole stream's expected balances (what it should add up to)."""
    distinct = len({d["webhook_id"] for d in deliveries})
    return processor.Stream(deliveries=deliveries, expected=whole.expected, distinct=distinct)


def _cmd(line: str) -> None:
    """The command a presenter would type for what the beat does next."""
    console.print(f"[dim]$ bankdemo {line}[/]", highlight=False)


def _send(api_url: str, secret: str, what: processor.Stream, check: Checks, where: str) -> None:
    with BankApi(api_url, secret) as api:
        accepted, rejected = system.send_stream(api, what)
    check(
        accepted == len(what.deliveries) and not rejected,
        f"{where} answered 202 to all {accepted} deliveries ({what.distinct} distinct)",
        f"{where} accepted {accepted} of {len(what.deliveries)}: {rejected[:2]}",
    )


def _balances_match(what: processor.Stream, actual: dict[str, dict[str, Any] | None]) -> bool:
    table, match = balance_table(what, actual)
    console.print(table)
    return match


def beat_monolith(stage: Stage, check: Checks) -> None:
    a = stream(STREAM_A)
    mono = stage.monolith
    console.print(f"The monolith runs in this process: {mono.api_url}, its broker embedded, its own client.")
    _send(mono.api_url, mono.signing_secret, a, check, "the monolith")
    mono.drain(DRAIN_TIMEOUT)
    with BankApi(mono.api_url) as api:
        actual = {w: api.balance(w) for w in a.expected}
    check(_balances_match(a, actual), "every balance matches the stream", "a monolith balance does not match")
    _cmd(f"monolith status --url {mono.api_url}")
    monolith.status(mono.api_url)


def beat_broker_restart(stage: Stage, check: Checks) -> None:
    b = stream(STREAM_B)
    mono = stage.monolith
    _send(mono.api_url, mono.signing_secret, part(b, b.deliveries[:BROKER_KEEPS]), check, "the monolith")
    mono.drain(DRAIN_TIMEOUT)
    _cmd("monolith fault worker-stop   (a deploy)")
    monolith.fault("worker-stop", mono.api_url)
    _send(mono.api_url, mono.signing_secret, part(b, b.deliveries[BROKER_KEEPS:]), check, "the monolith")
    queued = mono.monolith.broker.depth()
    console.print(f"The broker holds {queued} notification(s), accepted (202) and not applied yet.")
    _cmd("chaos broker restart")
    lost = mono.monolith.inject("broker-restart")["messages_lost"]
    console.print(f"broker restart: [bold red]{lost} queued message(s) lost[/].")
    monolith.fault("worker-start", mono.api_url)
    mono.drain(DRAIN_TIMEOUT)
    with BankApi(mono.api_url) as api:
        actual = {w: api.balance(w) for w in b.expected}
    match = _balances_match(b, actual)
    stage.notes["monolith_lost"] = lost
    check(
        lost == len(b.deliveries) - BROKER_KEEPS and lost > 0,
        f"the restart lost the {lost} notifications the broker held: the processor got 202 for each",
        f"the broker restart lost {lost} message(s), {len(b.deliveries) - BROKER_KEEPS} expected",
    )
    check(not match, "the balances are wrong, and nothing says so", "the balances match: nothing was lost?")


def beat_serverless(stage: Stage, check: Checks) -> None:
    both = concat(stream(STREAM_A), stream(STREAM_B))
    console.print(f"Serverless: API {stage.api_url}, SQS, the worker Lambda, DynamoDB.")
    _send(stage.api_url, stage.signing_secret, both, check, "the serverless API")
    with console.status("The worker, the dispatcher and the audit writer drain their queues..."):
        stage.drain()
    check(
        _balances_match(both, stage.balances(sorted(both.expected))),
        "every balance equals the oracle",
        "a balance is off",
    )
    if "monolith_lost" in stage.notes:
        console.print(f"The monolith lost {stage.notes['monolith_lost']} of these; serverless lost none.")


def beat_duplicates(stage: Stage, check: Checks) -> None:
    from demo.resilience.scenarios import expected_webhooks

    d = stream(STREAM_D)
    twice = part(d, d.deliveries + d.deliveries[::-1])
    console.print(
        f"{len(d.deliveries)} deliveries ({d.duplicates} repeats, shuffled), then all of them again, "
        f"backwards: {len(twice.deliveries)} deliveries of {d.distinct} notifications."
    )
    before = stage.client_stats()["stats"]
    _send(stage.api_url, stage.signing_secret, twice, check, "the serverless API")
    with console.status("Draining..."):
        stage.drain()
    check(
        _balances_match(d, stage.balances(sorted(d.expected))),
        "balances equal the oracle",
        "a balance is off",
    )
    distinct = {e["webhook_id"]: e for e in d.deliveries}
    ledger = stage.ledger()
    applied = sum(1 for nid in distinct if ledger.seen_digest(nid) is not None)
    check(
        applied == len(distinct),
        f"{applied} notifications applied, each once (one 'seen' marker each, committed with its balance change)",
        f"{applied} of {len(distinct)} notifications applied",
    )
    log = stage.client_stats()
    received = {w["webhook_id"] for w in log["webhooks"]}
    wanted = {wid for e in distinct.values() for wid in expected_webhooks(e)}
    redelivered = log["stats"]["duplicates"] - before["duplicates"]
    check(
        wanted <= received and redelivered > 0,
        f"the client got the {len(wanted)} webhooks and ignored {redelivered} redeliveries (same webhook_id)",
        f"the client got {len(wanted & received)} of {len(wanted)} webhooks, {redelivered} redeliveries",
    )


def beat_client_down(stage: Stage, check: Checks) -> None:
    from demo.resilience.scenarios import expected_webhooks

    e = stream(STREAM_E)
    wanted = {wid for d in e.deliveries for wid in expected_webhooks(d)}
    _cmd("chaos client down")
    chaos.inject("client", "down", client_control=stage.client_control)
    try:
        _send(stage.api_url, stage.signing_secret, e, check, "the serverless API")
        with console.status(f"{len(wanted)} webhooks: retried 1 s, 2 s, 4 s later, then dead-lettered..."):
            depths = _wait_for(
                stage,
                lambda d: (
                    d["bank-webhooks-dlq"]["visible"] >= len(wanted) and not any(d["bank-webhooks"].values())
                ),
                60,
            )
        console.print(queue_table(depths))
        check(
            depths["bank-webhooks-dlq"]["visible"] == len(wanted),
            f"all {len(wanted)} webhooks wait in bank-webhooks-dlq: none lost",
            f"bank-webhooks-dlq holds {depths['bank-webhooks-dlq']['visible']}, {len(wanted)} expected",
        )
    finally:
        _cmd("chaos client up")
        chaos.inject("client", "up", client_control=stage.client_control)
    before = stage.client_stats()["stats"]["duplicates"]
    _cmd("redrive bank-webhooks")
    system.redrive("bank-webhooks", stage.aws_endpoint)
    with console.status("The dispatcher delivers them..."):
        depths = stage.drain()
    log = stage.client_stats()
    got = wanted & {w["webhook_id"] for w in log["webhooks"]}
    twice = log["stats"]["duplicates"] - before
    check(
        got == wanted and twice == 0 and not depths["bank-webhooks-dlq"]["visible"],
        f"the client received each of the {len(wanted)} webhooks once; the DLQ is empty",
        f"the client received {len(got)} of {len(wanted)} ({twice} twice); "
        f"{depths['bank-webhooks-dlq']['visible']} still in the DLQ",
    )


def _wait_for(
    stage: Stage, done: Callable[[dict[str, dict[str, int]]], bool], timeout: float
) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + timeout
    while not done(depths := stage.depths()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f} s: {depths}")
        time.sleep(0.1)
    return depths


def beat_dynamodb_down(stage: Stage, check: Checks) -> None:
    f = stream(STREAM_F)
    _cmd("chaos dynamodb down")
    chaos.inject("dynamodb", "down", aws_endpoint=stage.aws_endpoint)
    try:
        _send(stage.api_url, stage.signing_secret, f, check, "with DynamoDB down, the API")
        with console.status("The worker meets the outage and puts the notifications back for later..."):
            depths = _wait_for(stage, lambda d: d["bank-notifications"]["delayed"] > 0, 30)
        backlog = sum(depths["bank-notifications"].values())
        _cmd("status")
        system.status(stage.aws_endpoint, stage.stage)
        check(
            backlog > 0,
            f"the backlog waits in SQS ({backlog} notification(s)), nothing lost",
            "no backlog seen",
        )
    finally:
        _cmd("chaos dynamodb up")
        chaos.inject("dynamodb", "up", aws_endpoint=stage.aws_endpoint)
    with console.status("The worker drains the backlog..."):
        stage.drain()
    check(
        _balances_match(f, stage.balances(sorted(f.expected))),
        "drained: balances equal the oracle",
        "a balance is off",
    )


def beat_review(stage: Stage, check: Checks) -> None:
    rng = random.SystemRandom()
    payload = {"wallet_id": REVIEW_WALLET, "amount": REVIEW_CENTS}
    envelope = processor.envelope(
        n.PAYIN_RECEIVED, payload, rng=rng, created_at=int(time.time()), obj="payin"
    )
    _cmd(f"payin {REVIEW_WALLET} {format_cents(REVIEW_CENTS)}")
    with stage.api() as api:
        response = api.send(envelope)
        check(
            response.status_code == 202,
            "the payin is accepted (202)",
            f"the bank answered {response.status_code}",
        )
        with console.status(
            "The ledger flags it; Step Functions records the review and waits for a decision..."
        ):
            review = _poll(lambda: _awaiting(api, envelope["webhook_id"]), 60, "a review awaiting a decision")
        _cmd("reviews --status pending")
        reviews.show(None, "pending", stage.api_url, stage.aws_endpoint)
        _cmd(f"approve {review['review_id']}")
        reviews.decide(review["review_id"], "approve", "source of funds checked", stage.api_url)
        with console.status("The workflow resumes with the decision..."):
            done = _poll(lambda: _decided(api, review["review_id"]), 60, "the decision recorded")
    _cmd(f"reviews {review['review_id']}")
    reviews.show(review["review_id"], "all", stage.api_url, stage.aws_endpoint)
    check(
        done["status"] == "approved",
        "the review is approved: the workflow ran without a Lambda",
        f"status {done['status']}",
    )


def _awaiting(api: BankApi, notification_id: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in api.reviews("pending")
            if r["notification_id"] == notification_id and r["awaiting_decision"]
        ),
        None,
    )


def _decided(api: BankApi, review_id: str) -> dict[str, Any] | None:
    found = api.review(review_id)
    return found if found and found["status"] != "pending" else None


def _poll(get: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := get()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)
    return found


def beat_card(stage: Stage, check: Checks) -> None:
    from demo.localcloud.session import chalicelib_module

    rng = random.SystemRandom()
    pan, holder = processor.luhn_pan(rng), rng.choice(processor.HOLDERS)
    authorization = f"auth-{rng.getrandbits(40):010x}"
    payload = {
        "wallet_id": CARD_WALLET,
        "authorization_id": authorization,
        "amount": 2500,
        "card": {"pan": pan, "holder": holder},
        "merchant": {"name": "Cafe Lumen", "mcc": "5814"},
    }
    envelope = processor.envelope(
        n.CARD_AUTHORIZATION, payload, rng=rng, created_at=int(time.time()), obj="cardtransaction"
    )
    _cmd(f"card {CARD_WALLET} 25")
    with stage.api() as api:
        response = api.send(envelope)
    check(
        response.status_code == 202,
        "the card authorization is accepted (202)",
        f"answered {response.status_code}",
    )
    dynamodb = stage.aws("dynamodb")
    table = f"bank-ledger-{stage.stage}"
    key = {"pk": {"S": f"WALLET#{CARD_WALLET}"}, "sk": {"S": f"CARD#{authorization}"}}
    item = _poll(lambda: dynamodb.get_item(TableName=table, Key=key).get("Item"), 30, "the card in the vault")
    stage.drain()
    sealed = item["sealed"]["M"]
    console.print(f"The card's item in DynamoDB ({table}), as stored:")
    console.print(f"  pk {item['pk']['S']}  sk {item['sk']['S']}", highlight=False)
    console.print(f"  masked_pan  {item['masked_pan']['S']}   (the only card data in clear)", highlight=False)
    value = sealed["data"]["B"]
    console.print(
        f"  sealed.data  {value[:16].hex()}... ({len(value)} bytes: PAN + holder, encrypted by KMS)",
        highlight=False,
    )
    everything = repr(_scan(dynamodb, table)) + repr(_scan(dynamodb, f"bank-audit-{stage.stage}"))
    check(
        pan not in everything and holder not in everything,
        "the card number and holder appear nowhere in the ledger or audit tables",
        "the card number or holder is stored in clear",
    )
    vault = chalicelib_module("cards").KmsCardVault(
        stage.aws("kms"), dynamodb, table, _stack_output(stage, "BankKeyId")
    )
    opened = vault.reveal(CARD_WALLET, authorization)
    check(
        opened is not None and opened.pan == pan,
        "with kms:Decrypt and the wallet's encryption context, the bank opens it again",
        "the sealed card does not open to what was sent",
    )


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [i for p in dynamodb.get_paginator("scan").paginate(TableName=table) for i in p["Items"]]


def _stack_output(stage: Stage, name: str) -> str:
    from demo.localcloud.cloud import STACK_NAME

    stack = stage.aws("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == name)


def beat_storm(stage: Stage, check: Checks) -> None:
    from demo.resilience.compare import MonolithSystem, ServerlessSystem, compare

    count = STORM_COUNT
    if not stage.embedded:
        console.print(
            "The storm pauses the serverless worker, which only an in-process cloud allows: it runs on "
            "a local cloud of its own, started in the background when the tour began."
        )
    with console.status("The storm's local cloud is starting..."):
        cloud, client = stage.storm_cloud()
    _cmd(f"compare --scenario storm --count {count}")
    old = MonolithSystem()
    try:
        with console.status(
            f"Storm: {count} deliveries to both, the faults on cue, then drain and redrive..."
        ):
            result = compare("storm", count=count, systems=(old, ServerlessSystem(cloud, client)))
    finally:
        old.stop()
    console.print(scorecard_table(result))
    serverless, mono = result["scorecard"]["serverless"], result["scorecard"]["monolith"]
    check(
        not serverless["lost"]
        and serverless["applied_twice"] == 0
        and serverless["balances_equal_full_oracle"],
        "serverless lost nothing, applied nothing twice, balances = oracle",
        "the serverless side lost or doubled something: see the scorecard",
    )
    console.print(f"The monolith lost {mono['lost']} notification(s) and {mono['webhooks_lost']} webhook(s).")


def prepare_storm(stage: Stage) -> None:
    stage.prepare_storm()


BEATS = [
    Beat(
        "The monolith: notifications in, balances right",
        "The card processor sends 16 signed notifications (4 of them repeats, shuffled) to the monolith: "
        "Flask, a broker, a worker, SQLite.",
        "every wallet's balance next to the one expected from the stream.",
        beat_monolith,
    ),
    Beat(
        "Broker restart on cue: the monolith loses what it held",
        "Traffic goes on while the worker is stopped for a deploy; then the broker restarts.",
        "the processor got 202 for every notification, the broker lost the queued ones, and the balances "
        "are wrong without any error.",
        beat_broker_restart,
    ),
    Beat(
        "The same notifications, serverless",
        "The same 28 deliveries to the serverless bank: API Gateway + Lambda enqueue to SQS; the worker "
        "applies them to DynamoDB.",
        "202 for each, then every balance equal to the oracle.",
        beat_serverless,
    ),
    Beat(
        "Duplicates and out of order: applied once",
        "A stream with repeats, then the whole of it again, backwards.",
        "balances equal the oracle; each notification applied once; the client ignores redelivered webhooks.",
        beat_duplicates,
    ),
    Beat(
        "The fintech client down: webhooks wait in the DLQ, then redrive",
        "The client stops listening; the bank's webhooks are retried with backoff, then dead-lettered. "
        "The client comes back; we redrive.",
        "the DLQ holding every webhook, then each delivered exactly once.",
        beat_client_down,
    ),
    Beat(
        "DynamoDB down: the API still answers 202",
        "DynamoDB fails every call (chaos); notifications keep coming.",
        "202s, the backlog in `bankdemo status`; DynamoDB up, drained, balances right.",
        beat_dynamodb_down,
    ),
    Beat(
        "A large payin opens a compliance review",
        "15,000.00 EUR comes in; Step Functions (no Lambda inside) records a review and waits for a "
        "compliance officer.",
        "the pending review, the approval, the workflow's execution history.",
        beat_review,
    ),
    Beat(
        "Card data sealed with KMS",
        "A card authorization; the worker keeps the card with KMS envelope encryption.",
        "the item as DynamoDB stores it: a masked PAN, the rest ciphertext.",
        beat_card,
    ),
    Beat(
        "The scorecard: a small storm",
        f"The monolith and serverless get the same {STORM_COUNT} deliveries while the same faults hit both: "
        "worker stopped, queue restarted, poison messages, database down, client slow then down.",
        "lost, webhooks lost, balances = oracle, side by side.",
        beat_storm,
        prepare_storm,
    ),
]
