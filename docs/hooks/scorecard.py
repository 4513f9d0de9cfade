"""MkDocs hook: pages show measured results from the files the runs wrote, never numbers typed in.

Markers, each on a line of its own in a page's Markdown (paths from the repository root):

- ``<!-- scorecard: benchmarks/results/storm.json -->``: the run's scorecard, a Markdown table
  (the rows of ``demo.resilience.scenarios.ROWS``, a column per system), after a line saying how the run
  was made (its ``measured`` key, when it has one);
- ``<!-- scorecard-plot: benchmarks/results/storm.json -->``: the run's backlog and latency over
  time, an SVG drawn by ``demo.workshop.report.resilience_figure`` and added to the site as
  ``assets/scorecards/<name>.svg`` (text drawn as paths: it loads no font, and names no URL);
- ``<!-- scenarios -->``: the resilience scenarios as ``demo/resilience/scenarios.py`` defines them;
- ``<!-- performance: benchmarks/results/performance.json -->``: step 6's performance run
  (``benchmarks/performance.py``): how it was measured, the cold start, the zip's size, the
  latency and the throughput of both systems
  (``demo.workshop.performance_report.performance_markdown``);
- ``<!-- performance-plot: benchmarks/results/performance.json -->``: its latency distributions
  and throughputs, an SVG drawn by ``demo.workshop.performance_report.performance_figure``,
  added as above;
- ``<!-- types: benchmarks/results/types.json -->``, ``<!-- coverage: benchmarks/results/coverage.json -->``,
  ``<!-- mutation: benchmarks/results/mutation.json -->``, ``<!-- mutation-example: ... -->``: the
  safety net's figures (``benchmarks/type_check.py``, ``branch_coverage.py``, ``mutation.py``),
  rendered by ``demo.workshop.safety_net_report``;
- ``<!-- costs -->``: a month of the bank at a few volumes, the break-evens and the serverless
  month by service, computed with ``demo.aws.costs`` when the site is built
  (``demo.workshop.cost_report.costs_markdown``);
- ``<!-- costs-plot -->``: the same months over 10^3 to 10^9 notifications, log-log, an SVG
  drawn by ``demo.workshop.cost_report.costs_figure`` (``assets/scorecards/costs.svg``);
- ``<!-- price-sources -->``: where each price of the cost model comes from, and when it was
  read (``demo/aws/prices.yaml``).

A marker whose file does not exist fails the build. Registered in mkdocs.yml under ``hooks:``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

# The markers, and what each stands for, live in demo.workshop.markers: the slides (demo/workshop/slides.py) share them.
from demo.workshop.markers import COSTS_MARKER, MARKER, plot_name

SCENARIOS_MARKER = re.compile(r"^<!--\s*scenarios\s*-->\s*$", re.MULTILINE)
PLOTS = "assets/scorecards"
COSTS_PLOT = f"{PLOTS}/{plot_name('costs-plot')}"


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def _result(config: Any, path: str) -> dict[str, Any]:
    from demo.workshop.markers import read_result

    try:
        return read_result(_root(config), path)
    except FileNotFoundError as error:
        raise PluginError(f"scorecard hook: {error}") from None


def _plot_uri(path: str) -> str:
    return f"{PLOTS}/{plot_name('scorecard-plot', path)}"


def on_files(files: Files, config: Any) -> Files:
    """Draw the plot of every ``*-plot`` marker, and add it to the site's files."""
    from demo.workshop.markers import marker_figure
    from demo.workshop.report import svg

    pages = [page.content_string for page in files.documentation_pages()]
    wanted = {(kind, path) for text in pages for kind, path in MARKER.findall(text) if kind.endswith("-plot")}
    for kind, path in sorted(wanted):
        figure = marker_figure(kind, _result(config, path))
        files.append(File.generated(config, _plot_uri(path), content=svg(figure)))
    if any(kind == "costs-plot" for text in pages for kind in COSTS_MARKER.findall(text)):
        files.append(File.generated(config, COSTS_PLOT, content=svg(marker_figure("costs-plot"))))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    from demo.workshop.markers import marker_markdown, plot_alt

    def link(uri: str) -> str:
        return posixpath.relpath(uri, posixpath.dirname(page.file.src_uri) or ".")

    def replace(match: re.Match[str]) -> str:
        kind, path = match.groups()
        result = _result(config, path)
        if kind.endswith("-plot"):
            return f"![{plot_alt(kind, result)}]({link(_plot_uri(path))})\n"
        return marker_markdown(kind, result) + "\n"

    def replace_costs(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "costs-plot":
            return f"![{plot_alt(kind)}]({link(COSTS_PLOT)})\n"
        return marker_markdown(kind) + "\n"

    markdown = MARKER.sub(replace, markdown)
    markdown = COSTS_MARKER.sub(replace_costs, markdown)
    return SCENARIOS_MARKER.sub(lambda _: _scenarios_table() + "\n", markdown)


def _scenarios_table() -> str:
    from demo.resilience.scenarios import SCENARIOS

    lines = [
        "| Scenario | What happens | Fault schedule (at a fraction of the stream sent) | What the monolith is expected to lose |",
        "|---|---|---|---|",
    ]
    for scenario in SCENARIOS.values():
        steps = "; ".join(f"{step.at:.0%}: {step.describe()}" for step in scenario.steps) or "none"
        lines.append(f"| `{scenario.name}` | {scenario.summary} | {steps} | {scenario.monolith_loss} |")
    return "\n".join(lines)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when a result file changes (a soak that finished, say), or a price."""
    server.watch(str(_root(config) / "benchmarks" / "results"))
    server.watch(str(_root(config) / "demo" / "aws" / "prices.yaml"))
    return server
