"""The last three notebooks, run as test_notebooks.py runs the first four: on another worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_notebooks import LATER, runs_and_checks_out


@pytest.mark.parametrize("path", LATER, ids=lambda path: path.name)
def test_notebook_runs_and_its_exercises_check_out(path: Path, tmp_path_factory: pytest.TempPathFactory):
    runs_and_checks_out(path, tmp_path_factory)
