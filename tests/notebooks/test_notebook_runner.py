"""run_notebook on a tiny notebook: one kernel, the solutions run right after their solution
cell, the added cells tagged, the original cells keeping the outputs of the unsolved run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from notebook_runner import (
    CHECK_RUN,
    SOLUTION_RUN,
    exercises,
    run_notebook,
    stream_text,
    tags,
    without_added_cells,
)

TINY = """# %%
import os

def check(answer):
    if answer is ...:
        print("Your turn: replace the ... above and run this cell again.")
    elif answer == 42:
        print("✅ right")
    else:
        raise AssertionError("Not yet: think of a number")

# %% [markdown]
# ## Your turn

# %% tags=["exercise"]
answer = ...

# %% tags=["check"]
check(answer)

# %% [markdown] tags=["solution"]
# <details><summary>Show a solution</summary>
#
# ```python
# answer = 6 * 7
# ```
#
# </details>

# %%
print("teardown", answer, os.getpid())
"""


def cell(source: str, kind: str = "code", tag: str | None = None) -> nbformat.NotebookNode:
    made = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if tag:
        made.metadata["tags"] = [tag]
    return made


SOLUTION = "<details><summary>Show a solution</summary>\n\n```python\nx = 1\n```\n\n</details>"


def test_exercises_are_an_exercise_a_check_and_a_solution_in_that_order():
    good = nbformat.v4.new_notebook(
        cells=[
            cell("x = ...", tag="exercise"),
            cell("check(x)", tag="check"),
            cell(SOLUTION, "markdown", "solution"),
        ]
    )
    (found,) = exercises(good)
    assert (found.exercise, found.check, found.solution, found.code) == (0, 1, 2, "x = 1")

    no_check = nbformat.v4.new_notebook(
        cells=[cell("x = ...", tag="exercise"), cell(SOLUTION, "markdown", "solution")]
    )
    with pytest.raises(ValueError, match="expected a check cell first"):
        exercises(no_check)
    no_solution = nbformat.v4.new_notebook(
        cells=[cell("x = ...", tag="exercise"), cell("check(x)", tag="check")]
    )
    with pytest.raises(ValueError, match="no check or solution"):
        exercises(no_solution)
    no_code = nbformat.v4.new_notebook(
        cells=[
            cell("x = ...", tag="exercise"),
            cell("check(x)", tag="check"),
            cell("<details>", "markdown", "solution"),
        ]
    )
    with pytest.raises(ValueError, match="without a ```python block"):
        exercises(no_code)


def test_run_notebook_solves_each_exercise_in_the_same_kernel_after_its_solution_cell(tmp_path: Path):
    path = tmp_path / "tiny.py"
    path.write_text(TINY)

    notebook = run_notebook(path, timeout=60)

    kinds = [next(iter(tags(c)), c.cell_type) for c in notebook.cells]
    assert kinds == ["code", "markdown", "exercise", "check", "solution", SOLUTION_RUN, CHECK_RUN, "code"]
    check, solution_run, check_run, teardown = (notebook.cells[i] for i in (3, 5, 6, 7))
    assert stream_text(check).startswith("Your turn:")  # the original cell: the unsolved run's output
    assert solution_run.source == "answer = 6 * 7"
    assert stream_text(check_run) == "✅ right\n"
    assert stream_text(teardown).startswith("teardown 42 ")  # one kernel: the solution's answer
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == sorted(counts), "executed in the order of the cells"
    assert [c.source for c in without_added_cells(notebook).cells] == [
        c.source for c in notebook.cells if not tags(c) & {SOLUTION_RUN, CHECK_RUN}
    ]

    unsolved = run_notebook(path, solutions=False, timeout=60)
    assert len(unsolved.cells) == 6 and stream_text(unsolved.cells[-1]).startswith("teardown Ellipsis")


def test_a_wrong_solution_fails_the_run(tmp_path: Path):
    path = tmp_path / "wrong.py"
    path.write_text(TINY.replace("answer = 6 * 7", "answer = 41"))
    with pytest.raises(CellExecutionError, match="think of a number"):
        run_notebook(path, timeout=60)
