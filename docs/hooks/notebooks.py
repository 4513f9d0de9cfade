"""Notebook pages from notebooks that already ran: the test suite executes each notebook once.

`mkdocs build` executes the notebooks itself (mkdocs-jupyter, ``execute: true``), so that the
pages show real outputs. The test suite executes them too, to check them and their exercises;
running them twice would cost minutes of a suite that must stay under ten. With
``BANKDEMO_EXECUTED_NOTEBOOKS=DIR`` (set by tests/site_build.py), a page is rendered from
``DIR/<name>.ipynb`` instead, outputs included, without running anything. Cells that the tests
added to check the exercises' solutions (tagged ``solution-run`` or ``check-run``) are left out:
the site shows the notebook as an attendee opens it.

A notebook missing from DIR fails the build: the page would otherwise show no outputs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ADDED_BY_TESTS = {"solution-run", "check-run"}


def on_config(config: Any) -> Any:
    folder = os.environ.get("BANKDEMO_EXECUTED_NOTEBOOKS")
    if folder:
        _render_from(Path(folder))
    return config


def _render_from(folder: Path) -> None:
    import nbformat
    from mkdocs.exceptions import PluginError
    from mkdocs_jupyter import convert, nbconvert2

    original = getattr(convert.nb2html, "__wrapped__", convert.nb2html)
    jupytext = nbconvert2.jupytext

    class ExecutedReader:
        """Stands in for jupytext in mkdocs-jupyter's converter: ``read`` returns the run notebook."""

        def __init__(self, executed: Path) -> None:
            self.executed = executed

        def read(self, path: str, *args: Any, **kwargs: Any) -> Any:
            notebook = nbformat.read(self.executed, as_version=4)
            notebook.cells = [
                cell for cell in notebook.cells if not ADDED_BY_TESTS & set(cell.metadata.get("tags", []))
            ]
            return notebook

        def writes(self, *args: Any, **kwargs: Any) -> str:
            return jupytext.writes(*args, **kwargs)

    def nb2html(nb_path: str, *args: Any, **kwargs: Any) -> str:
        executed = folder / f"{Path(nb_path).stem}.ipynb"
        if not executed.is_file():
            raise PluginError(f"BANKDEMO_EXECUTED_NOTEBOOKS: no {executed} for {nb_path}")
        kwargs["execute"] = False
        nbconvert2.jupytext = ExecutedReader(executed)
        try:
            return original(nb_path, *args, **kwargs)
        finally:
            nbconvert2.jupytext = jupytext

    nb2html.__wrapped__ = original  # type: ignore[attr-defined]
    convert.nb2html = nb2html
