"""The resilience scenarios (step 5): one fault schedule, thrown at both systems, and the scorecard.

A scenario is a list of steps, each at a point of the stream (the fraction of deliveries sent).
The steps name faults in the words of the system's job, and each system maps them onto its own
parts (see ``demo.resilience.compare``):

| step            | the monolith                        | serverless                                |
|-----------------|-------------------------------------|-------------------------------------------|
| database-down   | its SQLite database down            | DynamoDB down (``bankdemo chaos``)        |
| client-down     | the fintech client refuses connections (both)                                   |
| client-slow     | the fintech client answers after ``value`` seconds (both)                       |
| worker-stop     | its worker stopped (a deploy)       | the worker's event source mapping paused  |
| queue-restart   | its broker restarts: what it holds is lost | SQS unavailable for a second       |
| poison          | ``value`` unparseable messages put straight onto the queue (both)               |

Each ``-down``/``-stop``/``-slow`` is mended by its ``-up``/``-start`` later in the same schedule.
Everything here is pure: no system is started by importing this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from demo.bank import notifications, service
from demo.bank.events import BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, event_id
from demo.bank.memory import InMemoryLedger
from demo.parties import processor
from demo.parties.client import encode

ACTIONS = (
    "database-down",
    "database-up",
    "client-down",
    "client-slow",
    "client-up",
    "worker-stop",
    "worker-start",
    "queue-restart",
    "poison",
)
# each fault -> the step that mends it
MENDS = {
    "database-down": "database-up",
    "client-down": "client-up",
    "client-slow": "client-up",
    "worker-stop": "worker-start",
}


@dataclass(frozen=True)
class Step:
    at: float  # the fraction of the deliveries sent when the step happens, in [0, 1]
    action: str
    value: float = 0.0  # client-slow: seconds; poison: how many messages

    def describe(self) -> str:
        if self.action == "client-slow":
            return f"client slow ({self.value:g} s)"
        if self.action == "poison":
            return f"{self.value:g} poison messages"
        return self.action.replace("-", " ")


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    steps: tuple[Step, ...] = ()
    duplicates: float = 0.2
    monolith_loss: str = ""  # what the scenario is designed to show the monolith losing

    def __post_init__(self) -> None:
        broken: set[str] = set()
        for step in sorted(self.steps, key=lambda s: s.at):
            if step.action not in ACTIONS or not 0 <= step.at <= 1:
                raise ValueError(f"{self.name}: bad step {step}")
            if step.action in MENDS:
                broken.add(MENDS[step.action])
            else:
                broken.discard(step.action)
        if broken:
            raise ValueError(f"{self.name}: the schedule leaves something broken: {sorted(broken)}")

    def poison(self) -> int:
        return int(sum(s.value for s in self.steps if s.action == "poison"))


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("calm", "no fault: the baseline", monolith_loss="nothing"),
        Scenario(
            "broker-crash",
            "the worker is stopped for a deploy while traffic goes on, then the queue restarts",
            (Step(0.2, "worker-stop"), Step(0.55, "queue-restart"), Step(0.6, "worker-start")),
            monolith_loss="the notifications its transient broker held when it restarted",
        ),
        Scenario(
            "database-outage",
            "the database is down for 40% of the stream",
            (Step(0.25, "database-down"), Step(0.65, "database-up")),
            monolith_loss="the notifications its ingress refused (503) while the database was down",
        ),
        Scenario(
            "client-outage",
            "the fintech client is down for half of the stream",
            (Step(0.2, "client-down"), Step(0.7, "client-up")),
            monolith_loss="the webhooks it sent while the client was down (sent once, never retried)",
        ),
        Scenario(
            "poison-message",
            "three unparseable messages land on the queue (a producer's bug)",
            (Step(0.3, "poison", 3),),
            monolith_loss="the poison messages: logged and dropped, nothing left to inspect or replay",
        ),
        Scenario(
            "storm",
            "all at once, with 30% duplicates, out of order",
            (
                Step(0.05, "client-slow", 0.2),
                Step(0.1, "worker-stop"),
                Step(0.25, "queue-restart"),
                Step(0.3, "worker-start"),
                Step(0.35, "poison", 3),
                Step(0.4, "database-down"),
                Step(0.55, "database-up"),
                Step(0.6, "client-down"),
                Step(0.8, "client-up"),
            ),
            duplicates=0.3,
            monolith_loss="all of the above: the broker's backlog, the refused notifications, the webhooks, the poison",
        ),
    )
}


def poison_body(index: int) -> str:
    """A message no worker can parse: a notification cut short by a producer's bug."""
    return json.dumps(
        {"webhook": "card.authorization", "webhook_id": f"poison-{index}", "object_payload": "<cut>"}
    )


def expected_webhooks(envelope: dict[str, Any]) -> list[str]:
    """The ids of the webhooks the client gets for one applied notification (both systems)."""
    nid = envelope["webhook_id"]
    ids = [event_id(nid, BALANCE_UPDATED)]
    if envelope["webhook"] != notifications.PAYIN_RECEIVED:
        ids.insert(0, event_id(nid, CARD_TRANSACTION_UPDATED))
    return ids


def oracle(envelopes: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(current balance, authorizations) per wallet after exactly these notifications, once each."""
    ledger = InMemoryLedger()
    for envelope in envelopes:
        service.apply(ledger, notifications.parse(encode(envelope)))
    wallets = {e["object_payload"]["wallet_id"] for e in envelopes}
    found = {w: ledger.balance(w) for w in wallets}
    return {w: (b.current_balance, b.authorizations) for w, b in found.items() if b is not None}


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Run:
    """What one system did with one scenario: the raw facts the scorecard is computed from."""

    system: str
    sent: int = 0  # deliveries, duplicates included
    accepted: int = 0  # answered 202 (after the processor's retries)
    gave_up: int = 0  # deliveries the processor gave up on (5xx or no answer, every retry)
    # notification id -> when the send that got its first 202 left (latency counts from there)
    accepted_at: dict[str, float] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    balances: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    webhooks: dict[str, float] = field(default_factory=dict)  # webhook id -> received at
    webhook_duplicates: int = 0
    poison_sent: int = 0
    poison_kept: int = 0  # in a dead-letter queue, to inspect and replay
    dead_letters_before_redrive: int = 0
    dead_letters_after_redrive: int = 0
    redriven: int = 0
    broker_messages_lost: int = 0
    drain_seconds: float = 0.0
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {t, backlog, faults}
    faults_seen: list[str] = field(default_factory=list)  # switched on since the last backlog reading
    started_at: float = 0.0
    schedule_error: BaseException | None = None


def score(run: Run, stream: processor.Stream) -> dict[str, Any]:
    """The scorecard of one run, against the stream it was sent (its oracle)."""
    distinct = {e["webhook_id"]: e for e in stream.deliveries}
    applied = [distinct[nid] for nid in distinct if nid in run.applied]
    expected = oracle(applied)
    actual = {w: b for w, b in run.balances.items() if w in expected}
    off = sorted(w for w in expected if actual.get(w) != expected[w])
    full = {w: (e.current_balance, e.authorizations) for w, e in stream.expected.items()}
    webhooks_expected = {
        wid: nid for nid in run.applied if nid in distinct for wid in expected_webhooks(distinct[nid])
    }
    delivered = sum(1 for wid in webhooks_expected if wid in run.webhooks)

    return {
        "system": run.system,
        "sent": run.sent,
        "distinct": len(distinct),
        "accepted": run.accepted,
        "gave_up": run.gave_up,
        "applied": len(applied),
        "lost": len(distinct) - len(applied),
        "applied_twice": 0 if not off else None,  # measured through the balances: see the docs
        "wallets_off_oracle": len(off),
        "balances_equal_full_oracle": {w: run.balances.get(w) for w in full} == full,
        "webhooks_expected": len(webhooks_expected),
        "webhooks_delivered": delivered,
        "webhooks_lost": len(webhooks_expected) - delivered,
        "webhooks_delivered_twice": run.webhook_duplicates,
        "poison_sent": run.poison_sent,
        "poison_kept": run.poison_kept,
        "broker_messages_lost": run.broker_messages_lost,
        "dlq_before_redrive": run.dead_letters_before_redrive,
        "redriven": run.redriven,
        "dlq_after_redrive": run.dead_letters_after_redrive,
        "latency_ms": latency_ms(run),
        "drain_seconds": round(run.drain_seconds, 1),
    }


def latencies(run: Run) -> dict[str, float]:
    """Notification id -> ms from its send to its balance webhook, for what the run applied and delivered."""
    found = {}
    for nid in run.applied:
        received = run.webhooks.get(event_id(nid, BALANCE_UPDATED))
        if received is not None and nid in run.accepted_at:
            found[nid] = (received - run.accepted_at[nid]) * 1000
    return found


def latency_ms(run: Run, only: set[str] | None = None) -> dict[str, Any]:
    """p50/p95/p99 and count of the run's latencies, of the notifications in ``only`` if given."""
    values = [ms for nid, ms in latencies(run).items() if only is None or nid in only]

    def at(q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value, 1)

    return {"p50": at(50), "p95": at(95), "p99": at(99), "count": len(values)}


def delivered_by_all(runs: list[Run]) -> set[str]:
    """The notifications every run applied and told the client of: where their latencies compare."""
    found = [set(latencies(run)) for run in runs]
    return set.intersection(*found) if found else set()


# (label, key, how to show it) for the scorecard table, in order
ROWS: tuple[tuple[str, str], ...] = (
    ("notifications sent (deliveries)", "sent"),
    ("distinct notifications", "distinct"),
    ("accepted (202)", "accepted"),
    ("given up by the processor", "gave_up"),
    ("applied", "applied"),
    ("lost", "lost"),
    ("applied twice", "applied_twice"),
    ("balances = oracle", "balances_equal_full_oracle"),
    ("webhooks delivered", "webhooks_delivered"),
    ("webhooks lost", "webhooks_lost"),
    ("webhooks delivered twice (the client dedups)", "webhooks_delivered_twice"),
    ("broker messages lost on restart", "broker_messages_lost"),
    ("poison messages kept for inspection", "poison_kept"),
    ("DLQ before redrive", "dlq_before_redrive"),
    ("DLQ after redrive", "dlq_after_redrive"),
    ("latency p50 (ms), of what both delivered", "p50"),
    ("latency p95 (ms), of what both delivered", "p95"),
    ("latency p99 (ms), of what both delivered", "p99"),
    ("notifications both delivered", "count"),
    ("time to drain (s)", "drain_seconds"),
)


def cell(card: dict[str, Any], key: str) -> str:
    if key in ("p50", "p95", "p99", "count"):  # the latencies both systems have (the run's own: latency_ms)
        value = card.get("latency_both_ms", card["latency_ms"])[key]
    else:
        value = card[key]
    if value is None:
        return "?" if key == "applied_twice" else "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}"
