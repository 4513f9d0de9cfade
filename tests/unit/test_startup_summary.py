"""benchmarks/startup.py: the phases of a local cloud's start, summed up over fresh interpreters."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import startup  # noqa: E402 - benchmarks/startup.py, by path


def test_each_phase_gets_its_min_and_median_in_the_order_the_phases_ran():
    runs = [
        {"the emulator process up": 1.5, "start, in all": 2.5, "stop": 0.07},
        {"the emulator process up": 1.7, "start, in all": 2.9, "stop": 0.05},
        {"the emulator process up": 1.6, "start, in all": 3.4, "stop": 0.09},
    ]
    summary = startup.summarize(runs)
    assert list(summary) == ["the emulator process up", "start, in all", "stop"]
    assert summary["the emulator process up"] == {"min_s": 1.5, "median_s": 1.6}
    assert summary["start, in all"] == {"min_s": 2.5, "median_s": 2.9}
    assert summary["stop"] == {"min_s": 0.05, "median_s": 0.07}


def test_the_child_names_every_step_of_the_local_clouds_start():
    from demo.localcloud.cloud import LocalCloud

    for step in ("_deploy_stack", "_store_signing_secret", "_start_app"):
        assert hasattr(LocalCloud, step) and f'"{step}"' in startup.CHILD
