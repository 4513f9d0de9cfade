"""Execute a jupytext notebook the way an attendee runs it, then check its "Your turn" exercises.

An exercise is three cells, in this order (``notebooks/yourturn.py`` has the checks):

- a code cell tagged ``exercise``: the attendee's answer, ``...`` placeholders until solved;
- a code cell tagged ``check``: calls a check of ``yourturn``, which prints a "Your turn" line
  while the answer is ``...``, a line starting with ✅ when it is right, and raises otherwise;
- a markdown cell tagged ``solution``: ``<details><summary>Show a solution</summary>``, a fenced
  ```` ```python ```` block, ``</details>``.

``run_notebook(path)`` executes the notebook once, top to bottom, in one kernel (its folder as
the working directory), as it is: every exercise unsolved. With ``solutions=True`` it also
solves each exercise, in the same kernel and at the moment an attendee would, right after the
exercise's solution cell: it runs the solution's code, then the check again. A notebook's last
cells stop the systems it started, so the solutions cannot wait for the end of the notebook.

The returned notebook is the complete executed notebook: every original cell with the outputs
of the unsolved run, and, after each exercise's solution cell, two added code cells with their
outputs: the solution's code (tagged ``solution-run``) and the check run again (tagged
``check-run``). ``without_added_cells(notebook)`` gives the notebook as an attendee opens it
(for the docs site). A failing cell, solution runs included, raises nbclient's
``CellExecutionError`` with the cell and its traceback.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

EXERCISE, CHECK, SOLUTION = "exercise", "check", "solution"
SOLUTION_RUN, CHECK_RUN = "solution-run", "check-run"
ADDED = {SOLUTION_RUN, CHECK_RUN}
YOUR_TURN = "Your turn:"  # how yourturn.py starts its line for an unsolved answer
PASSED = "✅"  # how yourturn.py starts its line for a right answer
_PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@dataclass(frozen=True)
class Exercise:
    """The indexes of one exercise's cells in the notebook, and its solution's code."""

    exercise: int
    check: int
    solution: int
    code: str


def solution_code(cell: nbformat.NotebookNode) -> str:
    """The code of the fenced ```python blocks of a solution cell, joined."""
    blocks = _PYTHON_BLOCK.findall(cell.source)
    if not blocks:
        raise ValueError(f"a solution cell without a ```python block:\n{cell.source}")
    return "\n".join(block.rstrip("\n") for block in blocks)


def exercises(notebook: nbformat.NotebookNode) -> list[Exercise]:
    """Every exercise of ``notebook``: an ``exercise`` code cell, then its ``check`` code cell,
    then its ``solution`` markdown cell, before the next exercise. Raises ValueError otherwise."""
    found: list[Exercise] = []
    pending: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        kind = tags(cell) & {EXERCISE, CHECK, SOLUTION}
        if len(kind) > 1:
            raise ValueError(f"cell {index} has more than one of the tags {sorted(kind)}")
        if not kind:
            continue
        (kind,) = kind
        expected_type = "markdown" if kind == SOLUTION else "code"
        if cell.cell_type != expected_type:
            raise ValueError(f"cell {index}: a {kind} cell must be a {expected_type} cell")
        order = [EXERCISE, CHECK, SOLUTION]
        if order.index(kind) != len(pending):
            missing = order[len(pending)]
            raise ValueError(f"cell {index} ({kind}): expected a {missing} cell first")
        pending[kind] = index
        if kind == SOLUTION:
            found.append(Exercise(pending[EXERCISE], pending[CHECK], index, solution_code(cell)))
            pending = {}
    if pending:
        raise ValueError(f"an exercise at cell {pending[EXERCISE]} has no {CHECK} or {SOLUTION} cell")
    return found


def _added_cell(source: str, tag: str, of: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [tag]
    cell.metadata["exercise_cell"] = of  # the index of the exercise cell, in the original notebook
    return cell


def run_notebook(path: Path, *, solutions: bool = True, timeout: int = 180) -> nbformat.NotebookNode:
    """``path`` executed in one fresh python3 kernel, from its folder; with ``solutions``, each
    exercise also solved and checked right after its solution cell (see the module's docstring).

    ``timeout``: seconds a single cell may take.
    """
    notebook = jupytext.read(path)
    if solutions:
        cells = []
        solved = {exercise.solution: exercise for exercise in exercises(notebook)}
        for index, cell in enumerate(notebook.cells):
            cells.append(cell)
            if index in solved:
                exercise = solved[index]
                cells.append(_added_cell(exercise.code, SOLUTION_RUN, exercise.exercise))
                cells.append(_added_cell(notebook.cells[exercise.check].source, CHECK_RUN, exercise.exercise))
        notebook.cells = cells
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        resources={"metadata": {"path": str(Path(path).resolve().parent)}},
    )
    client.execute()
    return notebook


def without_added_cells(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of an executed notebook without the cells ``run_notebook`` added: as an attendee opens it."""
    original = copy.deepcopy(notebook)
    original.cells = [cell for cell in original.cells if not tags(cell) & ADDED]
    return original


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """How long a code cell took to execute, from the timing nbclient records in its metadata."""
    from datetime import datetime

    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.status.busy"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def stream_text(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed (stdout and stderr)."""
    return "".join(
        output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream"
    )
