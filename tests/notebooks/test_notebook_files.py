"""The notebooks are stored diff-friendly: jupytext percent scripts, no outputs, no .ipynb in git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jupytext
import pytest
from site_build import NOTEBOOKS, NOTEBOOKS_DIR, ROOT


def test_no_ipynb_is_tracked():
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == [], "store notebooks as jupytext percent .py files, not .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_each_notebook_is_a_jupytext_percent_script_that_round_trips(path: Path):
    text = path.read_text(encoding="utf-8")
    assert "format_name: percent" in text.split("# ---", 2)[1], "the jupytext header names the percent format"
    notebook = jupytext.reads(text, fmt="py:percent")
    assert all(not cell.get("outputs") for cell in notebook.cells)
    # what JupyterLab saves back is what git holds: no churn from opening and saving a notebook
    assert jupytext.writes(notebook, fmt="py:percent") == text


def test_the_notebooks_are_the_seven_steps():
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"]
    assert (NOTEBOOKS_DIR / "yourturn.py").is_file()
