"""Cold-start budget of the Lambda entry module: how long `import app` takes, next to `import boto3`.

Each figure is measured in a fresh interpreter (no module cached), repeated, and the median is
printed with the spread. Python's own start-up is not counted: the clock starts inside the child.

    python benchmarks/cold_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent / "demo" / "serverless"

CASES = {
    "import boto3": "import boto3",
    "import app (the Lambda entry module)": "import app",
    "import app + build its boto3 clients": (
        "import app\n"
        "from chalicelib.bootstrap import container\n"
        "c = container(); c.ledger; c.queue; c.secrets"
    ),
}

CHILD = """
import sys, time, json
sys.path.insert(0, {project!r})
t0 = time.perf_counter()
exec(compile({code!r}, "<case>", "exec"))
print(json.dumps(time.perf_counter() - t0))
"""


def measure(code: str, runs: int) -> list[float]:
    env = {
        **os.environ,
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    times = []
    for _ in range(runs + 1):  # the first run writes .pyc files: discarded
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", CHILD.format(project=str(PROJECT_DIR), code=code)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        times.append(json.loads(out.strip().splitlines()[-1]))
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per case (default 9)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {args.runs} fresh interpreters per case, median (min - max):")
    for name, code in CASES.items():
        times = measure(code, args.runs)
        print(
            f"  {name:<40} {statistics.median(times) * 1000:7.1f} ms"
            f"   ({min(times) * 1000:.1f} - {max(times) * 1000:.1f})"
        )


if __name__ == "__main__":
    main()
