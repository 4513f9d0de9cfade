"""Step 6's monthly cost model (``demo.aws.costs``) as Markdown tables and a plot.

A month of the bank at a few volumes, serverless against each always-on option
(``COST_OPTIONS``), with the break-evens and the serverless month by service
(``costs_markdown``); where each price comes from (``price_sources_markdown``); the months over
10^3 to 10^9 notifications, log-log (``costs_figure``). Computed when called, from
``demo/aws/prices.yaml``: no figure is typed in. ``demo.aws.costs`` and matplotlib are imported
inside the functions.
"""

from __future__ import annotations

from typing import Any

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
