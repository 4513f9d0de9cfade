"""End to end: the whole `bankdemo tour`, every beat, against a running `bankdemo up` (a file of its
own: it takes about 1.5 minutes, and pytest-xdist hands out whole files)."""

from __future__ import annotations

import re
import time

import pytest
from test_tour import bankdemo, options, system  # noqa: F401 - the module-scoped fixture: one `bankdemo up` per file


@pytest.mark.slow
def test_the_whole_tour_runs_every_beat_against_a_running_system(system):  # noqa: F811
    started = time.monotonic()
    result = bankdemo("tour", "--auto", *options(system), timeout=600)
    elapsed = time.monotonic() - started
    print(f"bankdemo tour --auto, against a running `bankdemo up`: {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first, a reset" in result.stdout and "Clean in" in result.stdout
    beats = re.findall(r"(\d+)/(\d+) · ", result.stdout)
    assert [int(n) for n, _ in beats] == list(range(1, int(beats[0][1]) + 1))
    assert "NOT AS EXPECTED" not in result.stdout
    assert re.search(r"\d+ beat\(s\), all as expected", result.stdout)
    assert "⏎" not in result.stdout  # --auto never waits
