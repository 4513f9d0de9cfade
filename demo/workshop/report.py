"""Results shown: Markdown tables and plots, the same in the notebooks, the docs site and the slides.

- step 5: a resilience run (``demo.resilience.compare.compare``): ``scorecard_markdown``, ``resilience_figure``;
- step 6: the performance run (``benchmarks/performance.py``): ``performance_markdown``,
  ``performance_figure``; and the monthly cost model (``demo.aws.costs``): ``costs_markdown``,
  ``price_sources_markdown``, ``costs_figure``;
- the markers that pages and slides put where a table or a plot goes (``MARKER``,
  ``COSTS_MARKER``), and what each stands for (``marker_markdown``, ``marker_figure``).

The notebooks, the docs site's hook (``docs/hooks/scorecard.py``) and the slides
(``demo/workshop/slides.py``) use it, so they all draw the same figures the same way. matplotlib is imported inside the
``*_figure`` functions only: the CLI and the Lambda code never import this module, and it stays
cheap for whoever wants the tables alone. matplotlib comes with the ``docs`` extra.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
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
    reference = result["timeline"].get("serverless") or next(iter(result["timeline"].values()), [])
    windows, instants = fault_windows(reference)
    handles: dict[str, Any] = {}
    for start, end, label in windows:
        colour = FAULT_COLOURS.get(label.split(" ", 1)[0], "#b15928")
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


# -- step 6: the performance run (benchmarks/performance.py) ----------------------------------


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _spread(x: dict[str, float] | None, digits: int = 1) -> str:
    """``{"min", "median", ...}`` as ``median (min)``; "n/a" when not measured."""
    if not x:
        return "n/a"
    return f"{x['median']:,.{digits}f} (min {x['min']:,.{digits}f})"


def performance_markdown(result: dict[str, Any]) -> str:
    """The performance run as Markdown: how it was measured, the cold start, the zip, both systems."""
    parts = []
    if result.get("measured"):
        parts.append(measured_by(result["measured"]))

    cold = result["cold_start"]
    lines = [
        f"| Cold start: the import, in fresh interpreters ({cold['runs']} each) | median (ms) | range (ms) |",
        "|---|---:|---:|",
    ]
    for name, case in cold["cases"].items():
        lines.append(
            f"| {name} | {_number(case['median_ms'])} | "
            f"{_number(case['min_ms'])} to {_number(case['max_ms'])} |"
        )
    lines.append(f"| `import app` over `import boto3` (medians) | {cold['app_over_boto3']:g}x | |")
    parts.append("\n".join(lines))

    package = result["zip"]
    if package.get("bytes"):
        parts.append(
            f"The deployment zip of stage `{package['stage']}`: **{package['mb']:g} MB** "
            f"({package['bytes']:,} bytes)."
        )
    else:
        parts.append(
            f"The deployment zip of stage `{package['stage']}`: not measured (the run found no zip)."
        )

    p, s = result["parameters"], result["summary"]
    parts.append(
        f"Both systems side by side, each in a process of its own, fed by the same senders and answered "
        f"by a fintech client of its own, over real HTTP; {p['runs']} runs, each figure the median "
        "over the runs (its minimum in brackets), each ratio taken inside a run. Throughput: a stream "
        f"of {p['flood']:,} deliveries (20% duplicates) from {p['senders']} senders as fast as each system "
        "answers, distinct notifications applied per second until nothing is left to do (queues "
        f"drained, webhooks delivered); then {p['slow_flood']:,} deliveries with a client that answers "
        f"each webhook after {p['slow_client_seconds']:g} s. CPU: the system's processes, per distinct "
        f"notification of the flood. Latency: {p['latency_count']:,} deliveries at {p['rate']:g}/s sent to "
        "both systems at once, from the send of a notification to its balance webhook at the client."
    )
    flood, slow, latency = s["flood"], s["slow_client"], s["latency"]
    rows: list[tuple[str, str, str, str]] = [
        (
            "applied per second, flooded",
            _spread(flood["monolith"]["applied_per_second"]),
            _spread(flood["serverless"]["applied_per_second"]),
            _spread(flood["serverless_over_monolith_throughput"], 2),
        ),
        (
            "CPU per notification (ms)",
            _spread(flood["monolith"]["cpu_ms_per_notification"], 2),
            _spread(flood["serverless"]["cpu_ms_per_notification"], 2),
            "",
        ),
        (
            "AWS requests per notification",
            "",
            _spread(flood["serverless"].get("aws_calls_per_notification"), 2),
            "",
        ),
        (
            f"applied per second, client answering in {p['slow_client_seconds']:g} s",
            _spread(slow["monolith"]["applied_per_second"]),
            _spread(slow["serverless"]["applied_per_second"]),
            _spread(slow["serverless_over_monolith_throughput"], 2),
        ),
        (
            f"latency p50 at {p['rate']:g}/s (ms)",
            _spread(latency["monolith"]["p50"]),
            _spread(latency["serverless"]["p50"]),
            _spread(latency["serverless_over_monolith_p50"], 2),
        ),
        (
            f"latency p99 at {p['rate']:g}/s (ms)",
            _spread(latency["monolith"]["p99"]),
            _spread(latency["serverless"]["p99"]),
            _spread(latency["serverless_over_monolith_p99"], 2),
        ),
        (
            "notifications lost, all runs",
            f"{flood['lost']['monolith'] + slow['lost']['monolith'] + latency['lost']['monolith']:,}",
            f"{flood['lost']['serverless'] + slow['lost']['serverless'] + latency['lost']['serverless']:,}",
            "",
        ),
    ]
    table = ["| | monolith | serverless | serverless / monolith |", "|---|---:|---:|---:|"]
    table += [f"| {label} | {m} | {sv} | {ratio} |" for label, m, sv, ratio in rows]
    parts.append("\n".join(table))
    return "\n\n".join(parts)


def _cell(text: str) -> str:
    """A label in a Markdown table cell: ``<frozen importlib._bootstrap>`` shown, not taken for HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def profile_markdown(result: dict[str, Any]) -> str:
    """A profile of the local cloud under a flood (``benchmarks/cpu_profile.py``): per process, its CPU,
    the shares of samples by package and the functions in most samples."""
    flood = result["flood"]
    calls = ", ".join(f"{name} {n:,}" for name, n in list(flood["aws_calls"].items())[:9] if n)
    parts = [
        measured_by(result["measured"]),
        f"{flood['deliveries']:,} deliveries ({flood['distinct']:,} distinct notifications, "
        f"{flood['lost']} lost) applied at {_number(flood['applied_per_second'])} a second: "
        f"**{_number(flood['cpu_ms_per_notification'], 2)} ms of CPU** and "
        f"**{_number(flood['aws_calls_per_notification'], 2)} AWS requests** a notification "
        f"({calls}).",
    ]
    for name, process in result["processes"].items():
        rows = [f"| {name}: {process['cpu_seconds']:.2f} s of CPU | share of samples |", "|---|---:|"]
        rows += ["| **doing what** | |"]
        rows += [f"| {_cell(row['hop'])} | {row['percent']:.1f}% |" for row in process["by_hop"][:9]]
        rows += ["| **in which code** (the frame running) | |"]
        rows += [f"| {_cell(row['package'])} | {row['percent']:.1f}% |" for row in process["by_package"][:6]]
        rows += ["| **functions in most samples** (a function and what it calls) | |"]
        rows += [f"| `{row['function']}` | {row['percent']:.1f}% |" for row in process["top_functions"]]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def startup_markdown(result: dict[str, Any]) -> str:
    """The local cloud's start and stop by phase (``benchmarks/startup.py``): min and median."""
    rows = [
        f"| phase ({result['runs']} fresh interpreters) | min | median |",
        "|---|---:|---:|",
    ]
    rows += [
        f"| {_cell(phase)} | {figures['min_s']:.2f} s | {figures['median_s']:.2f} s |"
        for phase, figures in result["phases"].items()
    ]
    return f"{measured_by(result['measured'])}\n\n" + "\n".join(rows)


def performance_figure(result: dict[str, Any], *, width: float = 8.0) -> Any:
    """Left: each system's latency distribution (an ECDF, log x); right: its throughput (bars)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 3.8), layout="constrained")
    ecdf_axes, bar_axes = figure.subplots(1, 2, width_ratios=(3, 2))
    points = result.get("latency_points", {})
    summary = result["summary"]
    names = [n for n in SYSTEMS if n in summary["flood"]]
    for name in names:
        values = sorted(max(point[1], 1.0) for point in points.get(name, []))
        if not values:
            continue
        shares = [(i + 1) / len(values) for i in range(len(values))]
        p50 = summary["latency"][name]["p50"]["median"]
        ecdf_axes.step(
            values, shares, where="post", color=COLOURS.get(name), lw=1.8, label=f"{name} (p50 {p50:,.0f} ms)"
        )
    ecdf_axes.set_xscale("log")
    ecdf_axes.set_ylim(0, 1.02)
    ecdf_axes.set_xlabel("send to balance webhook (ms, log scale)")
    ecdf_axes.set_ylabel("share of notifications")
    ecdf_axes.set_title(f"latency at {result['parameters']['rate']:g}/s, both at once", fontsize=10)
    ecdf_axes.grid(alpha=0.3, which="both")
    ecdf_axes.legend(fontsize=8.5, frameon=False, loc="upper left")

    slow = result["parameters"]["slow_client_seconds"]
    measures = (("flooded", "flood"), (f"client {slow:g} s slow", "slow_client"))
    height = 0.38
    for row, name in enumerate(names):
        for offset, (label, section) in enumerate(measures):
            value = summary[section][name]["applied_per_second"]["median"]
            y = row + (offset - 0.5) * height
            bar_axes.barh(
                y, value, height=height * 0.92, color=COLOURS.get(name), alpha=1.0 if offset == 0 else 0.45
            )
            bar_axes.annotate(
                f"{label}: {value:,.1f}",
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    bar_axes.set_yticks(range(len(names)), names)
    bar_axes.invert_yaxis()
    bar_axes.set_xlabel("notifications applied per second (medians)")
    bar_axes.set_title("throughput, each in its own process", fontsize=10)
    bar_axes.grid(alpha=0.3, axis="x")
    right = max(
        (summary[sec][n]["applied_per_second"]["median"] for n in names for _, sec in measures), default=1.0
    )
    bar_axes.set_xlim(0, right * 2.2 or 1.0)  # room for the labels
    return figure


# -- step 6: a month of the bank (demo.aws.costs) -------------------------------------------------

# The always-on options against the serverless month: (broker, cluster, label, colour, line
# style, where its break-even's label goes, in points from the point).
COST_OPTIONS: tuple[tuple[str, bool, str, str, str, tuple[int, int]], ...] = (
    ("self-hosted", False, "RabbitMQ on EC2, 1 node", "tab:orange", "-", (18, -38)),
    ("self-hosted", True, "RabbitMQ on EC2, 3 nodes", "tab:orange", ":", (-120, 22)),
    ("amazon-mq", False, "Amazon MQ, single-instance", "tab:green", "-", (22, -30)),
    ("amazon-mq", True, "Amazon MQ, 3-node cluster", "tab:green", "--", (-120, 18)),
)
COST_VOLUMES = (10**4, 10**5, 10**6, 10**7, 10**8, 10**9)


def break_evens() -> list[tuple[str, Any]]:
    """(option's label, ``costs.BreakEven``) of every volume where an always-on option meets serverless."""
    from demo.aws import costs

    return [
        (label, point)
        for broker, cluster, label, *_ in COST_OPTIONS
        for point in costs.crossings(broker, cluster=cluster)
    ]


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def costs_markdown(volumes: tuple[int, ...] = COST_VOLUMES) -> str:
    """A month at a few volumes, each option a column; the break-evens; the serverless month by service."""
    from demo.aws import costs

    labels = [option[2] for option in COST_OPTIONS]
    month = [
        "| notifications a month | serverless | "
        + " | ".join(f"monolith + {label}" for label in labels)
        + " |",
        "|---:|" + "---:|" * (1 + len(labels)),
    ]
    for n in volumes:
        always_on = [costs.always_on_monthly(n, b, cluster=c).total for b, c, *_ in COST_OPTIONS]
        month.append(
            f"| {n:,} | {_dollars(costs.serverless_monthly(n).total)} | "
            + " | ".join(_dollars(v) for v in always_on)
            + " |"
        )
    even = [
        "| always-on option | break-even (notifications a month) | a month there, either way |",
        "|---|---:|---:|",
    ]
    for label, point in break_evens():
        even.append(f"| {label} | {point.notifications:,} | {_dollars(point.always_on)} |")
    low, high = costs.serverless_monthly(10**6), costs.serverless_monthly(10**9)
    services = list(high.by_service())
    share = [
        f"| service | {low.notifications:,} a month | share | {high.notifications:,} a month | share |",
        "|---|---:|---:|---:|---:|",
    ]
    for service in services:
        a, b = low.by_service().get(service, 0.0), high.by_service()[service]
        share.append(
            f"| {service} | {_dollars(a)} | {a / low.total:.0%} | {_dollars(b)} | {b / high.total:.0%} |"
        )
    share.append(f"| **total** | **{_dollars(low.total)}** | | **{_dollars(high.total)}** | |")
    return "\n\n".join(
        [
            "**A month at a few volumes**, in dollars (us-east-1, on-demand, no free tier):",
            "\n".join(month),
            "**The break-evens**: below each volume serverless costs less than that always-on option.",
            "\n".join(even),
            "**The serverless month by service**, the largest first at the top of the range:",
            "\n".join(share),
        ]
    )


def price_sources_markdown() -> str:
    """Where the prices of the monthly model come from, and when they were read (``demo/aws/prices.yaml``).

    A table of the pages the file names; each service's ``note`` in the file says what the page
    gave, and where the figures it lacked come from.
    """
    from urllib.parse import urlsplit

    from demo.aws import costs

    lines = ["| prices of | source | read on |", "|---|---|---|"]
    for service, (source, read_on) in costs.price_sources().items():
        parts = urlsplit(source)
        lines.append(f"| {service} | [{parts.netloc}{parts.path.rstrip('/')}]({source}) | {read_on} |")
    return "\n".join(lines)


def costs_figure(volumes: Any = None, *, width: float = 8.5) -> Any:
    """A month of the bank, serverless against each always-on option, log-log, the break-evens marked."""
    from matplotlib.figure import Figure

    from demo.aws import costs

    if volumes is None:  # 181 volumes, log-spaced from 10^3 to 10^9
        volumes = sorted({round(costs.LOW * (costs.HIGH / costs.LOW) ** (i / 180)) for i in range(181)})
    figure = Figure(figsize=(width, 5.6), layout="constrained")
    axes = figure.subplots()
    axes.loglog(
        volumes,
        [costs.serverless_monthly(int(n)).total for n in volumes],
        color="tab:blue",
        linewidth=2.5,
        label="serverless (Lambda, SQS, EventBridge, DynamoDB...)",
    )
    evens = break_evens()
    for broker, cluster, label, colour, style, offset in COST_OPTIONS:
        axes.loglog(
            volumes,
            [costs.always_on_monthly(int(n), broker, cluster=cluster).total for n in volumes],
            color=colour,
            linestyle=style,
            linewidth=2 if style == ":" else 1.5,
            zorder=3 if style == ":" else 2,  # the dotted line runs along another: keep it on top
            label=f"always-on monolith + {label}",
        )
        for point in (point for option, point in evens if option == label):
            axes.plot(point.notifications, point.always_on, "o", color=colour, markersize=8, zorder=5)
            axes.annotate(
                f"{point.notifications / 1e6:.1f} M/month\n${point.always_on:,.0f}",
                (point.notifications, point.always_on),
                xytext=offset,
                textcoords="offset points",
                fontsize=9,
                color=colour,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": colour, "alpha": 0.9},
                arrowprops={"arrowstyle": "-", "color": colour},
            )
    axes.set_xlabel("notifications a month")
    axes.set_ylabel("$ a month (us-east-1, on-demand, no free tier)")
    axes.set_title("A month of the bank: serverless against the always-on 'before'")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=9)
    return figure


# -- markers: the docs site's hook and the slides render the same markers the same way ---------

# A result file's table or plot: ``<!-- scorecard: benchmarks/results/storm.json -->``, each on a line of its own.
MARKER = re.compile(
    r"^<!--\s*(scorecard|scorecard-plot|performance|performance-plot|profile|startup):\s*(\S+)\s*-->\s*$",
    re.MULTILINE,
)
# The cost model's tables and plot, computed when the page is built: ``<!-- costs -->``.
COSTS_MARKER = re.compile(r"^<!--\s*(costs|costs-plot|price-sources)\s*-->\s*$", re.MULTILINE)


def read_result(root: Path, path: str) -> dict[str, Any]:
    """The result file ``path`` (from ``root``), or ``FileNotFoundError`` naming the run that writes it."""
    file = root / path
    if not file.is_file():
        raise FileNotFoundError(f"{path} does not exist (run the benchmark that writes it)")
    return json.loads(file.read_text(encoding="utf-8"))


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
    if kind == "costs":
        return costs_markdown()
    if kind == "price-sources":
        return price_sources_markdown()
    raise ValueError(f"no table for the marker {kind!r}")


def marker_figure(kind: str, result: dict[str, Any] | None = None) -> Any:
    """The figure a ``*-plot`` marker stands for (``svg(...)`` writes it)."""
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
