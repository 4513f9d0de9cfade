"""Every notebook runs top to bottom without an error, the way a workshop attendee runs it."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_without_error(path: Path):
    # Given a jupytext notebook
    notebook = jupytext.read(path)

    # When it is executed in a fresh python3 kernel, from the notebooks directory
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )

    # Then no cell raises (nbclient raises CellExecutionError with the cell and its traceback)
    client.execute()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cell"
    assert all(cell.get("execution_count") for cell in code_cells), "some code cells did not run"
