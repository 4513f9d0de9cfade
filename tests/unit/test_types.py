"""The static types hold: mypy, strict, over the demo package, its Chalice project and the notebooks' helper.

Run here, inside the test suite, so that `make test` (and CI) fails on a type error as it fails on
a test; `make lint` runs the same command. Its configuration is pyproject.toml's `[tool.mypy]`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_mypy_strict_finds_no_error(tmp_path: Path) -> None:
    mypy = Path(sys.executable).with_name("mypy")
    # A cache of its own: the checked result does not depend on what an earlier run left behind.
    found = subprocess.run(
        [str(mypy), "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, f"mypy found type errors:\n{found.stdout}{found.stderr}"
    assert found.stdout == "", found.stdout


def test_the_configuration_is_strict_an_untyped_function_or_a_wrong_type_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def untyped(value):\n    return value\n\n\ncount: int = "three"\n')
    mypy = Path(sys.executable).with_name("mypy")
    found = subprocess.run(
        [
            str(mypy),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "c"),
            str(bad),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 1, found.stdout
    assert "[no-untyped-def]" in found.stdout  # strict: every function typed
    assert "[assignment]" in found.stdout


def test_every_type_ignore_names_its_error_code_and_says_why() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import type_check  # benchmarks/type_check.py: the same reading as the safety net's page

    bare = [
        f"{i['where']}: {'no error code' if not i['codes'] else 'no reason'}"
        for i in type_check.ignores(type_check.checked_files())
        if not (i["codes"] and i["reason"])
    ]
    assert not bare, "a `# type: ignore[code]  # why` on each line:\n" + "\n".join(bare)


def test_the_safety_nets_page_lists_the_ignores_as_they_are_in_the_code() -> None:
    import json

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import type_check

    recorded = json.loads((ROOT / "benchmarks" / "results" / "types.json").read_text())
    files = type_check.checked_files()
    assert recorded["ignores"] == type_check.ignores(files), "the ignores moved: run `make types`"
    assert recorded["modules"] == len(files), "modules added or removed: run `make types`"
