"""The static types' figures: mypy strict over what it checks -> benchmarks/results/types.json.

``make lint`` and ``make test`` (tests/unit/test_types.py) fail on a type error; this script
writes down what the check covers, for the docs page and the slide "The safety net": how many
modules, by folder, how many errors (0, or the run says which), and each ``# type: ignore`` left
in the code with the reason on its line. mypy's configuration is pyproject.toml's ``[tool.mypy]``.

    python benchmarks/type_check.py [--json benchmarks/results/types.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "types.json"
# `demo/cli/ship.py:12: error: ...  [code]`
ERROR = re.compile(r"^(?P<file>[^:\s]+):\d+: error: .*\[(?P<code>[\w-]+)\]$")
IGNORE = re.compile(r"^#\s*type:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?P<rest>.*)$")


def checked_files() -> list[Path]:
    """The Python files mypy checks: pyproject's ``files``, as mypy expands them (vendor excluded)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    found: list[Path] = []
    for entry in config["files"]:
        path = ROOT / entry
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [p for p in found if "vendor" not in p.relative_to(ROOT).parts]


def folder(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    if parts[:2] == ("demo", "serverless") and len(parts) > 3:
        return "/".join(parts[:3])  # demo/serverless/chalicelib
    return "/".join(parts[:2]) if len(parts) > 2 else "/".join(parts[:-1]) or "."


def ignores(files: list[Path]) -> list[dict[str, str]]:
    """Every ``# type: ignore`` comment left in the checked code (comments only, not strings that
    mention one): where, which error codes, and the reason that follows it on its line."""
    found = []
    for path in files:
        with path.open(encoding="utf-8") as source:
            comments = [t for t in tokenize.generate_tokens(source.readline) if t.type == tokenize.COMMENT]
        for comment in comments:
            match = IGNORE.match(comment.string)
            if match:
                found.append(
                    {
                        "where": f"{path.relative_to(ROOT)}:{comment.start[0]}",
                        "codes": match["codes"] or "",
                        "reason": match["rest"].strip().lstrip("#").strip(),
                    }
                )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args()

    mypy = Path(sys.executable).with_name("mypy")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as cache:  # a cold cache: the time is a whole check's
        ran = subprocess.run(  # noqa: S603
            [str(mypy), "--cache-dir", cache], cwd=ROOT, capture_output=True, text=True, check=False
        )
    seconds = time.monotonic() - started
    summary = (ran.stdout.strip().splitlines() or [""])[-1]
    counted = re.search(r"(?:in|checked) (\d+) source files?", summary)
    if not counted:
        raise SystemExit(
            f"mypy did not run (exit {ran.returncode}):\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}"
        )
    errors = [m for m in map(ERROR.match, ran.stdout.splitlines()) if m]
    files = checked_files()
    found = ignores(files)
    result: dict[str, Any] = {
        "checker": f"mypy {_version(mypy)}, strict (pyproject.toml [tool.mypy])",
        "modules": int(counted[1]),
        "errors": len(errors),
        "errors_by_code": dict(Counter(m["code"] for m in errors).most_common()),
        "modules_by_folder": dict(sorted(Counter(folder(p) for p in files).items())),
        "ignores": found,
        "ignores_by_folder": dict(
            sorted(Counter(folder(ROOT / i["where"].rsplit(":", 1)[0]) for i in found).items())
        ),
        "measured": {
            "command": "python benchmarks/type_check.py",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}",
        },
    }
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"mypy strict: {result['errors']} errors in {result['modules']} modules "
        f"({seconds:.1f} s, cold cache); {len(result['ignores'])} type: ignore left, each with its reason"
    )
    print(f"written to {args.json}")
    if errors:
        raise SystemExit(ran.stdout)


def _version(mypy: Path) -> str:
    out = subprocess.run([str(mypy), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    return out.split()[1]


if __name__ == "__main__":
    main()
