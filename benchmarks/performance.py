"""The performance figures, measured on this machine, written to benchmarks/results/performance.json.

Both systems are measured side by side, each in a process of its own (benchmarks/system_process.py),
fed by the same senders and answered by a fintech client of its own in this process, over real HTTP:

- throughput: once each system has handled a short stream (``WARM_UP``, the same for both), a
  seeded stream of deliveries (20% duplicates) sent by 4 senders as fast as each system answers; distinct notifications applied per second, from the first send until the
  system has nothing left to do (queues drained, webhooks delivered), with none lost and the
  balances equal to the stream's oracle;
- the same with a client that answers every webhook after 0.2 s;
- CPU per notification: the system process's CPU time (all its threads) over the flood, per
  distinct notification; for serverless, the AWS requests the local cloud answered per notification;
- latency: a calm stream at 6 deliveries a second sent to both systems at once, p50/p95/p99 from
  the send of a notification to its balance webhook at the client, once each system has handled
  a short stream of every kind of notification (``WARM_UP``): a warm system's latency, not its
  first card's (the first card a process seals imports the AES library and builds its KMS client);
- cold start: ``import app`` against bare ``import boto3`` (benchmarks/cold_start.py); the zip's size.

Each comparison is repeated (``--runs``): the figures are given as min and median over the runs,
and each ratio is taken inside a run, the two systems measured one right after the other. The
local cloud is moto in one process: the serverless figures describe the laptop, not AWS.

    python benchmarks/performance.py [--runs 3] [--flood 600] [--slow-flood 60] [--latency-count 120] [--rate 6]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cold_start import CASES, measure

from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient, Mode
from demo.resilience.compare import quiet_logs, run_scenario, scenario_stream
from demo.resilience.scenarios import SCENARIOS, Run, Step, score

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "performance.json"
RUNNER = HERE / "system_process.py"
SYSTEMS = ("monolith", "serverless")
SENDERS = 4
SLOW_CLIENT_SECONDS = 0.2
WARM_UP = 40  # deliveries sent to each system before its latency is measured


class RemoteSystem:
    """A :class:`demo.resilience.compare.System` whose bank runs in its own process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client = FintechClient(port=0, control_port=0).start()
        self._process = subprocess.Popen(  # noqa: S603 - our own runner, by path
            [sys.executable, str(RUNNER), name, "--client-url", self.client.webhook_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        hello = self._read()
        self._api_url, self._secret = hello["api_url"], hello["signing_secret"]

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} process ended (exit {self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {answer['error']}")
        return answer

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        with self._lock:
            self._process.stdin.write(json.dumps(command) + "\n")
            self._process.stdin.flush()
            return self._read()

    @property
    def api_url(self) -> str:
        return self._api_url

    @property
    def signing_secret(self) -> str:
        return self._secret

    # -- demo.resilience.compare.System, for a calm run (no fault to act on) ------------------------------

    def act(self, step: Step, run: Run) -> None:
        raise NotImplementedError(f"{self.name} in its own process takes no fault ({step.action})")

    def backlog(self) -> int | None:
        return None  # not sampled: a reading would cost the system measured

    def drain(self, timeout: float) -> None:
        self.ask(cmd="drain", timeout=timeout)

    def redrive(self, run: Run, timeout: float) -> None:
        """Nothing to redrive in a calm run."""

    def applied(self, ids: list[str]) -> set[str]:
        return set(self.ask(cmd="applied", ids=ids)["applied"])

    def balances(self, wallets: list[str]) -> dict[str, tuple[int, int] | None]:
        found = self.ask(cmd="balances", wallets=wallets)["balances"]
        return {w: None if b is None else (b[0], b[1]) for w, b in found.items()}

    def stats(self) -> dict[str, Any]:
        return self.ask(cmd="stats")

    def stop(self) -> None:
        try:
            assert self._process.stdin is not None  # "stop" takes no answer
            self._process.stdin.write(json.dumps({"cmd": "stop"}) + "\n")
            self._process.stdin.close()
            self._process.wait(timeout=60)
        finally:
            if self._process.poll() is None:
                self._process.kill()
            self.client.stop()


def flood(
    system: RemoteSystem, count: int, seed: int, on_drained: Callable[[], None] | None = None
) -> dict[str, Any]:
    """``count`` deliveries from ``SENDERS`` senders, as fast as answered; measured until drained
    (``on_drained`` is called then, before the checks: what a profiler measures ends there)."""
    stream = scenario_stream("calm", count=count, seed=seed)
    system.client.reset()
    parts = [stream.deliveries[i::SENDERS] for i in range(SENDERS)]
    refused: list[int] = []
    before = system.stats()

    def send(part: list[dict[str, Any]]) -> None:
        with BankApi(system.api_url, system.signing_secret, timeout=30) as api:
            refused.extend(1 for envelope in part if api.send(envelope).status_code != 202)

    started = time.monotonic()
    senders = [threading.Thread(target=send, args=(part,)) for part in parts]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    sent_in = time.monotonic() - started
    system.drain(600)
    elapsed = time.monotonic() - started
    after = system.stats()
    if on_drained is not None:
        on_drained()
    ids = list(dict.fromkeys(e["webhook_id"] for e in stream.deliveries))
    applied = len(system.applied(ids))
    expected = {w: (b.current_balance, b.authorizations) for w, b in stream.expected.items()}
    calls = {k: v - before["aws_calls"].get(k, 0) for k, v in after["aws_calls"].items()}
    return {
        "deliveries": count,
        "distinct": len(ids),
        "refused": len(refused),
        "applied": applied,
        "lost": len(ids) - applied,
        "balances_equal_oracle": system.balances(sorted(expected)) == expected,
        "ingress_per_second": round(count / sent_in, 1),
        "seconds_to_drain": round(elapsed, 2),
        "applied_per_second": round(applied / elapsed, 1),
        "cpu_ms_per_notification": round(1000 * (after["cpu_seconds"] - before["cpu_seconds"]) / len(ids), 2),
        "aws_calls_per_notification": round(sum(calls.values()) / len(ids), 2) if calls else None,
        "aws_calls": dict(sorted(calls.items(), key=lambda kv: -kv[1])) if calls else None,
    }


def one_run(index: int, args: argparse.Namespace) -> dict[str, Any]:
    """Throughput (fast and slow client) and latency of both systems, each in a fresh process."""
    found: dict[str, Any] = {"flood": {}, "slow_client": {}}
    seed = args.seed + 100 * index
    for name in SYSTEMS:
        system = RemoteSystem(name)
        try:
            flood(system, WARM_UP, seed + 3)  # warm, as before the latencies: a flood, not a first card
            found["flood"][name] = flood(system, args.flood, seed)
            system.client.set_mode(Mode.SLOW, SLOW_CLIENT_SECONDS)
            found["slow_client"][name] = flood(system, args.slow_flood, seed + 1)
        finally:
            system.stop()
    systems = [RemoteSystem(name) for name in SYSTEMS]
    try:
        for system in systems:  # each warmed up alike, one after the other, before both are measured
            flood(system, WARM_UP, seed + 3)
        stream = scenario_stream("calm", count=args.latency_count, seed=seed + 2)
        runs: dict[str, Run] = {}

        def latency(system: RemoteSystem) -> None:
            runs[system.name] = run_scenario(system, SCENARIOS["calm"], stream, args.rate, timeout=600)

        threads = [threading.Thread(target=latency, args=(s,)) for s in systems]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cards = {name: score(run, stream) for name, run in runs.items()}
        found["latency"] = {name: card["latency_ms"] for name, card in cards.items()}
        found["latency_lost"] = {name: card["lost"] for name, card in cards.items()}
        found["latency_points"] = {
            name: sorted(
                (round(sent - run.started_at, 2), round((run.webhooks[w] - sent) * 1000, 1))
                for nid, sent in run.accepted_at.items()
                if (w := _balance_webhook(nid)) in run.webhooks
            )
            for name, run in runs.items()
        }
    finally:
        for system in systems:
            system.stop()
    return found


def _balance_webhook(notification_id: str) -> str:
    from demo.bank.events import BALANCE_UPDATED, event_id

    return event_id(notification_id, BALANCE_UPDATED)


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Min, median and max over the runs, and the serverless/monolith ratios taken inside each run."""

    def over(path: tuple[str, ...]) -> dict[str, float]:
        values = []
        for run in runs:
            value: Any = run
            for key in path:
                value = value[key]
            values.append(float(value))
        return spread(values)

    def ratio(section: str, key: str) -> dict[str, float]:
        return spread([r[section]["serverless"][key] / r[section]["monolith"][key] for r in runs])

    found: dict[str, Any] = {}
    for section in ("flood", "slow_client"):
        found[section] = {
            name: {
                key: over((section, name, key))
                for key in ("applied_per_second", "cpu_ms_per_notification", "seconds_to_drain")
            }
            for name in SYSTEMS
        }
        found[section]["serverless_over_monolith_throughput"] = ratio(section, "applied_per_second")
        found[section]["lost"] = {name: sum(r[section][name]["lost"] for r in runs) for name in SYSTEMS}
        found[section]["balances_equal_oracle"] = all(
            r[section][name]["balances_equal_oracle"] for r in runs for name in SYSTEMS
        )
    found["flood"]["serverless"]["aws_calls_per_notification"] = over(
        ("flood", "serverless", "aws_calls_per_notification")
    )
    found["latency"] = {
        name: {q: over(("latency", name, q)) for q in ("p50", "p95", "p99")} for name in SYSTEMS
    }
    found["latency"]["serverless_over_monolith_p50"] = spread(
        [r["latency"]["serverless"]["p50"] / r["latency"]["monolith"]["p50"] for r in runs]
    )
    found["latency"]["serverless_over_monolith_p99"] = spread(
        [r["latency"]["serverless"]["p99"] / r["latency"]["monolith"]["p99"] for r in runs]
    )
    found["latency"]["lost"] = {name: sum(r["latency_lost"][name] for r in runs) for name in SYSTEMS}
    return found


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
    from demo.aws.shipping import package

    with tempfile.TemporaryDirectory() as tmp:
        sam = package("dev", Path(tmp) / "out", Path(tmp) / "build")
        zips = sorted(sam.parent.glob("*.zip"))
        size = sum(z.stat().st_size for z in zips)
    return {"stage": "dev", "bytes": size, "mb": round(size / 1_000_000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="side-by-side runs of each comparison")
    parser.add_argument("--flood", type=int, default=600, help="deliveries of each throughput run")
    parser.add_argument("--slow-flood", type=int, default=60, help="deliveries of each slow-client run")
    parser.add_argument("--latency-count", type=int, default=120, help="deliveries of each latency run")
    parser.add_argument("--rate", type=float, default=6.0, help="deliveries per second of the latency runs")
    parser.add_argument(
        "--cold-start-runs", type=int, default=9, help="fresh interpreters per cold-start case"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {"cold_start": cold_start(args.cold_start_runs), "zip": zip_size()}
    with quiet_logs():
        runs = []
        for index in range(args.runs):
            runs.append(one_run(index, args))
            print(
                f"run {index + 1}/{args.runs} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr
            )
    result["runs"] = [{k: v for k, v in run.items() if k != "latency_points"} for run in runs]
    result["summary"] = summary(runs)
    result["latency_points"] = runs[-1]["latency_points"]
    result["parameters"] = {
        "runs": args.runs,
        "flood": args.flood,
        "slow_flood": args.slow_flood,
        "senders": SENDERS,
        "slow_client_seconds": SLOW_CLIENT_SECONDS,
        "latency_count": args.latency_count,
        "rate": args.rate,
    }
    result["measured"] = {
        "command": (
            f"python benchmarks/performance.py --runs {args.runs} --flood {args.flood} --slow-flood "
            f"{args.slow_flood} --latency-count {args.latency_count} --rate {args.rate:g}"
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
    s, p = result["summary"], result["parameters"]

    def mm(x: dict[str, float], unit: str = "") -> str:
        return f"min {x['min']:g}{unit}, median {x['median']:g}{unit}"

    cases = result["cold_start"]["cases"]
    lines = [f"cold start (median of {result['cold_start']['runs']} fresh interpreters):"]
    lines += [
        f"  {name:<40} {c['median_ms']:7.1f} ms ({c['min_ms']} - {c['max_ms']})" for name, c in cases.items()
    ]
    lines.append(f"  import app / import boto3: {result['cold_start']['app_over_boto3']:.2f}")
    lines.append(f"deployment zip (dev): {result['zip']['mb']} MB")
    lines.append(f"over {p['runs']} runs, each system in its own process, side by side (min, median):")
    for section, title in (
        ("flood", f"throughput, {p['flood']} deliveries from {p['senders']} senders"),
        (
            "slow_client",
            f"throughput, {p['slow_flood']} deliveries, the client answering in {p['slow_client_seconds']} s",
        ),
    ):
        lines.append(
            f"  {title} (applied per second; 0 lost: {not any(s[section]['lost'].values())}, "
            f"balances = oracle: {s[section]['balances_equal_oracle']}):"
        )
        for name in SYSTEMS:
            lines.append(
                f"    {name:<10} {mm(s[section][name]['applied_per_second'], '/s')}; "
                f"CPU {mm(s[section][name]['cpu_ms_per_notification'], ' ms')} a notification"
            )
        lines.append(f"    serverless / monolith: {mm(s[section]['serverless_over_monolith_throughput'])}")
    lines.append(
        f"  AWS requests per notification (serverless flood): {mm(s['flood']['serverless']['aws_calls_per_notification'])}"
    )
    lines.append(
        f"  latency, {p['latency_count']} deliveries at {p['rate']:g}/s, both at once (send -> balance webhook):"
    )
    for name in SYSTEMS:
        q = s["latency"][name]
        lines.append(f"    {name:<10} p50 {mm(q['p50'], ' ms')}; p99 {mm(q['p99'], ' ms')}")
    lines.append(
        f"    serverless / monolith, p50: {mm(s['latency']['serverless_over_monolith_p50'])}; "
        f"p99: {mm(s['latency']['serverless_over_monolith_p99'])}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
