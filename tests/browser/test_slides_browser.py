"""The talk's deck in the built site, in Chromium: it loads clean, advances, and opens the speaker view.

The fixtures (``site_url``, ``page``, ``artefacts``) are in conftest.py: ``page`` fails a test at
teardown on a console error or a request that leaves the served site, the speaker view's pop-up
included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from site_build import waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

READY = "() => window.Reveal !== undefined && Reveal.isReady()"
TIMEOUT_MS = 30_000
NOTES_TEXT = """() => {
    const notes = document.createElement("div");
    notes.innerHTML = Reveal.getSlideNotes() || "";
    return notes.textContent.replace(/\\s+/g, " ").trim();
}"""


def open_deck(page: Any, site_url: str, slide: int = 0) -> None:
    """Open the deck at ``slide`` and wait, with a deadline, until reveal.js has laid it out."""
    page.goto(f"{site_url}slides/index.html#/{slide}")
    page.wait_for_function(READY, timeout=TIMEOUT_MS)


def go_to(page: Any, title: str) -> None:
    """Show the slide whose heading is ``title``."""
    index = page.evaluate(
        "(title) => Reveal.getSlides().findIndex(s => s.querySelector('h1, h2')?.textContent === title)",
        title,
    )
    assert index >= 0, f"no slide titled {title!r}"
    page.evaluate("(index) => Reveal.slide(index)", index)
    page.wait_for_function("(index) => Reveal.getIndices().h === index", arg=index, timeout=TIMEOUT_MS)


def test_the_deck_loads_with_every_slide_and_its_notes(page: Any, site_url: str):
    open_deck(page, site_url)
    total = page.evaluate("Reveal.getTotalSlides()")
    assert 20 <= total <= 30, total
    without_notes = page.evaluate(
        "Reveal.getSlides().map((s, i) => s.querySelector('aside.notes') ? -1 : i).filter(i => i >= 0)"
    )
    assert without_notes == [], f"slides without speaker notes: {without_notes}"
    # the plots drawn from the result files are loaded and drawn
    sizes = page.evaluate("[...document.querySelectorAll('img.plot')].map(i => [i.src, i.naturalWidth])")
    assert len(sizes) >= 3 and all(width > 0 for _, width in sizes), sizes


def test_the_right_arrow_goes_to_the_next_slide(page: Any, site_url: str):
    open_deck(page, site_url)
    before = page.evaluate("Reveal.getIndices()")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => Reveal.getIndices().h !== {before['h']}", timeout=TIMEOUT_MS)
    assert page.evaluate("Reveal.getIndices()")["h"] == before["h"] + 1


def test_s_opens_the_speaker_view_with_the_notes_of_the_current_slide(page: Any, site_url: str):
    open_deck(page, site_url, slide=1)
    notes = page.evaluate(NOTES_TEXT)
    assert notes, "the current slide has no notes"
    with page.expect_popup(timeout=TIMEOUT_MS) as popup_info:
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_function(
        "(expected) => (document.querySelector('.speaker-controls-notes')?.textContent || '')"
        ".replace(/\\s+/g, ' ').includes(expected)",
        arg=notes[:60],
        timeout=TIMEOUT_MS,
    )


def test_a_slide_is_screenshotted_as_an_artefact(page: Any, site_url: str, artefacts: Path):
    open_deck(page, site_url)
    go_to(page, "The scorecard")  # the storm's, drawn from storm.json
    assert "balances = oracle" in page.evaluate("Reveal.getCurrentSlide().textContent")
    path = artefacts / "slides-scorecard.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
