"""The storm soak: `storm` with 10,000 notifications against both systems, the scorecard as JSON.

Not a test: at 25 deliveries a second, 10,000 take 400 s to send, and both systems drain within
seconds of the last one on a 2-core laptop (the measured time is in the result's ``measured``).
It prints the scorecard and writes it, with the backlog timeline and the latency points (both
thinned to at most 1,000 points), to a JSON file that the step 5 docs page renders.

    python benchmarks/storm.py [--count 10000] [--rate 25] [--seed 42] [--json benchmarks/results/storm.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from demo.operations.tables import scorecard_table
from demo.resilience.compare import compare

RESULTS = Path(__file__).resolve().parent / "results" / "storm.json"


def thin(points: list[Any], at_most: int = 1000) -> list[Any]:
    """Every k-th point, so that at most ``at_most`` remain (the last one kept)."""
    if len(points) <= at_most:
        return points
    step = -(-len(points) // at_most)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="deliveries, duplicates included")
    parser.add_argument("--rate", type=float, default=25.0, help="deliveries per second")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the scorecard")
    args = parser.parse_args()
    started = time.perf_counter()
    result = compare("storm", count=args.count, seed=args.seed, rate=args.rate, timeout=3600)
    elapsed = time.perf_counter() - started
    for system in result["timeline"]:
        events = [p for p in result["timeline"][system] if "event" in p]
        samples = [p for p in result["timeline"][system] if "event" not in p]
        result["timeline"][system] = sorted(thin(samples) + events, key=lambda p: p["t"])
        result["latencies"][system] = thin(result["latencies"][system])
    result["measured"] = {
        "command": f"python benchmarks/storm.py --count {args.count} --rate {args.rate:g} --seed {args.seed}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(elapsed, 1),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    console = Console()
    console.print(scorecard_table(result))
    console.print(f"{elapsed:.0f} s; written to {args.json}")


if __name__ == "__main__":
    main()
