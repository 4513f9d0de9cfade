"""How long the local cloud takes to start and to stop, by phase, in fresh interpreters.

Every `make demo`, `bankdemo up`, notebook and integration test file starts one, so its start is
a budget like Lambda's cold start. Each run is a fresh interpreter (nothing imported yet) that
starts a :class:`demo.localcloud.LocalCloud` on free ports and stops it; the phases are those of
``LocalCloud.start`` (demo/localcloud/cloud.py): the emulator process up (moto's services
imported, its endpoint bound), the bank's stack deployed through moto's CloudFormation, the
secrets stored, the Chalice app loaded and its pollers started. Prints min / median of each and
writes them to benchmarks/results/startup.json.

    python benchmarks/startup.py [--runs 5] [--json benchmarks/results/startup.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "startup.json"

# One run, in a child: the phases timed by wrapping LocalCloud's own steps.
CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
from demo.localcloud import cloud, connection
phases = {{"import the local cloud": time.perf_counter() - started}}

def timed(owner, name, label):
    step = getattr(owner, name)
    def run(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            phases[label] = time.perf_counter() - begun
    setattr(owner, name, run)

timed(connection.Emulator, "__init__", "the emulator process up")
timed(cloud.LocalCloud, "_deploy_stack", "the stack deployed (moto's CloudFormation)")
timed(cloud.LocalCloud, "_store_signing_secret", "the secrets stored (SSM, KMS)")
timed(cloud.LocalCloud, "_start_app", "the Chalice app loaded, its pollers started")
begun = time.perf_counter()
running = cloud.LocalCloud(aws_port=0, api_port=0).start()
phases["start, in all"] = time.perf_counter() - begun
begun = time.perf_counter()
running.stop()
phases["stop"] = time.perf_counter() - begun
print(json.dumps(phases))
"""


def one_run() -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    phases: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return phases


def summarize(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """min and median of each phase, in seconds (to the millisecond), in the order they ran."""
    return {
        phase: {
            "min_s": round(min(run[phase] for run in runs), 3),
            "median_s": round(statistics.median(run[phase] for run in runs), 3),
        }
        for phase in runs[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters (default 5)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    phases = summarize([one_run() for _ in range(args.runs)])
    result: dict[str, Any] = {
        "runs": args.runs,
        "phases": phases,
        "measured": {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": f"python benchmarks/startup.py --runs {args.runs}",
            "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"the local cloud, {args.runs} fresh interpreters, min / median:")
    for phase, figures in phases.items():
        print(f"  {phase:<48} {figures['min_s']:6.2f} / {figures['median_s']:6.2f} s")
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
