"""Browser tests: the built docs site and slides, served over HTTP, in Playwright driving Debian's Chromium.

Never a browser that Playwright downloads (there is no network at a conference, nor here): the
Chromium of the Debian package `chromium`, which .ci/run installs. Without it these tests skip with
the command that installs it; under CI (CI=true) they fail instead, so that they always run there.

Each test gets a fresh page that records the console's errors and every request that leaves the
served site; a test fails at teardown if there was any. Screenshots go to test-artefacts/browser/
(or $BANKDEMO_ARTEFACTS/browser/).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_build import ROOT, docs_site, serve, shared_root

CHROMIUM = os.environ.get("BANKDEMO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
INSTALL_HINT = "apt-get install chromium (Debian's package; Playwright's own browser download is not used)"
# As the machine's probe found: without the background-networking flags Chromium keeps trying to
# reach Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}: {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: make env-dev"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API allows one running instance per thread,
    and a test elsewhere (the slides' PDF export) starts its own."""
    missing = _chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {missing}", pytrace=False)
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site the run builds once; or, to iterate on these tests quickly, BANKDEMO_TEST_SITE=DIR
    (a site built before, e.g. by `BANKDEMO_DOCS_EXECUTE=false mkdocs build -d DIR`)."""
    prebuilt = os.environ.get("BANKDEMO_TEST_SITE")
    if prebuilt:
        return Path(prebuilt)
    return docs_site(shared_root(tmp_path_factory))


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site (slides under slides/) served on a free port of 127.0.0.1."""
    with serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def artefacts() -> Path:
    folder = Path(os.environ.get("BANKDEMO_ARTEFACTS") or ROOT / "test-artefacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class PageWatch:
    """What a page did that a test must see: console errors, page errors, requests off the site."""

    def __init__(self, site_url: str) -> None:
        self.site_url = site_url
        self.errors: list[str] = []
        self.outside: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("request", self._request)
        page.on("popup", self.attach)  # the speaker view is a page of its own

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith((self.site_url, "data:", "blob:", "about:")):
            self.outside.append(url)

    def problems(self) -> list[str]:
        return self.errors + [f"request outside the site: {url}" for url in self.outside]


@pytest.fixture
def watch(site_url: str) -> PageWatch:
    return PageWatch(site_url)


@pytest.fixture
def page(chromium: Any, site_url: str, watch: PageWatch) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    # A request that leaves the site is recorded, then refused: the test must not hang on it.
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(site_url) else route.abort(),
    )
    page = context.new_page()
    watch.attach(page)
    yield page
    context.close()
    problems = watch.problems()
    assert not problems, "the page was not clean:\n" + "\n".join(problems)
