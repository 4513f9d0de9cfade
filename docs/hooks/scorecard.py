"""MkDocs hook: pages show measured results from the files the runs wrote, never numbers typed in.

Markers, each on a line of its own in a page's Markdown (paths from the repository root):

- ``<!-- scorecard: benchmarks/results/storm.json -->``: the run's scorecard, a Markdown table
  (the rows of ``demo.scenarios.ROWS``, a column per system), after a line saying how the run
  was made (its ``measured`` key, when it has one);
- ``<!-- scorecard-plot: benchmarks/results/storm.json -->``: the run's backlog and latency over
  time, an SVG drawn by ``demo.report.resilience_figure`` and added to the site as
  ``assets/scorecards/<name>.svg`` (text drawn as paths: it loads no font, and names no URL);
- ``<!-- scenarios -->``: the resilience scenarios as ``demo/scenarios.py`` defines them.

A marker whose file does not exist fails the build. Registered in mkdocs.yml under ``hooks:``.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

MARKER = re.compile(r"^<!--\s*(scorecard|scorecard-plot):\s*(\S+)\s*-->\s*$", re.MULTILINE)
SCENARIOS_MARKER = re.compile(r"^<!--\s*scenarios\s*-->\s*$", re.MULTILINE)
PLOTS = "assets/scorecards"


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def _result(config: Any, path: str) -> dict[str, Any]:
    file = _root(config) / path
    if not file.is_file():
        raise PluginError(f"scorecard hook: {path} does not exist (run the benchmark that writes it)")
    return json.loads(file.read_text(encoding="utf-8"))


def _plot_uri(path: str) -> str:
    return f"{PLOTS}/{Path(path).stem}.svg"


def on_files(files: Files, config: Any) -> Files:
    """Draw the plot of every ``scorecard-plot`` marker, and add it to the site's files."""
    from demo.report import resilience_figure, svg

    wanted = {
        path
        for page in files.documentation_pages()
        for kind, path in MARKER.findall(page.content_string)
        if kind == "scorecard-plot"
    }
    for path in sorted(wanted):
        result = _result(config, path)
        figure = resilience_figure(result)
        files.append(File.generated(config, _plot_uri(path), content=svg(figure)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    from demo.report import measured_line, scorecard_markdown

    def replace(match: re.Match[str]) -> str:
        kind, path = match.groups()
        result = _result(config, path)
        if kind == "scorecard":
            return f"{measured_line(result)}\n\n{scorecard_markdown(result)}\n"
        link = posixpath.relpath(_plot_uri(path), posixpath.dirname(page.file.src_uri) or ".")
        alt = f"{result['scenario']}: backlog and latency over time, monolith and serverless"
        return f"![{alt}]({link})\n"

    markdown = MARKER.sub(replace, markdown)
    return SCENARIOS_MARKER.sub(lambda _: _scenarios_table() + "\n", markdown)


def _scenarios_table() -> str:
    from demo.scenarios import SCENARIOS

    lines = [
        "| Scenario | What happens | Fault schedule (at a fraction of the stream sent) | What the monolith is expected to lose |",
        "|---|---|---|---|",
    ]
    for scenario in SCENARIOS.values():
        steps = "; ".join(f"{step.at:.0%}: {step.describe()}" for step in scenario.steps) or "none"
        lines.append(f"| `{scenario.name}` | {scenario.summary} | {steps} | {scenario.monolith_loss} |")
    return "\n".join(lines)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when a result file changes (a soak that finished, say)."""
    server.watch(str(_root(config) / "benchmarks" / "results"))
    return server
