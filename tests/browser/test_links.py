"""Every link of the built site resolves, anchors included: pages, assets, the slides, each `#section`.

No browser needed: these run wherever the site builds. Each page is parsed once; a link is
resolved the way a browser resolves it against the page's URL (the site is served from its root,
`use_directory_urls`), then the target file must exist and, for `#anchor`, hold that id.
Links that leave the site are not followed (no network here, nor at a conference); tests in
test_site_browser.py check that no page loads anything from outside.

LinkChecker did the same over HTTP in 2 min 14 s on a busy 2-core machine (its anchor check
parses a target page again for each link into it; the notebook pages weigh up to 1 MB); this
takes seconds.
"""

from __future__ import annotations

from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from site_build import waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

LINKED = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src", "source": "src"}


class Links(HTMLParser):
    """The ids (anchors) of one page, and the links it holds."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name):
                self.ids.add(values[name])  # type: ignore[arg-type]
        url = values.get(LINKED.get(tag, ""))
        if url:
            self.links.append(url)


def broken_links(site: Path) -> tuple[int, list[str]]:
    """(links checked, the broken ones as "page: link: why") for the site built in ``site``."""

    @cache
    def parsed(path: Path) -> Links:
        return Links(path.read_text(encoding="utf-8"))

    def target(url_path: str) -> Path | None:
        path = site / unquote(url_path).lstrip("/")
        if url_path.endswith("/") or path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    checked, broken = 0, []
    for page in sorted(site.rglob("*.html")):
        page_url = "/" + page.relative_to(site).as_posix()
        for link in parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link == "#":
                continue  # outside the site (not followed: https:, mailto:, data:...), or a bare "#"
            checked += 1
            resolved = urlsplit(urljoin(page_url, link))
            found = target(resolved.path)
            where = f"{page.relative_to(site)}: {link}"
            if found is None:
                broken.append(f"{where}: no {resolved.path}")
            elif (
                resolved.fragment
                and found.suffix == ".html"
                and unquote(resolved.fragment) not in parsed(found).ids
            ):
                broken.append(f"{where}: no #{resolved.fragment} in {found.relative_to(site)}")
    return checked, broken


def test_every_link_and_anchor_of_the_site_resolves(built_site: Path):
    checked, broken = broken_links(built_site)

    assert checked > 500, f"only {checked} links checked: did the walk find the pages?"
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken)


def test_the_check_sees_a_missing_page_a_missing_anchor_and_a_missing_asset(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="b/#here">ok</a> <a href="b/#gone">anchor</a> <a href="c/">page</a>'
        '<a href="#top" id="top">self</a> <img src="img/x.png"> <a href="https://example.org/">away</a>'
    )
    (tmp_path / "b/index.html").write_text('<h2 id="here">Here</h2> <a href="../">up</a>')

    checked, broken = broken_links(tmp_path)

    assert checked == 6
    assert sorted(broken) == [
        "index.html: b/#gone: no #gone in b/index.html",
        "index.html: c/: no /c/",
        "index.html: img/x.png: no /img/x.png",
    ]
