"""Every branch of the domain (demo/bank/) is taken by the domain's own fast tests.

`make test` measures the whole suite under coverage, with a 100% floor over demo/bank/; this test
asks more of the domain: that its own fast tests, those mutmut judges mutants with
(pyproject.toml, `[tool.mutmut]`), take every branch, so that no rule is covered only by an
end-to-end test. They run in a subprocess under coverage.py (branch coverage), so that a failure
names the file, its lines and its branches. Each excluded line says why on the line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOOR = 100.0
# The domain only, whatever else the tests import; the floor is checked here, file by file.
REPORT = ("--include", "demo/bank/*", "--fail-under", "0")


def domain_tests() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tests: list[str] = config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    return tests


@pytest.mark.timeout(600)
def test_the_domain_tests_take_every_branch_of_the_domain(tmp_path: Path) -> None:
    data = tmp_path / "coverage"
    env_python = Path(sys.executable)
    ran = subprocess.run(
        [
            str(env_python.with_name("coverage")),
            *("run", "--branch", "--source", "demo/bank", "--data-file", str(data)),
            *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly"),
            *domain_tests(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, f"the domain's tests failed:\n{ran.stdout[-3000:]}"
    report = tmp_path / "coverage.json"
    subprocess.run(
        [
            str(env_python.with_name("coverage")),
            "json",
            "--data-file",
            str(data),
            "-o",
            str(report),
            "-q",
            *REPORT,
        ],
        cwd=ROOT,
        check=True,
    )
    files = json.loads(report.read_text())["files"]
    short = {
        name: (f["summary"]["percent_covered"], f["missing_lines"], f.get("missing_branches", []))
        for name, f in files.items()
        if f["summary"]["percent_covered"] < FLOOR
    }
    assert set(files) >= {f"demo/bank/{p.name}" for p in (ROOT / "demo" / "bank").glob("*.py")}
    assert not short, (
        "branches of demo/bank/ no domain test takes (file: percent, lines, branches):\n"
        + "\n".join(
            f"  {name}: {pct:.1f}%, lines {lines}, branches {branches}"
            for name, (pct, lines, branches) in short.items()
        )
    )
