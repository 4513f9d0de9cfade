"""MkDocs hook: the talk's deck, built into the site under ``slides/``, by ``mkdocs build`` and ``serve``.

The deck is not a page of the site: it is reveal.js HTML that mkslides builds from ``slides/``,
its figures drawn from the result files as this site's pages draw theirs (``demo/workshop/slides.py``).
It is built after the site, into ``<site_dir>/slides/``; a deck that does not build fails the
site's build. ``docs/talk.md`` links to it. Registered in mkdocs.yml under ``hooks:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError


def on_post_build(config: Any) -> None:
    from demo.workshop.slides import SlidesError, build

    try:
        build(Path(config.site_dir) / "slides")
    except (SlidesError, FileNotFoundError) as error:
        raise PluginError(f"slides hook: {error}") from None


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when a slide changes (the result files are watched by the scorecard hook)."""
    server.watch(str(Path(config.config_file_path).resolve().parent / "slides"))
    return server
