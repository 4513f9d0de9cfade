"""Work done once per test run, whichever pytest-xdist worker asks first: notebooks and the docs site.

The notebook tests, the docs tests, the link check and the browser tests all need executed
notebooks, and all but the first need the built site. Executing the seven notebooks takes minutes,
so each is executed once per run and its result shared through the run's temporary folder (common
to every worker), behind a file lock: a worker that finds the work in progress waits for it.

The notebook tests take the notebooks in order, the site build in reverse order: two workers that
start at the same time execute different notebooks, and meet in the middle.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from demo.workshop.slides import serving as serve  # noqa: F401 - a folder served on a free port, for the site's tests

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOKS_DIR.glob("[0-9]*.py"))
DONE = ".done"
# The tests that wait on this work may wait minutes (executing the notebooks, building the site),
# longer than pytest-timeout's default of 300 s per test on a busy 2-core machine.
SHARED_WORK_TIMEOUT = 1500
waits_on_shared_work = pytest.mark.timeout(SHARED_WORK_TIMEOUT)


class IgnoreTags(yaml.SafeLoader):
    """Reads mkdocs.yml without resolving its MkDocs-only tags (!relative, !!python/name)."""


IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: None)
IgnoreTags.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_pages(nav: list) -> list[str]:
    """The source paths of every page in the nav, in order."""
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages.extend(nav_pages(value))
        elif not urlsplit(value).scheme:
            pages.append(value)
    return pages


NAV_PAGES = nav_pages(yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=IgnoreTags)["nav"])


def built_path(site: Path, source: str) -> Path:
    """Where MkDocs (use_directory_urls) writes the page built from ``source``."""
    stem = PurePosixPath(source).with_suffix("")
    if stem.name == "index":
        return site / stem.parent / "index.html"
    return site / stem / "index.html"


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder, the same for every xdist worker (each has a sub-folder of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(root: Path, key: str, produce: Callable[[Path], None], timeout: float = SHARED_WORK_TIMEOUT) -> Path:
    """``produce(folder)`` once per run for ``key``; every later caller gets the same folder.

    A failure is recorded, and every later caller fails with it instead of trying again.
    """
    folder = root / key
    failed = root / f"{key}.failed"
    deadline = time.monotonic() + timeout
    with (root / f"{key}.lock").open("w") as lock:
        while True:  # poll the lock with a deadline: never wait forever on another worker
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{key}: another worker held it for {timeout:.0f} s") from None
                time.sleep(0.2)
        try:
            if failed.exists():
                pytest.fail(f"{key} failed in another test:\n{failed.read_text()}", pytrace=False)
            if not (folder / DONE).exists():
                if folder.exists():
                    shutil.rmtree(folder)
                folder.mkdir()
                try:
                    produce(folder)
                except BaseException:
                    failed.write_text(traceback.format_exc())
                    raise
                (folder / DONE).touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def executed_notebook(root: Path, path: Path) -> Path:
    """The notebook at ``path``, executed (its exercises' solutions checked too), as an .ipynb."""
    from notebook_runner import run_notebook

    def produce(folder: Path) -> None:
        import nbformat

        nbformat.write(run_notebook(path), folder / f"{path.stem}.ipynb")

    return once(root, f"notebook-{path.stem}", produce) / f"{path.stem}.ipynb"


def docs_site(root: Path) -> Path:
    """The docs site, built strict, its notebook pages rendered from the executed notebooks."""

    def produce(folder: Path) -> None:
        executed = folder / "notebooks"
        executed.mkdir()
        for path in reversed(NOTEBOOKS):
            shutil.copy(executed_notebook(root, path), executed)
        site = folder / "site"
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
            cwd=ROOT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "BANKDEMO_EXECUTED_NOTEBOOKS": str(executed)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"

    return once(root, "docs-site", produce) / "site"
