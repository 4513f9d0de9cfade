"""The markers that pages and slides put where a table or a plot goes, and what each stands for.

The docs site's hook (``docs/hooks/scorecard.py``) and the slides (``demo/workshop/slides.py``)
render the same markers the same way: ``MARKER`` for a result file's table or plot
(``<!-- scorecard: benchmarks/results/storm.json -->``), ``COSTS_MARKER`` for the cost model's
(``<!-- costs -->``); ``marker_markdown`` and ``marker_figure`` draw them with
``demo.workshop.report``, ``demo.workshop.performance_report``, ``demo.workshop.cost_report`` and
``demo.workshop.safety_net_report``;
``plot_name`` and ``plot_alt`` name a plot's file and describe it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from demo.workshop.cost_report import costs_figure, costs_markdown, price_sources_markdown
from demo.workshop.performance_report import (
    performance_figure,
    performance_markdown,
    profile_markdown,
    startup_markdown,
)
from demo.workshop.report import measured_line, resilience_figure, scorecard_markdown
from demo.workshop.safety_net_report import (
    coverage_markdown,
    example_mutant_markdown,
    mutation_markdown,
    types_markdown,
)

# A result file's table or plot: ``<!-- scorecard: benchmarks/results/storm.json -->``, each on a line of its own.
MARKER = re.compile(
    r"^<!--\s*(scorecard|scorecard-plot|performance|performance-plot|profile|startup"
    r"|types|coverage|mutation|mutation-example):\s*(\S+)\s*-->\s*$",
    re.MULTILINE,
)
# The cost model's tables and plot, computed when the page is built: ``<!-- costs -->``.
COSTS_MARKER = re.compile(r"^<!--\s*(costs|costs-plot|price-sources)\s*-->\s*$", re.MULTILINE)

# The safety net's figures (the page and the slide "The safety net"), each from its result file.
SAFETY_NET = {
    "types": types_markdown,
    "coverage": coverage_markdown,
    "mutation": mutation_markdown,
    "mutation-example": example_mutant_markdown,
}


def read_result(root: Path, path: str) -> dict[str, Any]:
    """The result file ``path`` (from ``root``), or ``FileNotFoundError`` naming the run that writes it."""
    file = root / path
    if not file.is_file():
        raise FileNotFoundError(f"{path} does not exist (run the benchmark that writes it)")
    result: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return result


def marker_markdown(kind: str, result: dict[str, Any] | None = None) -> str:
    """The Markdown a table marker stands for (``result``: the marker's file, for the result markers)."""
    if kind == "scorecard":
        return f"{measured_line(result or {})}\n\n{scorecard_markdown(result or {})}"
    if kind == "performance":
        return performance_markdown(result or {})
    if kind == "profile":
        return profile_markdown(result or {})
    if kind == "startup":
        return startup_markdown(result or {})
    if kind in SAFETY_NET:
        return SAFETY_NET[kind](result or {})
    if kind == "costs":
        return costs_markdown()
    if kind == "price-sources":
        return price_sources_markdown()
    raise ValueError(f"no table for the marker {kind!r}")


def marker_figure(kind: str, result: dict[str, Any] | None = None) -> Any:
    """The figure a ``*-plot`` marker stands for (``demo.workshop.report.svg`` writes it)."""
    if kind == "scorecard-plot":
        return resilience_figure(result or {})
    if kind == "performance-plot":
        return performance_figure(result or {})
    if kind == "costs-plot":
        return costs_figure()
    raise ValueError(f"no plot for the marker {kind!r}")


def plot_name(kind: str, path: str | None = None) -> str:
    """The SVG file of a plot marker: named after its result file (``storm.svg``), or ``costs.svg``."""
    return "costs.svg" if kind == "costs-plot" else f"{Path(path or kind).stem}.svg"


def plot_alt(kind: str, result: dict[str, Any] | None = None) -> str:
    """A plot's alternative text, for readers who do not see it."""
    if kind == "performance-plot":
        return "latency distribution and throughput, monolith and serverless, on this machine"
    if kind == "costs-plot":
        return "a month of the bank, serverless against the always-on options, log-log, with the break-evens"
    scenario = (result or {}).get("scenario", "a run")
    return f"{scenario}: backlog and latency over time, monolith and serverless"
