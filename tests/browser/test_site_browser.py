"""The docs site as a reader meets it, in Chromium: every page loads clean, diagrams render, search works.

The `page` fixture fails a test whose page logged a console error or asked for anything outside
the served site (fonts, scripts, images from a CDN).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from site_build import NAV_PAGES, built_path, waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

MERMAID_BLOCK = re.compile(r'<pre class="mermaid"')
# Material renders each diagram in a closed shadow root; opened here (before any page script runs)
# so that the test can see the SVG inside. Nothing else about the page changes.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) { return attach.call(this, { ...init, mode: "open" }); };
"""
DIAGRAMS_RENDERED = """
(expected) => {
  const blocks = [...document.querySelectorAll("div.mermaid")];
  const svgs = blocks.map((b) => b.shadowRoot && b.shadowRoot.querySelector("svg")).filter(Boolean);
  return document.querySelectorAll("pre.mermaid").length === 0 && svgs.length === expected;
}
"""
DIAGRAM_ERRORS = """
() => [...document.querySelectorAll("div.mermaid")]
  .map((b) => b.shadowRoot.querySelector("svg"))
  .filter((svg) => /Syntax error|Parse error/i.test(svg.textContent)).length
"""


def url_of(site_url: str, source: str) -> str:
    stem = source.removesuffix(".md").removesuffix(".py")
    if stem == "index":
        return site_url
    return f"{site_url}{stem.removesuffix('/index')}/"


def check_page(page, site_url: str, built_site: Path, source: str) -> None:
    """The page answers 200, has its title, and every mermaid block is an SVG without a parse error."""
    expected = len(MERMAID_BLOCK.findall(built_path(built_site, source).read_text(encoding="utf-8")))
    page.add_init_script(OPEN_SHADOW_ROOTS)

    response = page.goto(url_of(site_url, source), wait_until="load")

    assert response is not None and response.ok, f"{source}: HTTP {response and response.status}"
    assert page.locator("article h1").count() >= 1 or page.title()
    if expected:
        page.wait_for_function(DIAGRAMS_RENDERED, arg=expected, timeout=20_000)
        assert page.evaluate(DIAGRAM_ERRORS) == 0, f"{source}: mermaid could not parse a diagram"


# Half the pages here, half in test_site_browser_pages.py: pytest-xdist hands out whole files, and
# the pages take a minute and a half in all, at the end of the run.
@pytest.mark.parametrize("source", NAV_PAGES[::2])
def test_every_page_loads_clean_and_renders_its_diagrams(page, site_url: str, built_site: Path, source: str):
    check_page(page, site_url, built_site, source)


def test_search_finds_idempotency(page, site_url: str):
    page.goto(site_url, wait_until="load")

    page.keyboard.press("/")  # Material's shortcut opens the search box
    # typed as a reader types it: Material searches on key events, not on a value set at once
    page.locator("input.md-search__input").press_sequentially("idempotency", delay=30)

    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 1
    assert "idempoten" in results.first.inner_text().lower()


def test_screenshots_of_the_home_page_and_a_step_page(page, site_url: str, built_site: Path, artefacts: Path):
    page.add_init_script(OPEN_SHADOW_ROOTS)
    shots = {"home.png": "index.md", "step-5-resilience.png": "steps/05-resilience.md"}
    for name, source in shots.items():
        expected = len(MERMAID_BLOCK.findall(built_path(built_site, source).read_text(encoding="utf-8")))
        page.goto(url_of(site_url, source), wait_until="load")
        if expected:
            page.wait_for_function(DIAGRAMS_RENDERED, arg=expected, timeout=20_000)
        page.screenshot(path=artefacts / name, full_page=False)
        assert (artefacts / name).stat().st_size > 10_000, f"{name} looks empty"
