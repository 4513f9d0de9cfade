"""Where the local cloud's CPU goes during a flood: py-spy on both of its processes.

Not a test, and not part of ``make benchmark``: it samples, with py-spy (a dev dependency), the
thread that holds the GIL in each of the serverless system's two processes (the functions' and
the emulator's, see demo/localcloud/emulator.py) while ``benchmarks/performance.py``'s flood runs
against it, then writes to benchmarks/results/profile.json, per process: its CPU seconds over the
flood, the share of samples by the package running (moto, botocore, chalice, the bank's code...),
and the functions found in the most samples (inclusive: a function and what it calls). The docs'
performance page renders that file.

A sampling profiler sees what holds the GIL, not the time spent waiting or in system calls: the
shares say where Python spends its time, the CPU seconds what the process cost in all.

    python benchmarks/cpu_profile.py [--flood 600] [--rate 250] [--json benchmarks/results/profile.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from performance import RemoteSystem, flood

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "profile.json"
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")
ROOTS = ("threading.py", "socketserver.py")  # a thread's start, a server's handling: in every sample
TOP = 12
# What each sample was doing, by the first of these its stack holds (from the thread's start).
HOPS = {
    "functions' process": [
        (r"^receive_notification \(app\.py", "the API's handler (POST /notifications)"),
        (r"^apply_notifications \(app\.py", "the worker (apply_notifications)"),
        (r"^deliver_webhooks \(app\.py", "the dispatcher (deliver_webhooks)"),
        (r"^write_audit \(app\.py", "the audit writer (write_audit)"),
        (r"^review_desk \(app\.py", "the review desk (review_desk)"),
        (r"^SqsPoller\.", "the event source mappings (receive, delete)"),
        (
            r"^(ChaliceRequestHandler|BaseHTTPRequestHandler)\.",
            "the API's HTTP server (Chalice's local gateway)",
        ),
        (r"^Emulator\._read_events", "the wake-ups from the emulator"),
    ],
    "emulator process": [
        (r"^MotoDispatcher\.receive ", "SQS ReceiveMessage (the event source mappings)"),
        (r"^MotoDispatcher\.delete ", "SQS DeleteMessageBatch (the event source mappings)"),
        (
            r"^(?!Base)\w+(Response|Handler)\.(?!call_action|__init__)(?P<operation>[a-z_]+) \(moto/(?P<service>\w+)/responses\.py",
            None,
        ),
        (
            r"^(BaseResponse|MotoDispatcher|_WireRequest|_moto_request)",
            "moto's request handling (routing, parsing, serializing)",
        ),
        (r"^Emulator\._write_events", "the wake-ups to the functions' process"),
    ],
}


def _where(file: str) -> str:
    """A frame's file, short: ``moto/sqs/models.py``, ``demo/localcloud/wire.py``, ``json/encoder.py``."""
    for root in _ROOTS:  # this checkout, then the installed packages, then the standard library
        if file.startswith(root):
            return file[len(root) :].lstrip("/")
    return file


# Longest first: site-packages lies under the standard library's prefix in a virtualenv.
_ROOTS = sorted(
    {str(ROOT), *sysconfig.get_paths().values(), *(p for p in sys.path if p.endswith("site-packages"))},
    key=len,
    reverse=True,
)


def _package(where: str) -> str:
    head = where.split("/", 1)[0]
    if where.startswith("demo/serverless/") or head in ("chalicelib", "app.py"):
        return "the bank's handlers (demo/serverless/)"
    if where.startswith("demo/localcloud/"):
        return "the local cloud (demo/localcloud/)"
    if head == "demo":
        return "the bank's domain and the parties (demo/)"
    if head in ("moto", "botocore", "chalice", "werkzeug", "boto3"):
        return head
    return "Python's standard library" if head.endswith(".py") or head in _STDLIB else head


_STDLIB = {"json", "http", "email", "urllib", "collections", "concurrent", "logging", "re", "importlib"}


def _hop(names: list[str], hops: list[tuple[str, str | None]]) -> str:
    for pattern, label in hops:
        for name in names:
            found = re.match(pattern, name)
            if found is not None:
                if label is None:  # a service's operation: sqs.send_message
                    return f"{found['service']}.{found['operation']}"
                return label
    return "other"


def summarize(raw: str, hops: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Shares by hop (what the sample was doing), by package (the frame running) and the functions
    in most samples, from py-spy's raw format."""
    total = 0
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_hop: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        seen: set[str] = set()
        names: list[str] = []
        leaf = None
        for frame in stack.split(";"):
            found = FRAME.match(frame)
            if found is None:
                continue
            where = _where(found["file"])
            leaf = where
            if where.endswith(ROOTS) or where.startswith("<frozen"):
                continue
            name = f"{found['function']} ({where})"
            names.append(name)
            if name not in seen:
                seen.add(name)
                inclusive[name] += n
        packages[_package(leaf or "?")] += n
        by_hop[_hop(names, hops)] += n

    def share(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    # the chains every request goes through (a thread's loop, a dispatcher) say nothing: skipped
    top = [(name, n) for name, n in inclusive.most_common() if n < 0.5 * total][:TOP]
    return {
        "samples": total,
        "by_hop": [{"hop": h, "percent": share(n)} for h, n in by_hop.most_common()],
        "by_package": [{"package": p, "percent": share(n)} for p, n in packages.most_common()],
        "top_functions": [{"function": f, "percent": share(n)} for f, n in top],
    }


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flood", type=int, default=600, help="deliveries (20%% duplicates), from 4 senders")
    parser.add_argument("--rate", type=int, default=250, help="py-spy's samples a second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: make env-dev installs it (the dev extra)")
    system = RemoteSystem("serverless")
    out = Path(tempfile.mkdtemp(prefix="bank-profile-"))
    try:
        functions = system.ask(cmd="pids")["pids"]
        pids = {"functions' process": functions[0], "emulator process": functions[1]}
        spies = {
            name: subprocess.Popen(  # noqa: S603 - py-spy, found above
                [
                    *(spy, "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", str(args.rate)),
                    *("--format", "raw", "--output", str(out / f"{pid}.txt")),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in pids.items()
        }
        time.sleep(1.0)  # py-spy attached (it samples from its first second on)
        before = {name: _cpu(pid) for name, pid in pids.items()}
        cpu: dict[str, float] = {}

        def drained() -> None:  # the flood is over: stop sampling before the benchmark's own checks
            cpu.update({name: round(_cpu(pid) - before[name], 2) for name, pid in pids.items()})
            for one in spies.values():
                one.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            for one in spies.values():
                one.wait(timeout=60)

        found = flood(system, args.flood, args.seed, on_drained=drained)
        processes = {
            name: {"cpu_seconds": cpu[name], **summarize((out / f"{pid}.txt").read_text(), HOPS[name])}
            for name, pid in pids.items()
        }
    finally:
        system.stop()
        shutil.rmtree(out, ignore_errors=True)
    result = {
        "flood": {
            k: found[k]
            for k in (
                "deliveries",
                "distinct",
                "lost",
                "applied_per_second",
                "cpu_ms_per_notification",
                "aws_calls_per_notification",
                "aws_calls",
            )
        },
        "processes": processes,
        "measured": {
            "command": f"python benchmarks/cpu_profile.py --flood {args.flood} --rate {args.rate}",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
            "note": "py-spy --gil: samples of the thread holding the GIL; CPU seconds from /proc, all threads",
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    for name, process in processes.items():
        print(f"{name}: {process['cpu_seconds']} s of CPU, {process['samples']} samples")
        for row in process["by_hop"][:8]:
            print(f"  {row['percent']:5.1f}%  {row['hop']}")
        for row in process["by_package"][:6]:
            print(f"  {row['percent']:5.1f}%  {row['package']}")
        for row in process["top_functions"][:8]:
            print(f"  {row['percent']:5.1f}%  {row['function']}")
    print(
        f"{found['distinct']} notifications, {found['cpu_ms_per_notification']} ms of CPU and "
        f"{found['aws_calls_per_notification']} AWS requests each; written to {args.json}"
    )


if __name__ == "__main__":
    main()
