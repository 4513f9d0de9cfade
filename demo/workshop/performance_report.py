"""Step 6's measured runs, as Markdown tables and a plot.

- the performance run (``benchmarks/performance.py``): ``performance_markdown``,
  ``performance_figure``;
- the local cloud's profile under a flood (``benchmarks/cpu_profile.py``): ``profile_markdown``;
- its start and stop by phase (``benchmarks/startup.py``): ``startup_markdown``.

Each says how its run was made (``demo.workshop.report.measured_by``) and draws the systems in
the colours of the other reports. matplotlib is imported inside ``performance_figure`` only.
"""

from __future__ import annotations

from typing import Any

from demo.workshop.report import COLOURS, SYSTEMS, measured_by


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
        "over the runs (its minimum in brackets), each ratio taken inside a run. Throughput: once each "
        "system has handled the same short warm-up stream, a stream "
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
