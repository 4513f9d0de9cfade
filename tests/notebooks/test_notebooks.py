"""Every notebook runs top to bottom without an error, the way a workshop attendee runs it, and
ends with exercises whose checks say "Your turn" unsolved and ✅ once their solution is applied.

Each notebook is executed once per test run (``run_notebook``: the notebook as it is, then each
exercise's solution and check again, in the same kernel); one test asserts everything about that
run, and the docs site's notebook pages are rendered from the same run (tests/site_build.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from notebook_runner import (
    CHECK,
    CHECK_RUN,
    PASSED,
    SOLUTION_RUN,
    YOUR_TURN,
    cell_seconds,
    exercises,
    stream_text,
    tags,
    without_added_cells,
)
from site_build import executed_notebook, shared_root, waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9]*.py"))  # not yourturn.py, the checks' module
DETAILS = "<details><summary>Show a solution</summary>"


def test_there_are_notebooks():
    assert len(NOTEBOOKS) == 7, f"expected the 7 step notebooks in {NOTEBOOKS_DIR}: {NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_ends_with_exercises_each_with_a_check_and_a_solution(path: Path):
    notebook = jupytext.read(path)
    found = exercises(notebook)  # raises if the cells are not exercise, check, solution in order
    assert found, f"{path.name} has no exercise"

    headings = [i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and "## " in c.source]
    your_turn = [i for i in headings if "## Your turn" in notebook.cells[i].source]
    assert your_turn, f"{path.name} has no '## Your turn' section"
    assert your_turn[-1] == headings[-1], "'## Your turn' is the last section"
    assert all(e.exercise > your_turn[-1] for e in found), "the exercises are in the Your turn section"

    for exercise in found:
        answer = notebook.cells[exercise.exercise].source
        check = notebook.cells[exercise.check].source
        solution = notebook.cells[exercise.solution].source
        assert "..." in answer, "an exercise cell starts with ... placeholders"
        assert "yourturn.check_" in check, "a check cell calls a check of notebooks/yourturn.py"
        assert solution.lstrip().startswith(DETAILS) and solution.rstrip().endswith("</details>")
        assert exercise.code.strip(), "the solution has code"
        compile(exercise.code, f"{path.name}: solution of cell {exercise.exercise}", "exec")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_and_its_exercises_check_out(path: Path, tmp_path_factory: pytest.TempPathFactory):
    # Given a jupytext notebook, when it is executed in a fresh kernel, unsolved, then with each
    # exercise's solution applied (nbclient raises CellExecutionError if any cell fails)
    started = time.monotonic()
    notebook = nbformat.read(executed_notebook(shared_root(tmp_path_factory), path), as_version=4)
    took = time.monotonic() - started  # 0 if the docs site's build had executed it already
    solving = sum(cell_seconds(cell) for cell in notebook.cells if tags(cell) & {SOLUTION_RUN, CHECK_RUN})
    print(f"{path.name}: executed in {took:.1f} s, of which {solving:.1f} s solving its exercises")

    # Then every original code cell ran
    original = without_added_cells(notebook)
    assert [c.source for c in original.cells] == [c.source for c in jupytext.read(path).cells]
    code_cells = [cell for cell in original.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cell"
    assert all(cell.get("execution_count") for cell in code_cells), "some code cells did not run"

    # and, unsolved, every check printed the Your turn line
    checks = [cell for cell in original.cells if CHECK in tags(cell)]
    assert checks, f"{path.name} has no check cell"
    for cell in checks:
        assert YOUR_TURN in stream_text(cell), f"an unsolved check printed:\n{stream_text(cell)}"

    # and each exercise's solution ran, then its check printed ✅
    added = [(cell, tags(cell)) for cell in notebook.cells if tags(cell) & {SOLUTION_RUN, CHECK_RUN}]
    assert [kind for _, kind in added] == [{SOLUTION_RUN}, {CHECK_RUN}] * len(checks)
    for cell, kind in added:
        assert cell.get("execution_count"), "an added cell did not run"
        if kind == {CHECK_RUN}:
            lines = stream_text(cell).splitlines()
            assert any(line.startswith(PASSED) for line in lines), f"a solved check printed:\n{lines}"
            print("\n".join(line for line in lines if line.startswith(PASSED)))
            assert not any(YOUR_TURN in line for line in lines)
