"""The scenarios' schedules, the oracle and the scorecard's arithmetic (no system started)."""

from __future__ import annotations

import pytest

from demo.bank.events import BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, event_id
from demo.parties import processor
from demo.resilience.compare import scenario_stream
from demo.resilience.scenarios import (
    ROWS,
    SCENARIOS,
    Run,
    Scenario,
    Step,
    cell,
    expected_webhooks,
    oracle,
    percentile,
    score,
)


def test_the_issue_names_these_scenarios():
    assert set(SCENARIOS) == {
        "calm",
        "broker-crash",
        "database-outage",
        "client-outage",
        "poison-message",
        "storm",
    }


def test_storm_throws_every_fault_of_the_other_scenarios_at_once():
    storm = {s.action for s in SCENARIOS["storm"].steps}
    others = {s.action for name, sc in SCENARIOS.items() if name != "storm" for s in sc.steps}
    assert others <= storm
    assert SCENARIOS["storm"].duplicates > SCENARIOS["calm"].duplicates


@pytest.mark.parametrize(
    "steps",
    [
        (Step(0.2, "database-down"),),
        (Step(0.2, "client-slow", 0.1), Step(0.3, "client-down")),
        (Step(0.5, "database-up"), Step(0.6, "database-down")),
        (Step(1.5, "poison", 1),),
        (Step(0.1, "melt"),),
    ],
)
def test_a_schedule_that_leaves_something_broken_or_is_malformed_is_refused(steps):
    with pytest.raises(ValueError):
        Scenario("bad", "bad", steps)


def test_each_scenario_has_its_own_wallets_and_ids_and_is_reproducible():
    streams = {name: scenario_stream(name, count=30, seed=1) for name in SCENARIOS}
    ids = [{e["webhook_id"] for e in s.deliveries} for s in streams.values()]
    wallets = [set(s.expected) for s in streams.values()]
    assert sum(map(len, ids)) == len(set().union(*ids))  # no id in two scenarios
    assert sum(map(len, wallets)) == len(set().union(*wallets))
    assert scenario_stream("storm", count=30, seed=1).deliveries == streams["storm"].deliveries
    assert scenario_stream("storm", count=30, seed=2).deliveries != streams["storm"].deliveries


def test_the_oracle_of_every_notification_is_the_processors_own_expectation():
    """Two ways to the same balances: the processor's story, and the domain applied once each."""
    stream = processor.generate(300, seed=9, duplicates=0.3)
    distinct = list({e["webhook_id"]: e for e in stream.deliveries}.values())
    want = {w: (e.current_balance, e.authorizations) for w, e in stream.expected.items()}
    assert oracle(distinct) == want
    assert oracle(list(reversed(distinct))) == want


def test_expected_webhooks_are_the_ids_both_systems_send():
    stream = processor.generate(40, seed=3)
    for envelope in stream.deliveries:
        nid = envelope["webhook_id"]
        if envelope["webhook"] == "payin.received":
            assert expected_webhooks(envelope) == [event_id(nid, BALANCE_UPDATED)]
        else:
            assert expected_webhooks(envelope) == [
                event_id(nid, CARD_TRANSACTION_UPDATED),
                event_id(nid, BALANCE_UPDATED),
            ]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def perfect_run(stream, lost=()):
    distinct = {e["webhook_id"]: e for e in stream.deliveries}
    applied = {nid for nid in distinct if nid not in lost}
    run = Run("x", sent=len(stream.deliveries), accepted=len(stream.deliveries), applied=applied)
    run.balances = dict(oracle([distinct[n] for n in applied]))
    for i, nid in enumerate(sorted(applied)):
        run.accepted_at[nid] = 10.0
        for wid in expected_webhooks(distinct[nid]):
            run.webhooks[wid] = 10.0 + (i + 1) / 1000
    return run


def test_a_perfect_run_scores_nothing_lost_nothing_twice():
    stream = processor.generate(50, seed=5)
    card = score(perfect_run(stream), stream)
    assert card["lost"] == 0
    assert card["applied"] == card["distinct"] == stream.distinct
    assert card["applied_twice"] == 0
    assert card["balances_equal_full_oracle"] is True
    assert card["webhooks_lost"] == 0
    assert card["webhooks_delivered"] == card["webhooks_expected"]
    assert card["latency_ms"]["count"] == stream.distinct
    assert card["latency_ms"]["p50"] == pytest.approx(stream.distinct / 2, abs=1)


def test_lost_notifications_are_counted_and_their_webhooks_not_expected():
    stream = processor.generate(50, seed=5)
    lost = sorted({e["webhook_id"] for e in stream.deliveries})[:7]
    card = score(perfect_run(stream, lost), stream)
    assert card["lost"] == 7
    assert card["applied_twice"] == 0  # the balances are those of the applied ones, each once
    assert card["balances_equal_full_oracle"] is False


def test_a_notification_applied_twice_shows_in_the_balances():
    stream = processor.generate(50, seed=5)
    run = perfect_run(stream)
    wallet = next(iter(run.balances))
    current, holds = run.balances[wallet]
    run.balances[wallet] = (current + 100, holds)  # a payin of 1.00 counted twice
    card = score(run, stream)
    assert card["applied_twice"] is None
    assert card["wallets_off_oracle"] == 1
    assert cell(card, "applied_twice") == "?"


def test_lost_webhooks_and_every_row_renders():
    stream = processor.generate(20, seed=2)
    run = perfect_run(stream)
    gone = sorted(run.webhooks)[:3]
    for wid in gone:
        del run.webhooks[wid]
    card = score(run, stream)
    assert card["webhooks_lost"] == 3
    assert all(isinstance(cell(card, key), str) for _, key in ROWS)


def test_a_backlog_reading_names_a_fault_that_came_and_went_while_it_was_taken():
    """On a busy cloud one reading can outlast a short outage: the reading still names it."""
    import threading

    from demo.resilience import compare

    run = Run("serverless")
    active: dict[str, str] = {}
    stop = threading.Event()
    reading = threading.Event()
    outage_over = threading.Event()

    class SlowSystem:
        name = "serverless"

        def backlog(self) -> int:
            reading.set()
            outage_over.wait(5)
            stop.set()
            return 7

        def act(self, step: Step, run: Run) -> None:
            pass

    system = SlowSystem()
    sampler = threading.Thread(target=compare._sample, args=(system, run, active, stop, 0.01))
    sampler.start()
    assert reading.wait(5)
    compare._fire(system, Step(0.4, "database-down"), run, active)
    compare._fire(system, Step(0.5, "database-up"), run, active)
    outage_over.set()
    sampler.join(5)
    readings = [p for p in run.timeline if "backlog" in p]
    assert readings == [{"t": readings[0]["t"], "backlog": 7, "faults": ["database down"]}]
    assert active == {}
