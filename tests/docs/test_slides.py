"""The talk's deck builds offline, every slide has notes, and its figures come from the result files."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from site_build import docs_site, shared_root, waits_on_shared_work

from demo.workshop import performance_report, report
from demo.workshop.slides import SLIDES, SlidesError, build, cost_figures, export_pdf, figure, render

pytestmark = waits_on_shared_work  # see tests/site_build.py

ROOT = Path(__file__).resolve().parents[2]
STORM = json.loads((ROOT / "benchmarks/results/storm.json").read_text(encoding="utf-8"))
PERFORMANCE = json.loads((ROOT / "benchmarks/results/performance.json").read_text(encoding="utf-8"))
CHROMIUM = "/usr/bin/chromium"
# What the browser fetches by itself: src, href, CSS imports and url()s that leave the deck.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|@import\s+(?:url\()?["']?|url\(["']?)(?:https?:)?//""", re.IGNORECASE
)


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deck as the docs build wrote it into the site (docs/hooks/slides.py calls ``build``)."""
    return docs_site(shared_root(tmp_path_factory)) / "slides"


@pytest.fixture(scope="module")
def html(deck: Path) -> str:
    return (deck / "index.html").read_text(encoding="utf-8")


def slides_of(html: str) -> list[str]:
    """The deck's Markdown split as reveal.js' markdown plugin splits it (a line ``---``)."""
    markdown = html.split("<textarea data-template>", 1)[1].split("</textarea>", 1)[0]
    return re.split(r"\r?\n---\r?\n", markdown)


def test_the_deck_has_twenty_to_thirty_slides_each_with_speaker_notes(html: str):
    slides = slides_of(html)
    assert 20 <= len(slides) <= 30, len(slides)
    for number, slide in enumerate(slides, 1):
        notes = re.search(r'<aside class="notes">(.*?)</aside>', slide, re.DOTALL)
        assert notes and notes.group(1).strip(), f"slide {number} has no speaker notes:\n{slide[:200]}"


def test_the_deck_loads_reveal_and_its_notes_plugin_from_itself(deck: Path, html: str):
    around_the_slides = html.split("<textarea", 1)[0] + html.split("</textarea>", 1)[1]
    for path in re.findall(r'(?:src|href)="([^"]+)"', around_the_slides):
        assert (deck / path).is_file(), f"{path} is not in the built deck"
    assert "plugin/notes.js" in html
    assert "RevealNotes" in html
    assert "plugin/math" not in html, "reveal.js' math plugin fetches KaTeX from a CDN"


def test_the_scorecard_comes_from_the_storm_results(html: str):
    assert report.scorecard_markdown(STORM) in html
    monolith = STORM["scorecard"]["monolith"]
    assert f'<span class="big-figure bad">{monolith["lost"]:,}</span>' in html
    assert f'<span class="big-figure bad">{monolith["webhooks_lost"]:,}</span>' in html
    assert STORM["measured"]["command"] in html


def test_the_performance_and_costs_come_from_their_results_and_the_cost_model(html: str):
    assert performance_report.performance_markdown(PERFORMANCE) in html
    assert f"The zip: {PERFORMANCE['zip']['bytes']:,} bytes" in html
    month = cost_figures()["month"]["1000000"]
    assert f"serverless ${month['serverless']:,.2f} against ${month['self-hosted']:,.2f}" in html


def test_the_plots_are_svg_files_beside_the_deck_and_name_no_url(deck: Path, html: str):
    for name in ("storm.svg", "performance.svg", "costs.svg"):
        assert f'<img class="plot" src="{name}"' in html
        svg = (deck / name).read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
        urls = set(re.findall(r"https?://[^\s\"')]+", svg))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_no_marker_is_left_and_nothing_is_fetched_from_outside(deck: Path, html: str):
    assert not re.search(r"<!--\s*(?:scorecard|performance|costs|figure)", html)
    offenders = [
        f"{file.relative_to(deck)}: {match.group()}"
        for file in deck.rglob("*")
        if file.suffix in {".html", ".css", ".svg"}
        for match in EXTERNAL.finditer(file.read_text(encoding="utf-8"))
    ]
    assert not offenders, "\n".join(offenders)
    assert not list(deck.rglob("demo.html")), "mkslides' copy of the reveal.js demos was not pruned"


def test_the_checker_sees_external_resources():
    found = EXTERNAL.findall(
        '<script src="https://cdn.example/x.js"></script><link href="//fonts.example/css">'
        '@import "https://fonts.googleapis.com/css?family=Lato"; @import url(http://x.example/a.css);'
        "src: url(https://x.example/font.woff)"
    )
    assert len(found) == 5, found


def test_a_figure_marker_is_read_from_its_file_and_formatted():
    assert figure("benchmarks/results/storm.json", "scorecard.serverless.lost") == "0"
    assert figure("benchmarks/results/storm.json", "count") == f"{STORM['count']:,}"
    assert figure("benchmarks/results/storm.json", "rate", "g") == f"{STORM['rate']:g}"
    assert figure("benchmarks/results/storm.json", "scorecard.serverless.balances_equal_full_oracle") == "yes"
    with pytest.raises(SlidesError, match=r"storm\.json#scorecard\.nobody"):
        figure("benchmarks/results/storm.json", "scorecard.nobody.lost")


@pytest.mark.parametrize(
    "marker",
    [
        "<!-- scorecard-table: benchmarks/results/storm.json -->",  # not a marker we know
        "Lost: <!-- scorecard: benchmarks/results/storm.json -->",  # a table marker in a sentence
        "<!-- costs_plot -->",
    ],
)
def test_a_marker_left_unrendered_fails_the_build(tmp_path: Path, marker: str):
    with pytest.raises(SlidesError, match="left unrendered"):
        render(f"## A slide\n\n{marker}\n", tmp_path)


def test_a_marker_whose_file_is_missing_fails_the_build(tmp_path: Path):
    source = tmp_path / "slides"
    shutil.copytree(SLIDES, source)
    (source / "talk.md").write_text("# One slide\n\n<!-- scorecard: benchmarks/results/nowhere.json -->\n")
    with pytest.raises(SlidesError, match=r"nowhere\.json does not exist"):
        build(tmp_path / "out", source=source)


def test_reveal_comments_are_not_markers(tmp_path: Path):
    markdown = '<!-- .slide: class="center" -->\n# Title\n\nText <!-- .element: class="small" -->\n'
    assert render(markdown, tmp_path) == markdown


def test_the_pdf_export_writes_a_page_per_slide(deck: Path, html: str, tmp_path: Path):
    if not Path(CHROMIUM).is_file():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    pdf = export_pdf(deck, tmp_path / "slides.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages == len(slides_of(html)), f"{pages} PDF pages for {len(slides_of(html))} slides"


def test_the_pdf_export_says_how_to_install_chromium(deck: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        export_pdf(deck, tmp_path / "slides.pdf", chromium=str(tmp_path / "no-chromium"))
