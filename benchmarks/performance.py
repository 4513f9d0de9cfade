"""Step 6's performance figures, measured on this machine, written to benchmarks/results/performance.json.

- cold start: the import time of the Lambda entry module (`import app`) and of bare
  `import boto3`, medians of fresh interpreters (benchmarks/cold_start.py), and their ratio;
- the deployment zip's size (`chalice package` for the dev stage, as `make package` builds it);
- latency: a steady stream (`calm`, no fault) sent to the monolith and to serverless at once,
  p50/p95/p99 from the send of an accepted notification to its balance webhook at the fintech client;
- throughput: each system alone, flooded with a stream sent as fast as it answers: distinct
  notifications applied per second, from the first send until drained.

Not a test (minutes, and figures that depend on the machine). The local cloud serves one AWS
request at a time: its latency and throughput describe the laptop demo, not AWS.

    python benchmarks/performance.py [--runs 9] [--latency-count 120] [--rate 6] [--flood 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cold_start import CASES, measure

from demo.compare import MonolithSystem, ServerlessSystem, compare, quiet_logs, scenario_stream

RESULTS = Path(__file__).resolve().parent / "results" / "performance.json"


def cold_start(runs: int) -> dict[str, Any]:
    found = {}
    for name, code in CASES.items():
        times = measure(code, runs)
        found[name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "min_ms": round(min(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1),
        }
    boto3 = found["import boto3"]["median_ms"]
    app = found["import app (the Lambda entry module)"]["median_ms"]
    return {"runs": runs, "cases": found, "app_over_boto3": round(app / boto3, 2)}


def zip_size() -> dict[str, Any]:
    from demo.shipping import package

    with tempfile.TemporaryDirectory() as tmp:
        sam = package("dev", Path(tmp) / "out", Path(tmp) / "build")
        zips = sorted(sam.parent.glob("*.zip"))
        size = sum(z.stat().st_size for z in zips)
    return {"stage": "dev", "bytes": size, "mb": round(size / 1_000_000, 2)}


def flood(system: Any, count: int, seed: int) -> dict[str, Any]:
    """Send ``count`` deliveries as fast as the system answers; distinct applied per second until drained."""
    from demo.client import BankApi

    stream = scenario_stream("calm", count=count, seed=seed)
    system.client.reset()
    started = time.monotonic()
    with BankApi(system.api_url, system.signing_secret, timeout=30) as api:
        accepted = sum(api.send(envelope).status_code == 202 for envelope in stream.deliveries)
    sent_in = time.monotonic() - started
    system.drain(600)
    elapsed = time.monotonic() - started
    ids = list(dict.fromkeys(e["webhook_id"] for e in stream.deliveries))
    applied = len(system.applied(ids))
    return {
        "deliveries": count,
        "accepted": accepted,
        "distinct": len(ids),
        "applied": applied,
        "ingress_per_second": round(count / sent_in, 1),
        "seconds_to_drain": round(elapsed, 1),
        "applied_per_second": round(applied / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per cold-start case")
    parser.add_argument("--latency-count", type=int, default=120, help="deliveries of the latency run")
    parser.add_argument("--rate", type=float, default=6.0, help="deliveries per second of the latency run")
    parser.add_argument("--flood", type=int, default=300, help="deliveries of each throughput run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {"cold_start": cold_start(args.runs), "zip": zip_size()}
    monolith, serverless = MonolithSystem(), ServerlessSystem()
    try:
        calm = compare(
            "calm", count=args.latency_count, seed=args.seed, rate=args.rate, systems=(monolith, serverless)
        )
        result["latency"] = {
            "count": args.latency_count,
            "rate": args.rate,
            **{name: card["latency_ms"] for name, card in calm["scorecard"].items()},
        }
        result["latency_points"] = calm["latencies"]
        with quiet_logs():
            result["throughput"] = {
                system.name: flood(system, args.flood, args.seed + i)
                for i, system in enumerate((monolith, serverless), start=1)
            }
    finally:
        monolith.stop()
        serverless.stop()
    result["measured"] = {
        "command": (
            f"python benchmarks/performance.py --runs {args.runs} --latency-count {args.latency_count} "
            f"--rate {args.rate:g} --flood {args.flood}"
        ),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(report(result))
    print(f"written to {args.json}")


def report(result: dict[str, Any]) -> str:
    cases = result["cold_start"]["cases"]
    lines = [f"cold start (median of {result['cold_start']['runs']} fresh interpreters):"]
    lines += [
        f"  {name:<40} {c['median_ms']:7.1f} ms ({c['min_ms']} - {c['max_ms']})" for name, c in cases.items()
    ]
    lines.append(f"  import app / import boto3: {result['cold_start']['app_over_boto3']:.2f}")
    lines.append(f"deployment zip (dev): {result['zip']['mb']} MB")
    latency = result["latency"]
    lines.append(
        f"latency, {latency['count']} deliveries at {latency['rate']:g}/s (send -> balance webhook):"
    )
    for system in ("monolith", "serverless"):
        ms = latency[system]
        lines.append(f"  {system:<10} p50 {ms['p50']} ms, p95 {ms['p95']} ms, p99 {ms['p99']} ms")
    lines.append("throughput, each system alone, flooded:")
    for system, t in result["throughput"].items():
        lines.append(
            f"  {system:<10} {t['applied']} applied in {t['seconds_to_drain']} s: {t['applied_per_second']}/s"
            f" (ingress {t['ingress_per_second']}/s)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
