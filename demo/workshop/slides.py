"""The talk's deck: slides/*.md with its figures drawn from the result files, built offline by mkslides.

The slides name no measured number: a marker stands where one goes, rendered here from
``benchmarks/results/*.json`` and the cost model, as the docs site's hook renders its pages
(``demo.workshop.markers``: ``<!-- scorecard: benchmarks/results/storm.json -->``, ``<!-- costs-plot -->``...).
One marker more, for a number in a sentence: ``<!-- figure: benchmarks/results/storm.json#scorecard.
monolith.lost -->`` (a path of keys, then an optional format spec: ``... | ,.1f``); the source
``costs`` is the cost model (``cost_figures``). A marker left unrendered fails the build.

``python -m demo.workshop.slides build|serve|pdf`` (``make slides``, ``make slides-pdf``). matplotlib,
mkslides and playwright are imported inside the functions: ``demo`` is also the Lambda's package.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from demo.workshop import cost_report, markers, report

ROOT = Path(__file__).resolve().parents[2]
SLIDES = ROOT / "slides"
CHROMIUM = os.environ.get("BANKDEMO_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FIGURE = re.compile(r"<!--\s*figure:\s*([^#\s]+)#(.+?)(?:\s*\|\s*(\S*))?\s*-->")
LEFTOVER = re.compile(r"<!--\s*[a-z][\w-]*\s*(?::|-->)")  # reveal's own comments start with a dot


class SlidesError(RuntimeError):
    """The deck cannot be built as written: a marker unknown or unrendered, a figure not found."""


def cost_figures() -> dict[str, Any]:
    """The cost model's figures, by key: ``month.<N>.<option>`` ($), ``break_even[_millions].<option>``."""
    from demo.aws import costs

    options = {f"{b}-cluster" if c else b: (b, c) for b, c, *_ in cost_report.COST_OPTIONS}
    month = {
        str(n): {"serverless": costs.serverless_monthly(n).total}
        | {key: costs.always_on_monthly(n, b, cluster=c).total for key, (b, c) in options.items()}
        for n in cost_report.COST_VOLUMES
    }
    even = {key: costs.crossings(b, cluster=c)[0].notifications for key, (b, c) in options.items()}
    return {"month": month, "break_even": even, "break_even_millions": {k: v / 1e6 for k, v in even.items()}}


def figure(source: str, path: str, spec: str | None = None, root: Path = ROOT) -> str:
    """One number of a result file (or of ``cost_figures``), formatted: ``1,000``, ``yes``, ``4.93``."""
    try:
        value: Any = cost_figures() if source == "costs" else markers.read_result(root, source)
        for key in path.split("."):
            value = value[int(key)] if isinstance(value, list) else value[key]
    except (FileNotFoundError, KeyError, IndexError, ValueError) as error:
        raise SlidesError(f"figure {source}#{path}: {error}") from None
    if spec:
        return format(value, spec)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def render(markdown: str, out: Path, root: Path = ROOT) -> str:
    """``markdown`` with its markers replaced; the plots written as SVG files into ``out``."""

    def table_or_plot(kind: str, path: str | None) -> str:
        result = markers.read_result(root, path) if path else None
        if not kind.endswith("-plot"):
            return markers.marker_markdown(kind, result) + "\n"
        name = markers.plot_name(kind, path)
        if not (out / name).exists():
            (out / name).write_text(report.svg(markers.marker_figure(kind, result)), encoding="utf-8")
        return f'<img class="plot" src="{name}" alt="{markers.plot_alt(kind, result)}">\n'

    try:
        markdown = markers.MARKER.sub(lambda m: table_or_plot(*m.groups()), markdown)
        markdown = markers.COSTS_MARKER.sub(lambda m: table_or_plot(m.group(1), None), markdown)
    except FileNotFoundError as error:
        raise SlidesError(str(error)) from None
    markdown = FIGURE.sub(lambda m: figure(m.group(1), m.group(2), m.group(3), root=root), markdown)
    leftover = LEFTOVER.search(markdown)
    if leftover:
        line = markdown[leftover.start() :].splitlines()[0]
        raise SlidesError(f"a marker was left unrendered (unknown, or not on a line of its own): {line}")
    return markdown


def build(out: Path, source: Path = SLIDES, root: Path = ROOT) -> Path:
    """Render the deck in ``source`` and build it into ``out`` (emptied first); return its index.html."""
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="slides-") as tmp:
        deck = Path(tmp) / "deck"
        shutil.copytree(source, deck, ignore=shutil.ignore_patterns("mkslides.yml", "*.jinja"))
        for page in deck.glob("*.md"):
            page.write_text(render(page.read_text(encoding="utf-8"), deck, root), encoding="utf-8")
        # In a process of its own, run from source/: mkslides finds the config's template from the
        # working directory, and a build hook must not change its own.
        command = [sys.executable, "-m", "mkslides", "build", "--strict", "-f", "mkslides.yml"]
        run = subprocess.run(  # noqa: S603 - our own command line
            [*command, "-d", str(out), str(deck)], cwd=source, capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            raise SlidesError(f"mkslides build failed:\n{run.stdout}\n{run.stderr}")
    _prune(out)
    return out / "index.html"


def _prune(out: Path) -> None:
    """Keep of mkslides' copy of reveal.js and highlight.js (18 MB, demos with CDN links) what the deck loads."""
    used = {
        (page.parent / link).resolve()
        for page in out.glob("*.html")
        for link in re.findall(r'(?:src|href)="([^":#?]+)"', page.read_text(encoding="utf-8"))
    }
    assets = out / "mkslides-assets"
    for file in sorted(assets.rglob("*"), reverse=True):
        if file.is_file() and file.resolve() not in used and not file.name.startswith("LICENSE"):
            file.unlink()
        elif file.is_dir() and not any(file.iterdir()):
            file.rmdir()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops a connection mid-answer (a page closed, a fetch aborted) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serving(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (port 0: a free one) while in the block; yield its URL."""
    server = _Server(("127.0.0.1", port), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _need(chromium: str) -> None:
    if not Path(chromium).is_file():
        raise FileNotFoundError(f"no Chromium at {chromium}: install it with `apt-get install chromium`")


def export_pdf(site: Path, pdf: Path, chromium: str = CHROMIUM, timeout: float = 60.0) -> Path:
    """Print the built deck in ``site`` to ``pdf``, a page per slide, through Debian's Chromium."""
    _need(chromium)
    from playwright.sync_api import sync_playwright

    pdf.parent.mkdir(parents=True, exist_ok=True)
    with serving(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url + "index.html?print-pdf", timeout=timeout * 1000)
            ready = "() => window.Reveal && Reveal.isReady() && document.querySelector('.pdf-page') !== null"
            page.wait_for_function(ready, timeout=timeout * 1000, polling=100)
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    return pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.workshop.slides", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=("build", "serve", "pdf"))
    parser.add_argument(
        "--out", type=Path, help="dist/slides/ (build, serve; emptied first), dist/slides.pdf (pdf)"
    )
    parser.add_argument("--port", type=int, default=8002, help="serve: the port on 127.0.0.1 (8002)")
    args = parser.parse_args(argv)
    site = ROOT / "dist" / "slides" if args.out is None or args.command == "pdf" else args.out
    try:
        if args.command == "pdf":
            _need(CHROMIUM)  # before the build: say it at once
        index = build(site)
        if args.command == "pdf":
            print(f"wrote {export_pdf(site, args.out or ROOT / 'dist' / 'slides.pdf')}")
        elif args.command == "serve":
            with serving(site, args.port) as url:
                print(f"the deck on {url} (S: speaker view, F: fullscreen, Esc: overview); Ctrl-C stops")
                threading.Event().wait()
        else:
            print(f"built {index}")
    except (SlidesError, FileNotFoundError) as error:
        print(f"slides: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
