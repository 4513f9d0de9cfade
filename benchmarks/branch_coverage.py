"""Branch coverage of the whole suite over demo/ -> benchmarks/results/coverage.json, with its gates.

Runs every test as ``make test`` does, under the same coverage.py settings (pytest-cov; the
subprocesses too: the CLI, the local cloud's emulator and functions' worker, the monolith, the
notebooks' kernels), then writes the figures by folder for the safety net's page and slide, the
HTML report under test-artefacts/coverage/ and the JSON report beside it. It fails when a gate
fails, as ``make test`` does: 100% over demo/bank/ and at least 90% over demo/ as a whole.
``make coverage`` runs it.

    python benchmarks/branch_coverage.py [--workers 3] [--json benchmarks/results/coverage.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "coverage.json"
ARTEFACTS = ROOT / "test-artefacts"
GATES = {"demo/bank": 100.0, "demo": 90.0}


def folder(name: str) -> str:
    """``demo/serverless/chalicelib/audit.py`` -> ``demo/serverless/chalicelib``; ``demo/settings.py`` -> ``demo``."""
    parts = name.split("/")
    if parts[:2] == ["demo", "serverless"] and len(parts) > 3:
        return "/".join(parts[:3])
    return "/".join(parts[:2]) if len(parts) > 2 else "demo"


def summed(files: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("num_statements", "covered_lines", "num_branches", "covered_branches", "excluded_lines")
    total = {key: sum(f["summary"][key] for f in files) for key in keys}
    measured = total["num_statements"] + total["num_branches"]
    covered = total["covered_lines"] + total["covered_branches"]
    return {
        "files": len(files),
        "statements": total["num_statements"],
        "branches": total["num_branches"],
        "excluded_lines": total["excluded_lines"],
        # coverage.py's own figure: lines and branches together
        "percent": round(100 * covered / measured, 1) if measured else 100.0,
        "branch_percent": round(100 * total["covered_branches"] / total["num_branches"], 1)
        if total["num_branches"]
        else 100.0,
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    files = {name: f for name, f in report["files"].items() if name.startswith("demo/")}
    by_folder: dict[str, list[dict[str, Any]]] = {}
    for name, f in files.items():
        by_folder.setdefault(folder(name), []).append(f)
    folders = {name: summed(fs) for name, fs in sorted(by_folder.items())}
    whole = summed(list(files.values()))
    bank = folders.get("demo/bank", {"percent": 0.0})
    gates = {
        "demo/bank": {"floor": GATES["demo/bank"], "percent": bank["percent"]},
        "demo": {"floor": GATES["demo"], "percent": whole["percent"]},
    }
    for gate in gates.values():
        gate["passed"] = gate["percent"] >= gate["floor"]
    least = sorted(
        ((name, f["summary"]["percent_covered"]) for name, f in files.items()), key=lambda item: item[1]
    )[:10]
    return {
        "whole": whole,
        "by_folder": folders,
        "gates": gates,
        "least_covered_files": [{"file": name, "percent": round(pct, 1)} for name, pct in least],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default=os.environ.get("TEST_WORKERS", "3"))
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    ARTEFACTS.mkdir(exist_ok=True)
    bin_dir = Path(sys.executable).parent
    # One data file, named absolutely: the subprocesses (started from other working directories)
    # write their parts beside it, and pytest-cov combines them at the end.
    env = os.environ | {"COVERAGE_FILE": str(ROOT / ".coverage")}
    started = time.monotonic()
    tests = subprocess.run(  # noqa: S603
        [
            str(bin_dir / "pytest"),
            *("-n", str(args.workers), "--dist", "loadfile", "--no-loadscope-reorder"),
            *("--cov", "--cov-report=term:skip-covered", f"--cov-report=html:{ARTEFACTS / 'coverage'}"),
            f"--cov-report=json:{ARTEFACTS / 'coverage.json'}",
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    seconds = time.monotonic() - started
    report = json.loads((ARTEFACTS / "coverage.json").read_text())
    result = summary(report) | {
        "tests_passed": tests.returncode == 0,
        "measured": {
            "command": f"python benchmarks/branch_coverage.py --workers {args.workers}",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(seconds, 1),
            "coverage": report["meta"]["version"],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}",
        },
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nbranch coverage over demo/ in {seconds:.0f} s (the whole suite, subprocesses included):")
    for name, figures in result["by_folder"].items():
        print(f"  {name:30} {figures['percent']:5.1f}%  (branches {figures['branch_percent']:5.1f}%)")
    print(f"  {'demo/ as a whole':30} {result['whole']['percent']:5.1f}%")
    failed = [name for name, gate in result["gates"].items() if not gate["passed"]]
    for name in failed:
        gate = result["gates"][name]
        print(f"FAILED: {name} at {gate['percent']}%, below its floor of {gate['floor']}%")
    print(f"written to {args.json}; HTML report: {ARTEFACTS / 'coverage' / 'index.html'}")
    if tests.returncode != 0 or failed:
        raise SystemExit(tests.returncode or 1)


if __name__ == "__main__":
    main()
