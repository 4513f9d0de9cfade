"""End to end: `bankdemo demo`, what `make demo` runs (a file of its own: it takes a minute, and
pytest-xdist hands out whole files)."""

from __future__ import annotations

import pytest
from test_cli import bankdemo


@pytest.mark.slow
def test_the_demo_flow_matches_the_expected_balances():
    """`make demo` at a smaller size: shuffled, with duplicates, and every wallet matching."""
    result = bankdemo("demo", "--count", "60", "--seed", "3", "--storm-count", "20", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "60 notifications accepted" in result.stdout
    assert "All balances match the stream" in result.stdout
    assert (
        result.stdout.count(" yes ") == 4 + 1
    )  # four wallets, each matching; serverless = oracle in the storm
    assert "Scorecard: storm" in result.stdout
    assert "Serverless lost nothing in the storm" in " ".join(result.stdout.split())
