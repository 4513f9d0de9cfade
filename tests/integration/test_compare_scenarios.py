"""The same faults against both systems, at a small size: what each scenario is designed to show.

Serverless loses nothing, applies nothing twice, and its balances equal the oracle, whatever the
scenario. The monolith loses what the scenario says it loses (demo/resilience/scenarios.py). The full-size
storm (10,000 notifications) is a soak, not a test: benchmarks/storm.py.
"""

from __future__ import annotations

from demo.resilience.compare import compare

COUNT = 36
RATE = 6.0


def run(name, systems):
    result = compare(name, count=COUNT, rate=RATE, systems=systems, timeout=120)
    return result, result["scorecard"]["monolith"], result["scorecard"]["serverless"]


def assert_serverless_kept_everything(card, poison=0):
    assert card["sent"] == card["accepted"] == COUNT
    assert card["lost"] == 0
    assert card["applied"] == card["distinct"]
    assert card["applied_twice"] == 0
    assert card["balances_equal_full_oracle"] is True
    assert card["webhooks_lost"] == 0
    assert card["webhooks_delivered"] == card["webhooks_expected"]
    assert card["dlq_after_redrive"] == poison == card["poison_kept"]
    assert card["latency_ms"]["count"] == card["distinct"]


def test_calm_both_keep_everything(systems):
    result, monolith, serverless = run("calm", systems)
    assert_serverless_kept_everything(serverless)
    assert monolith["lost"] == monolith["webhooks_lost"] == 0
    assert monolith["balances_equal_full_oracle"] is True
    assert [p for p in result["timeline"]["serverless"] if "backlog" in p]  # sampled
    # Latency counts from the send: the monolith's webhook can reach the client before the
    # processor has read its 202 (stamped after the 202, one point was -1.1 ms).
    for system in ("monolith", "serverless"):
        points = result["latencies"][system]
        assert len(points) == result["scorecard"][system]["distinct"]
        assert min(ms for _, ms in points) > 0


def test_broker_crash_loses_the_monoliths_backlog(systems):
    result, monolith, serverless = run("broker-crash", systems)
    assert_serverless_kept_everything(serverless)
    assert monolith["broker_messages_lost"] > 0
    assert monolith["lost"] > 0
    assert monolith["applied_twice"] == 0  # what it kept, it applied once
    assert {"worker stop", "queue restart", "worker start"} <= {
        p.get("event") for p in result["timeline"]["monolith"]
    }


def test_database_outage_makes_the_monolith_refuse_and_lose_notifications(systems):
    _, monolith, serverless = run("database-outage", systems)
    assert_serverless_kept_everything(serverless)
    assert monolith["gave_up"] > 0  # 503 on every retry of the processor
    assert monolith["lost"] > 0
    assert monolith["applied_twice"] == 0
