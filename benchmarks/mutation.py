"""The domain's mutation score: mutmut over demo/bank/ with its fast tests -> benchmarks/results/mutation.json.

Not part of ``make test`` (it runs the domain's tests once per mutant: minutes). ``make mutation``
runs it. mutmut's configuration is in pyproject.toml (``[tool.mutmut]``): which code it mutates
and which tests judge a mutant. Each mutant is one small change to the code (``<`` for ``<=``,
``None`` for a value, a string changed); the tests kill it when one of them fails. A mutant that
survives is a change no test noticed: a missing test, or a change that does not change what the
code does (an equivalent mutant).

Each mutant that survives is listed with its diff and, from benchmarks/equivalent_mutants.toml,
why no test should kill it; the run names those not explained there.

The score is the share of mutants killed (a mutant that made the tests time out counts as killed:
they noticed) among all those mutmut made, the mutants in code no selected test runs included.

    python benchmarks/mutation.py [--max-children N] [--json benchmarks/results/mutation.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
# Why each mutant no test kills survives (an equivalent mutant: it changes nothing observable).
EQUIVALENTS = ROOT / "benchmarks" / "equivalent_mutants.toml"
GOAL = 0.90
# `mutmut results` lists each mutant it did not kill as `<module>.<function>__mutmut_<n>: <status>`.
LINE = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>[\w ]+)$")


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("mutmut")), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603


def _diff(mutant: str) -> str:
    """The mutant as a diff of the code (``mutmut show``)."""
    return mutmut("show", mutant).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    started = time.monotonic()
    ran = mutmut("run", "--max-children", str(args.max_children))
    if ran.returncode != 0:
        raise SystemExit(
            f"mutmut run failed (exit {ran.returncode}):\n{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}"
        )
    seconds = time.monotonic() - started
    exported = mutmut("export-cicd-stats")
    if exported.returncode != 0:
        raise SystemExit(f"mutmut export-cicd-stats failed:\n{exported.stderr}")
    stats = json.loads((ROOT / "mutants" / "mutmut-cicd-stats.json").read_text())

    not_killed: dict[str, list[dict[str, str]]] = {}
    for line in mutmut("results").stdout.splitlines():
        found = LINE.match(line)
        if found:
            name, status = found["name"], found["status"].strip()
            module = name.rsplit(".", 1)[0]
            not_killed.setdefault(module, []).append({"mutant": name, "status": status})

    table = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.is_file() else {}
    reasons: dict[str, str] = table.get("mutants", {})
    survivors = [
        {
            "mutant": m["mutant"],
            "status": m["status"],
            "diff": _diff(m["mutant"]),
            "reason": reasons.get(m["mutant"], ""),
        }
        for mutants in not_killed.values()
        for m in mutants
    ]
    example = next((s for s in survivors if s["mutant"] == table.get("example")), None)
    stale = sorted(set(reasons) - {s["mutant"] for s in survivors})

    total = stats["total"]
    caught = stats["killed"] + stats["timeout"]
    by_module = {
        module: dict(Counter(m["status"] for m in mutants)) for module, mutants in sorted(not_killed.items())
    }
    result: dict[str, Any] = {
        "source": "demo/bank/",
        "mutants": total,
        "killed": stats["killed"],
        "timeout": stats["timeout"],
        "survived": stats["survived"],
        "no_tests": stats["no_tests"],
        "suspicious": stats["suspicious"],
        "skipped": stats["skipped"],
        "score": round(caught / total, 4) if total else None,
        "goal": GOAL,
        "not_killed_by_module": by_module,
        "survivors": survivors,
        "example": example,
        "measured": {
            "command": f"python benchmarks/mutation.py --max-children {args.max_children}",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}",
        },
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    score = result["score"] or 0.0
    print(f"{total} mutants of demo/bank/ in {seconds:.0f} s: {caught} killed ({score:.1%}), goal {GOAL:.0%}")
    print(f"  survived {stats['survived']}, in code no selected test runs {stats['no_tests']}")
    for module, counts in by_module.items():
        print(f"  {module}: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    unexplained = [s["mutant"] for s in survivors if not s["reason"]]
    if unexplained:
        print(f"  not killed and not explained in {EQUIVALENTS.name}: " + ", ".join(unexplained))
    if table.get("example") and example is None:
        print(f"  the example of {EQUIVALENTS.name}, {table['example']}, no longer survives: pick another")
    if stale:
        print(f"  explained in {EQUIVALENTS.name} but no longer surviving (remove them): " + ", ".join(stale))
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
