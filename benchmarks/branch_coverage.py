"""The figures of make test's branch coverage, by folder of demo/ -> benchmarks/results/coverage.json.

``make test`` runs the whole suite under coverage.py (the subprocesses too) and holds the gates:
100% over demo/bank/ and at least 90% over demo/ as a whole. It also writes coverage.py's JSON
report, test-artefacts/coverage.json. This script reads that report and writes the figures the
safety net's page and slide show: each folder's lines and branches, the whole, the gates, the
least covered files. ``make coverage`` runs ``make test``, then this script: the figures are a
green run's.

    python benchmarks/branch_coverage.py [--report test-artefacts/coverage.json] [--json benchmarks/results/coverage.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "coverage.json"
REPORT = ROOT / "test-artefacts" / "coverage.json"  # make test writes it
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
    parser.add_argument("--report", type=Path, default=REPORT, help="coverage.py's JSON report (make test's)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    if not args.report.is_file():
        raise SystemExit(f"{args.report} does not exist: run make test first (make coverage does)")
    report = json.loads(args.report.read_text())
    result = summary(report) | {
        "measured": {
            "command": "make coverage (make test, then python benchmarks/branch_coverage.py)",
            "at": report["meta"]["timestamp"][:19],  # when the report was written: the machine's clock
            "coverage": report["meta"]["version"],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}",
        },
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print("branch coverage over demo/ (the whole suite, subprocesses included):")
    for name, figures in result["by_folder"].items():
        print(f"  {name:30} {figures['percent']:5.1f}%  (branches {figures['branch_percent']:5.1f}%)")
    print(f"  {'demo/ as a whole':30} {result['whole']['percent']:5.1f}%")
    failed = [name for name, gate in result["gates"].items() if not gate["passed"]]
    for name in failed:
        gate = result["gates"][name]
        print(f"FAILED: {name} at {gate['percent']}%, below its floor of {gate['floor']}%")
    print(f"written to {args.json}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
