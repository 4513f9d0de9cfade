"""The cost figures of step 3: counted from the real definition, priced from the dated price file."""

from __future__ import annotations

import datetime

import pytest

from demo.aws import costs, workflow_costs


def test_the_prices_say_where_and_when_they_come_from():
    stepfunctions = costs.prices()["stepfunctions"]
    assert stepfunctions["source"].startswith("https://aws.amazon.com/")
    datetime.date.fromisoformat(stepfunctions["read_on"])


def test_each_outcome_is_priced_by_the_states_it_enters():
    by_outcome = {c.outcome: c for c in workflow_costs.review_costs(decision_wait_seconds=3600)}
    assert set(by_outcome) == {"ReviewApproved", "ReviewRejected", "ReviewEscalated"}
    paths = workflow_costs.outcome_paths(workflow_costs.load_definition())
    assert paths["ReviewRejected"][-2:] == ["FreezeWallet", "AnnounceRejection"]
    per_transition = costs.prices()["stepfunctions"]["standard"]["per_state_transition"]
    for outcome, cost in by_outcome.items():
        assert cost.transitions == len(paths[outcome])
        assert cost.standard_per_execution == pytest.approx(cost.transitions * per_transition)
        # Express has no .waitForTaskToken: it cannot run a review that waits for a person
        assert cost.express_per_execution is None


def test_express_bills_requests_and_rounded_gb_seconds():
    p = costs.prices()["stepfunctions"]["express"]
    # 1.01 s is billed as 1.1 s; 64 MB is 1/16 GB
    assert workflow_costs.express_cost(1.01) == pytest.approx(
        p["per_request"] + 1.1 / 16 * p["per_gb_second"]
    )
    assert workflow_costs.express_cost(1.0, memory_mb=65) == pytest.approx(
        p["per_request"] + 2 / 16 * p["per_gb_second"]
    )


def test_the_standard_free_tier_comes_off_each_month():
    assert workflow_costs.standard_monthly_cost(4_000) == 0
    assert workflow_costs.standard_monthly_cost(5_000) == pytest.approx(1_000 * 0.000025)
