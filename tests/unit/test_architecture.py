"""The house's ground plan holds: the import contracts of pyproject.toml, no file over 600 lines,
the Chalice app's handlers importing the domain and their adapters only.

The contracts are import-linter's (``lint-imports``, also run by ``make lint``); one test breaks
a copy of the code on purpose, to show that a new circle or a wrong-way import would fail them.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 600


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(root / "demo" / "serverless")}  # chalicelib, as Chalice finds it
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_import_contract_is_kept() -> None:
    found = lint_imports(ROOT)
    assert found.returncode == 0, found.stdout + found.stderr
    assert "0 broken" in found.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code and the contracts, copied: the tests below break the copy, never the tree."""
    root = tmp_path_factory.mktemp("house")
    shutil.copy(ROOT / "pyproject.toml", root)
    shutil.copytree(ROOT / "demo", root / "demo", ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    return root


@pytest.mark.parametrize(
    ("importer", "line", "contract"),
    [
        ("demo/bank/ledger.py", "import demo.bank.service", "No import circle"),
        ("demo/bank/ledger.py", "import boto3", "The domain stands alone"),
        ("demo/operations/tables.py", "import demo.cli", "The layers"),
        ("demo/aws/queues.py", "import demo.localcloud.cloud", "The layers"),
        (
            "demo/serverless/chalicelib/queues.py",
            "import demo.localcloud.session",
            "chalicelib imports the domain only",
        ),
    ],
    ids=["circle", "domain-boto3", "operations-cli", "aws-localcloud", "chalicelib-localcloud"],
)
def test_a_wrong_way_import_breaks_a_contract(copy: Path, importer: str, line: str, contract: str) -> None:
    path = copy / importer
    original = path.read_text()
    path.write_text(original + f"\n{line}  # added by the test\n")
    try:
        found = lint_imports(copy)
    finally:
        path.write_text(original)
    assert found.returncode != 0
    broken = [row for row in found.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), found.stdout


def _sources() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / p
        for p in tracked
        if not p.startswith(("tests/", "demo/serverless/vendor/")) and (ROOT / p).exists()
    ]


def test_no_source_file_is_over_600_lines() -> None:
    sources = _sources()
    assert any(p.name == "cloud.py" for p in sources)  # the listing found the code
    long = {
        str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"over {MAX_LINES} lines: {long}"


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_chalice_app_imports_the_domain_and_its_adapters_only() -> None:
    """app.py is a module of its own on Lambda (no package for import-linter to read): checked here."""
    imported = _imported(ast.parse((ROOT / "demo" / "serverless" / "app.py").read_text()))
    ours = {m for m in imported if m.split(".")[0] in ("demo", "chalicelib", "moto", "boto3", "flask")}
    assert ours, imported
    wrong = {m for m in ours if m.split(".")[0] != "chalicelib" and not m.startswith("demo.bank")}
    assert not wrong, f"app.py imports {wrong}"
    assert "chalice" in imported
