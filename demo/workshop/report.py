"""Results shown: Markdown tables and plots, the same in the notebooks, the docs site and the slides.

This module: step 5's resilience run (``demo.resilience.compare.compare``): ``scorecard_markdown``,
``measured_line``, ``fault_windows``, ``resilience_figure``; and what every report shares: the
systems and their colours, ``measured_by`` (how a run was made) and ``svg`` (a figure as a
self-contained SVG). Its siblings:

- ``demo.workshop.performance_report``: step 6's performance run, profile and start-up;
- ``demo.workshop.cost_report``: step 6's monthly cost model (``demo.aws.costs``);
- ``demo.workshop.markers``: the markers that pages and slides put where a table or a plot goes,
  and what each stands for.

The notebooks, the docs site's hook (``docs/hooks/scorecard.py``) and the slides
(``demo/workshop/slides.py``) use them, so they all draw the same figures the same way. matplotlib is imported inside the
``*_figure`` functions only: the CLI and the Lambda code never import these modules, and they stay
cheap for whoever wants the tables alone. matplotlib comes with the ``docs`` extra.
"""

from __future__ import annotations

from typing import Any

from demo.resilience.scenarios import MENDS, ROWS, cell

SYSTEMS = ("monolith", "serverless")
COLOURS = {"monolith": "#d95f02", "serverless": "#1f78b4"}
# the shade of a fault window, by the component that is down (the first word of the step)
FAULT_COLOURS = {"database": "#e31a1c", "client": "#6a3d9a", "worker": "#7f7f7f"}
COMPONENTS = tuple(action.split("-", 1)[0] for action in MENDS)  # database, client, worker
MEND_EVENTS = frozenset(action.replace("-", " ") for action in MENDS.values())  # "database up"...


def systems(result: dict[str, Any]) -> list[str]:
    """The systems of ``result``, the monolith first."""
    found = list(result["scorecard"])
    return [s for s in SYSTEMS if s in found] + [s for s in found if s not in SYSTEMS]


def scorecard_markdown(result: dict[str, Any]) -> str:
    """The scorecard as a Markdown table: one row per ``scenarios.ROWS``, one column per system."""
    names = systems(result)
    lines = [
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for label, key in ROWS:
        cells = [cell(result["scorecard"][name], key) for name in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measured_line(result: dict[str, Any]) -> str:
    """How the result was produced, in one Markdown line (from its ``measured`` key, when it has one)."""
    what = (
        f"Scenario `{result['scenario']}`: {result.get('summary', '')}; "
        f"{result['count']:,} deliveries at {result['rate']:g}/s, seed {result['seed']}."
    )
    measured = result.get("measured")
    if not measured:
        return what
    return what + " " + measured_by(measured)


def measured_by(measured: dict[str, Any]) -> str:
    """A result's ``measured`` key as a sentence: the command, when, how long, on what machine."""
    when = str(measured.get("at", "")).replace("T", " ").replace("+00:00", " UTC")
    parts = [f"Measured with `{measured['command']}`"]
    if when:
        parts.append(f"on {when}")
    if measured.get("wall_seconds") is not None:
        parts.append(f"in {duration(measured['wall_seconds'])}")
    if measured.get("machine"):
        parts.append(f"({measured['machine']})")
    return " ".join(parts) + "."


def duration(seconds: float) -> str:
    """``46`` -> ``'46 s'``, ``2460`` -> ``'41 min'``, ``9000`` -> ``'2.5 h'``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fault_windows(
    timeline: list[dict[str, Any]],
) -> tuple[list[tuple[float, float, str]], list[tuple[float, str]]]:
    """From a timeline's events: the fault windows (start, end, label) and the instant events (t, label).

    A fault (``database down``, ``client slow (0.2 s)``, ``worker stop``) opens a window for its
    component, which its mend (``database up``, ``client up``, ``worker start``) or the
    component's next fault closes; a window still open at the end closes at the last reading.
    Anything else (``queue restart``, poison messages) happens at an instant.
    """
    events = [p for p in timeline if "event" in p]
    end = max((p["t"] for p in timeline), default=0.0)
    open_: dict[str, tuple[float, str]] = {}
    windows: list[tuple[float, float, str]] = []
    instants: list[tuple[float, str]] = []
    for point in sorted(events, key=lambda p: p["t"]):
        t, label = float(point["t"]), str(point["event"])
        component = label.split(" ", 1)[0]
        if component in open_:
            started, what = open_.pop(component)
            windows.append((started, t, what))
        if label in MEND_EVENTS:
            continue
        if component in COMPONENTS:
            open_[component] = (t, label)
        else:
            instants.append((t, label))
    windows.extend((started, end, what) for started, what in open_.values())
    return sorted(windows), instants


def resilience_figure(result: dict[str, Any], *, title: str | None = None, width: float = 8.0) -> Any:
    """Backlog (top) and latency (bottom) over time for each system, the fault windows shaded.

    Returns a ``matplotlib.figure.Figure`` (no pyplot: safe in threads, and in a build hook).
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    names = systems(result)
    figure = Figure(figsize=(width, 6.2), layout="constrained")
    backlog_axes, latency_axes = figure.subplots(2, 1, sharex=True)
    reference: list[dict[str, Any]] = result["timeline"].get("serverless") or next(
        iter(result["timeline"].values()), []
    )
    windows, instants = fault_windows(reference)
    handles: dict[str, Any] = {}
    for start, end, label in windows:
        colour: str | None = FAULT_COLOURS.get(label.split(" ", 1)[0], "#b15928")
        alpha = 0.08 if " slow" in label else 0.18
        for axes in (backlog_axes, latency_axes):
            axes.axvspan(start, end, color=colour, alpha=alpha, lw=0)
        handles.setdefault(label, Patch(color=colour, alpha=alpha, lw=0, label=label))
    for t, label in instants:
        for axes in (backlog_axes, latency_axes):
            axes.axvline(t, color="#333333", lw=0.9, ls=":")
        backlog_axes.annotate(
            label,
            (t, 1),
            xycoords=("data", "axes fraction"),
            xytext=(2, -4),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=7.5,
            color="#333333",
            rotation=90,
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    for name in names:
        colour = COLOURS.get(name)
        samples = [p for p in result["timeline"].get(name, []) if "event" not in p]
        times = [p["t"] for p in samples]
        backlog = [float("nan") if p.get("backlog") is None else p["backlog"] for p in samples]
        backlog_axes.step(times, backlog, where="post", color=colour, lw=1.5)
        points = result.get("latencies", {}).get(name, [])
        if points:
            latency_axes.scatter(
                [p[0] for p in points],
                [max(p[1], 1.0) for p in points],
                s=8,
                alpha=0.55,
                color=colour,
                edgecolors="none",
            )
        handles[name] = Line2D([], [], color=colour, lw=2, marker="o", markersize=4, label=name)
    figure.suptitle(
        title or f"{result['scenario']}: {result['count']:,} deliveries at {result['rate']:g}/s", fontsize=11
    )
    ordered = [handles[n] for n in names] + [h for k, h in handles.items() if k not in names]
    figure.legend(
        handles=ordered, loc="outside lower center", ncols=min(len(ordered), 4), fontsize=8.5, frameon=False
    )
    backlog_axes.set_ylabel("backlog (messages)")
    backlog_axes.set_ylim(bottom=0)
    backlog_axes.grid(alpha=0.3)
    latency_axes.set_yscale("log")
    latency_axes.set_ylabel("send to balance webhook (ms)")
    latency_axes.set_xlabel("seconds since the first delivery")
    latency_axes.grid(alpha=0.3)
    latency_axes.set_xlim(left=0)
    return figure


def svg(figure: Any) -> str:
    """``figure`` as a self-contained SVG: text drawn as paths, no metadata, no DOCTYPE, no URL.

    The only URIs left are the SVG and XLink namespace names, which nothing fetches.
    """
    import io

    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "bankdemo"}):
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    start = text.find("<!DOCTYPE")
    if start != -1:
        text = text[:start] + text[text.index(">", start) + 1 :].lstrip("\n")
    return text
