"""The scenarios of tests/integration/test_compare_scenarios.py, continued (a second file: pytest-xdist
spreads files over its workers, and each scenario takes a while on the local cloud)."""

from __future__ import annotations

from test_compare_scenarios import assert_serverless_kept_everything, run


def test_client_outage_loses_the_monoliths_webhooks_not_the_ledger(systems):
    _, monolith, serverless = run("client-outage", systems)
    assert_serverless_kept_everything(serverless)
    assert serverless["redriven"] > 0 or serverless["dlq_before_redrive"] == 0
    assert monolith["lost"] == 0
    assert monolith["webhooks_lost"] > 0


def test_storm_serverless_keeps_everything_the_monolith_loses(systems):
    """The storm holds the poison-message scenario too (3 poison messages): each poison cycle takes
    15 s on the local cloud (3 receives, 5 s apart), so the poison is checked here, not run alone."""
    result, monolith, serverless = run("storm", systems)
    assert_serverless_kept_everything(serverless, poison=3)
    assert serverless["sent"] > serverless["distinct"]  # duplicates
    assert serverless["dlq_before_redrive"] >= 3  # the poison, and webhooks of the client outage
    assert monolith["lost"] > 0
    assert monolith["webhooks_lost"] > 0
    assert monolith["poison_sent"] == 3
    assert monolith["poison_kept"] == 0  # logged and dropped
    faults = {f for p in result["timeline"]["serverless"] for f in p.get("faults", [])}
    assert {"database down", "client down"} <= faults  # the samples saw the faults on
