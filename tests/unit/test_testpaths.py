"""`make test` runs every test file: the end-to-end files are listed one by one in pyproject's
testpaths (longest first, for the two workers), so a new one must be listed too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_file_is_under_a_testpath():
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
        "testpaths"
    ]
    covered = [ROOT / path for path in testpaths]
    files = sorted((ROOT / "tests").rglob("test_*.py"))
    assert files
    missed = [f.relative_to(ROOT) for f in files if not any(f == c or c in f.parents for c in covered)]
    assert missed == []
    assert len(testpaths) == len(set(testpaths))
