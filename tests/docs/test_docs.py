"""The docs site builds strict and offline, shows the real code, and loads nothing from outside."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from site_build import NAV_PAGES, IgnoreTags, built_path, docs_site, shared_root, waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

ROOT = Path(__file__).resolve().parents[2]
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[/:]")
STEP_0 = "steps/00-monolith.md"
STEP_1 = "steps/01-lambda.md"
STEP_2 = "steps/02-events.md"
STEP_3 = "steps/03-orchestration.md"
STEP_4 = "steps/04-security.md"
STEP_5 = "steps/05-resilience.md"
STEP_6 = "steps/06-shipping.md"
STORM = ROOT / "benchmarks/results/storm.json"
PERFORMANCE = ROOT / "benchmarks/results/performance.json"
PROFILE = ROOT / "benchmarks/results/profile.json"
# The only URIs a plot's SVG may hold: the namespace names, which nothing fetches.
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
REFERENCE = "reference/bad-input.md"
ADR_1 = "adr/0001-publish-after-commit.md"
SNIPPET_MARKER = re.compile(r"^\s*# --8<-- \[(?:start|end):[\w-]+\]\s*$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site this test run builds once, strict, for every test that reads it (tests/site_build.py)."""
    return docs_site(shared_root(tmp_path_factory))


# Tags whose URLs the browser fetches by itself, and the attributes that hold them.
FETCHED = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}


class Page(HTMLParser):
    """What the checks read from one built HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.code_blocks: list[str] = []
        self.mermaid_blocks = 0
        self.outputs = 0
        self.external: list[str] = []
        self._code_depth = 0
        self._style_depth = 0
        self._script_depth = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "pre" and "mermaid" in classes:
            self.mermaid_blocks += 1
        if "jp-OutputArea-output" in classes:
            self.outputs += 1
        if tag == "code":
            if self._code_depth == 0:
                self.code_blocks.append("")
            self._code_depth += 1
        if tag == "style":
            self._style_depth += 1
        for name in FETCHED.get(tag, ()):
            for url in (values.get(name) or "").replace(",", " ").split():
                if is_external(url):
                    self.external.append(f"<{tag} {name}={values[name]!r}>")
        if tag == "script":
            self._script_depth += 1
            # a script may take its URL from any attribute (mkdocs-jupyter's MathJax loader does)
            for name, value in values.items():
                if name != "src" and value and ABSOLUTE_URL.search(value):
                    self.external.append(f"<script {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._code_depth:
            self._code_depth -= 1
        if tag == "style" and self._style_depth:
            self._style_depth -= 1
        if tag == "script" and self._script_depth:
            self._script_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._code_depth:
            self.code_blocks[-1] += data
        if self._script_depth and ABSOLUTE_URL.search(data):
            self.external.append(f"<script> with {ABSOLUTE_URL.search(data).group()!r}")  # type: ignore[union-attr]
        if self._style_depth and ("url(http" in data or "url(//" in data or "@import" in data):
            self.external.append(f"<style> with {data.strip()[:80]!r}")

    @property
    def code(self) -> str:
        return "\n".join(self.code_blocks)


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") or (not parts.scheme and url.strip().startswith("//"))


def read_page(site: Path, source: str) -> Page:
    return Page(built_path(site, source).read_text(encoding="utf-8"))


def without_snippet_markers(text: str) -> str:
    """``text`` without its ``# --8<-- [start:...]`` / ``[end:...]`` lines, as snippets includes a whole file."""
    return "\n".join(line for line in text.splitlines() if not SNIPPET_MARKER.match(line))


def definition_source(path: Path, qualified_name: str) -> tuple[str, int, int]:
    """The dedented source of a function or method (``Class.method``) and its line range."""
    node: ast.AST = ast.parse(path.read_text(encoding="utf-8"))
    for name in qualified_name.split("."):
        node = next(
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.FunctionDef | ast.ClassDef) and child.name == name
        )
    assert isinstance(node, ast.FunctionDef | ast.ClassDef)
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    lines = path.read_text(encoding="utf-8").splitlines()[start - 1 : node.end_lineno]
    return textwrap.dedent("\n".join(lines)), start, node.end_lineno or start


def test_the_performance_page_shows_the_profile_of_the_results_file(site: Path):
    # Given the profile as benchmarks/cpu_profile.py wrote it (whatever run it holds)
    result = json.loads(PROFILE.read_text(encoding="utf-8"))
    html = built_path(site, "performance.md").read_text(encoding="utf-8")
    text = unescape(re.sub(r"<[^>]+>", "", html))
    tables = Tables(html).tables

    # Then its CPU and requests a notification are in the page, with the command that measured them...
    flood = result["flood"]
    assert f"{flood['cpu_ms_per_notification']:,.2f} ms of CPU" in text
    assert f"{flood['aws_calls_per_notification']:,.2f} AWS requests" in text
    assert result["measured"]["command"] in Page(html).code
    # ...and each process has a table of its shares, as the file gives them, every label readable
    for name, process in result["processes"].items():
        table = next((t for t in tables if t and t[0][0].startswith(f"{name}: ")), None)
        assert table is not None, f"no table for the {name}"
        assert table[0][0] == f"{name}: {process['cpu_seconds']:.2f} s of CPU"
        shares = {row[0]: row[1] for row in table[1:]}
        for row in process["by_hop"][:9] + process["by_package"][:6]:
            label = row.get("hop") or row["package"]
            assert shares[label] == f"{row['percent']:.1f}%", label
    assert "<!-- profile" not in html, "a profile marker was left unreplaced"


def test_the_performance_page_shows_the_start_of_the_local_cloud_from_its_results_file(site: Path):
    result = json.loads((ROOT / "benchmarks/results/startup.json").read_text(encoding="utf-8"))
    html = built_path(site, "performance.md").read_text(encoding="utf-8")
    table = next(t for t in Tables(html).tables if t and t[0][0].startswith("phase ("))
    rows = {row[0]: row[1:] for row in table[1:]}
    assert list(rows) == list(result["phases"])
    for phase, figures in result["phases"].items():
        assert rows[phase] == [f"{figures['min_s']:.2f} s", f"{figures['median_s']:.2f} s"], phase
    assert result["measured"]["command"] in Page(html).code
    assert "<!-- startup" not in html, "a startup marker was left unreplaced"


def test_nav_lists_the_home_quickstart_then_each_step_and_its_notebook_in_order():
    assert NAV_PAGES[:2] == ["index.md", "quickstart.md"]
    steps = [
        STEP_0,
        "notebooks/00_monolith.py",
        STEP_1,
        "notebooks/01_lambda.py",
        STEP_2,
        "notebooks/02_events.py",
        STEP_3,
        "notebooks/03_orchestration.py",
        STEP_4,
        "notebooks/04_security.py",
        STEP_5,
        "notebooks/05_resilience.py",
        STEP_6,
        "notebooks/06_ship.py",
        REFERENCE,  # the reference pages: after the steps, before the decisions
        ADR_1,
    ]
    assert all(page in NAV_PAGES for page in steps)
    assert sorted(steps, key=NAV_PAGES.index) == steps, "each step and its notebook come before the next step"


@pytest.mark.parametrize("source", NAV_PAGES)
def test_every_nav_page_is_built(site: Path, source: str):
    page = built_path(site, source)
    assert page.is_file(), f"{source} was not built to {page.relative_to(site)}"
    assert "<article" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("source", [STEP_0, STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, STEP_6])
def test_step_page_has_a_mermaid_diagram(site: Path, source: str):
    assert read_page(site, source).mermaid_blocks >= 1


def test_step_1_page_shows_app_py_as_it_is(site: Path):
    # Given the Chalice app as it is on disk now
    app_py = (ROOT / "demo/serverless/app.py").read_text(encoding="utf-8")
    worker_line = next(line for line in app_py.splitlines() if "@app.on_sqs_message" in line)

    # Then the step page shows that line, and the whole file (snippets drops its --8<-- markers)
    code = read_page(site, STEP_1).code
    assert worker_line in code
    assert without_snippet_markers(app_py).strip() in code


@pytest.mark.parametrize(
    ("page", "path", "name"),
    [
        (STEP_0, "demo/monolith/worker.py", "Worker.handle"),
        (STEP_0, "demo/monolith/worker.py", "Worker._notify"),
        (STEP_0, "demo/monolith/web.py", "InboxThenBroker"),
        (STEP_0, "demo/monolith/web.py", "create_app.receive_notification"),
        (STEP_1, "demo/bank/ledger.py", "decide"),
        (STEP_1, "demo/serverless/chalicelib/ledger_table.py", "DynamoDBLedger.commit"),
        (STEP_2, "demo/serverless/app.py", "deliver_webhooks"),
        (STEP_2, "demo/bank/service.py", "apply_and_publish"),
        (STEP_2, "demo/serverless/chalicelib/webhooks.py", "retry_delay"),
        (STEP_3, "demo/serverless/app.py", "review_desk"),
        (STEP_3, "demo/serverless/app.py", "decide_review"),
        (STEP_3, "demo/bank/service.py", "submit_decision"),
        (STEP_3, "demo/bank/service.py", "on_review_event"),
        (STEP_4, "demo/serverless/chalicelib/secrets.py", "SsmSigningSecret"),
        (STEP_4, "demo/serverless/chalicelib/secrets.py", "rotate"),
        (STEP_4, "demo/serverless/chalicelib/cards.py", "KmsCardVault.seal"),
        (STEP_5, "demo/serverless/chalicelib/outages.py", "is_outage"),
        (STEP_5, "demo/serverless/chalicelib/outages.py", "outage_delay"),
        (STEP_5, "demo/serverless/chalicelib/outages.py", "OutageRequeue"),
        (STEP_5, "demo/serverless/chalicelib/batch.py", "process_partial"),
        (STEP_5, "demo/monolith/web.py", "InboxThenBroker"),
        (STEP_6, "demo/aws/shipping.py", "stage_policy"),
        (STEP_6, "demo/aws/preflight.py", "check_credentials"),
        (STEP_6, "demo/aws/deploy.py", "Deployment.deploy"),
        (STEP_6, "demo/aws/deploy.py", "Deployment.wait"),
        (STEP_6, "demo/aws/deploy.py", "Deployment.store_secrets"),
        (STEP_6, "demo/aws/deploy.py", "Deployment.leftovers"),
        (STEP_6, "demo/aws/usage.py", "Assumptions"),
    ],
)
def test_step_pages_show_the_whole_definition_as_it_is(site: Path, page: str, path: str, name: str):
    # Given the code as it is on disk now (read at test time)
    source, start, end = definition_source(ROOT / path, name)

    # Then the page shows each definition whole: its --8<-- section markers still enclose it
    assert source in read_page(site, page).code, (
        f"docs/{page} no longer shows all of {name} (lines {start}-{end} of {path}): "
        "move its --8<-- [start:...] / [end:...] markers"
    )


@pytest.mark.parametrize(
    "source",
    [
        "notebooks/00_monolith.py",
        "notebooks/01_lambda.py",
        "notebooks/02_events.py",
        "notebooks/03_orchestration.py",
        "notebooks/04_security.py",
        "notebooks/05_resilience.py",
        "notebooks/06_ship.py",
    ],
)
def test_notebook_page_shows_the_outputs_of_a_run(site: Path, source: str):
    assert read_page(site, source).outputs > 0


@pytest.mark.parametrize(
    ("page", "resources"),
    [
        (STEP_2, ["WebhooksRule", "AuditRule", "EventsToQueuesPolicy"]),
        (STEP_3, ["ReviewsQueue", "ReviewsRule", "ReviewWorkflowRole", "ReviewStateMachine"]),
    ],
)
def test_step_pages_show_their_resources_of_the_template(site: Path, page: str, resources: list[str]):
    # The pages include resources.yaml by named sections: this catches a marker that moved.
    template = yaml.load((ROOT / "demo/serverless/resources.yaml").read_text(), Loader=IgnoreTags)
    code = read_page(site, page).code
    for name in resources:
        assert name in template["Resources"], f"resources.yaml has no {name}"
        assert re.search(rf"^\s*{name}:$", code, re.MULTILINE), (
            f"docs/{page} does not show {name}: move the --8<-- section markers of resources.yaml"
        )
    assert "Targets:" in code and "EventPattern:" in code


def test_every_event_rule_of_the_template_is_shown_on_a_step_page(site: Path):
    template = yaml.load((ROOT / "demo/serverless/resources.yaml").read_text(), Loader=IgnoreTags)
    rules = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    code = "\n".join(read_page(site, page).code for page in (STEP_2, STEP_3))
    assert rules, "resources.yaml has no EventBridge rule"
    for name in rules:
        assert re.search(rf"^\s*{name}:$", code, re.MULTILINE), f"no step page shows the rule {name}"


class Tables(HTMLParser):
    """The text of every table cell of a page: tables, of rows, of cells."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_step_5_page_shows_the_storm_scorecard_of_the_results_file(site: Path):
    # Given the storm's result as the soak wrote it (whatever run it holds)
    result = json.loads(STORM.read_text(encoding="utf-8"))
    html = built_path(site, STEP_5).read_text(encoding="utf-8")

    # Then the page has its scorecard: a table whose header names both systems...
    tables = Tables(html).tables
    scorecard = next((t for t in tables if t and t[0][1:] == ["monolith", "serverless"]), None)
    assert scorecard is not None, "no scorecard table (monolith, serverless) on the step 5 page"
    rows = {row[0]: row[1:] for row in scorecard[1:]}

    # ...with the figures of the file, as the file holds them
    cards = result["scorecard"]
    for label, key in [
        ("notifications sent (deliveries)", "sent"),
        ("applied", "applied"),
        ("lost", "lost"),
        ("webhooks lost", "webhooks_lost"),
    ]:
        assert rows[label] == [f"{cards['monolith'][key]:,}", f"{cards['serverless'][key]:,}"], label
    if "measured" in result:  # the command that produced it, named above the table
        assert result["measured"]["command"] in Page(html).code
    assert "<!-- scorecard" not in html, "a scorecard marker was left unreplaced"


def test_step_5_page_lists_every_scenario_as_defined(site: Path):
    from demo.resilience.scenarios import SCENARIOS

    tables = Tables(built_path(site, STEP_5).read_text(encoding="utf-8")).tables
    listed = next((t for t in tables if t and t[0][0] == "Scenario"), None)
    assert listed is not None, "no scenarios table on the step 5 page"
    assert [row[0] for row in listed[1:]] == list(SCENARIOS)
    assert [row[1] for row in listed[1:]] == [s.summary for s in SCENARIOS.values()]


@pytest.mark.parametrize(("source", "plots"), [(STEP_5, 1), (STEP_6, 2)])
def test_step_plots_are_in_the_site_and_name_no_url(site: Path, source: str, plots: int):
    page = built_path(site, source)
    images = re.findall(r'<img[^>]*\ssrc="([^"]+\.svg)"', page.read_text(encoding="utf-8"))
    assert len(set(images)) >= plots, f"the {source} page shows {len(set(images))} SVG plots, not {plots}"
    for src in images:
        plot = (page.parent / src).resolve()
        assert plot.is_file() and plot.is_relative_to(site.resolve()), f"{src} is not in the built site"
        text = plot.read_text(encoding="utf-8")
        assert "<svg" in text and "<path" in text
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
        assert urls <= SVG_NAMESPACES, f"{src} names {sorted(urls - SVG_NAMESPACES)}"
        assert "@import" not in text and "@font-face" not in text


def test_step_6_page_shows_the_cost_models_counts_and_prices_as_they_are(site: Path):
    from demo.aws import usage

    code = read_page(site, STEP_6).code
    source = (ROOT / "demo/aws/usage.py").read_text(encoding="utf-8")
    for name in ("MIX", "PER_NOTIFICATION", "EVERY_NOTIFICATION", "PER_EVENT", "ITEM_BYTES"):
        line = next(line for line in source.splitlines() if line.startswith(f"{name}: dict"))
        assert line in code, (
            f"docs/{STEP_6} does not show {name}: move the --8<-- markers of demo/aws/usage.py"
        )
    assert f"SQS_BATCH_SIZE = {usage.SQS_BATCH_SIZE}" in code
    prices = (ROOT / "demo/aws/prices.yaml").read_text(encoding="utf-8")
    assert prices.strip() in code, "the step 6 page does not show demo/aws/prices.yaml as it is"


def test_step_6_page_shows_the_costs_demo_costs_computes(site: Path):
    from demo.aws import costs

    html = built_path(site, STEP_6).read_text(encoding="utf-8")
    tables = Tables(html).tables

    # a month at a few volumes: the serverless column at a million is the model's total
    months = next((t for t in tables if t and t[0][:2] == ["notifications a month", "serverless"]), None)
    assert months is not None, "no table of monthly costs on the step 6 page"
    rows = {row[0]: row[1:] for row in months[1:]}
    assert rows["1,000,000"][0] == f"${costs.serverless_monthly(10**6).total:,.2f}"
    assert rows["1,000,000"][1] == f"${costs.always_on_monthly(10**6, 'self-hosted').total:,.2f}"

    # the break-evens: the first, with one RabbitMQ node on EC2, where demo.aws.costs finds it
    evens = next((t for t in tables if t and t[0][0] == "always-on option"), None)
    assert evens is not None, "no break-even table on the step 6 page"
    point = costs.break_even("self-hosted")
    assert point is not None
    assert evens[1][1:] == [f"{point.notifications:,}", f"${point.always_on:,.2f}"]

    # each price's source and date, from the price file
    for service, (source, read_on) in costs.price_sources().items():
        assert f'href="{source}"' in html and read_on in html, service
    assert "<!-- costs" not in html and "<!-- price-sources" not in html, "a cost marker was left unreplaced"


def test_step_6_page_shows_the_performance_of_the_results_file(site: Path):
    # Given the performance run as the benchmark wrote it (whatever run it holds)
    result = json.loads(PERFORMANCE.read_text(encoding="utf-8"))
    html = built_path(site, STEP_6).read_text(encoding="utf-8")
    tables = Tables(html).tables

    # Then both systems' throughput, CPU and latency are the file's (medians over the runs, min in brackets)...
    systems = next(
        (t for t in tables if t and t[0][1:] == ["monolith", "serverless", "serverless / monolith"]), None
    )
    assert systems is not None, "no table of both systems on the step 6 page"
    rows = {row[0]: row[1:] for row in systems[1:]}
    summary, rate = result["summary"], result["parameters"]["rate"]

    def spread(x, digits=1):
        return f"{x['median']:,.{digits}f} (min {x['min']:,.{digits}f})"

    assert rows["applied per second, flooded"] == [
        spread(summary["flood"]["monolith"]["applied_per_second"]),
        spread(summary["flood"]["serverless"]["applied_per_second"]),
        spread(summary["flood"]["serverless_over_monolith_throughput"], 2),
    ]
    assert rows["CPU per notification (ms)"][:2] == [
        spread(summary["flood"][s]["cpu_ms_per_notification"], 2) for s in ("monolith", "serverless")
    ]
    assert rows[f"latency p50 at {rate:g}/s (ms)"][:2] == [
        spread(summary["latency"][s]["p50"]) for s in ("monolith", "serverless")
    ]

    # ...and so is the cold start, each case's median
    cold = next((t for t in tables if t and t[0][0].startswith("Cold start")), None)
    assert cold is not None, "no cold start table on the step 6 page"
    medians = {row[0]: row[1] for row in cold[1:]}
    for name, case in result["cold_start"]["cases"].items():
        assert medians[name] == f"{case['median_ms']:,.1f}", name
    if "measured" in result:  # the command that produced it, named above the tables
        assert result["measured"]["command"] in Page(html).code
    assert "<!-- performance" not in html, "a performance marker was left unreplaced"


def test_no_page_loads_anything_from_outside_the_site(site: Path):
    # Links (<a href>) to other sites are fine: the reader chooses to follow them.
    offenders = []
    for html in sorted(site.rglob("*.html")):
        for found in Page(html.read_text(encoding="utf-8")).external:
            offenders.append(f"{html.relative_to(site)}: {found}")
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_external_resources():
    page = Page(
        '<script src="https://cdn.example/x.js"></script>'
        '<script data-config="{&quot;url&quot;: &quot;https://cdn.example/m.js&quot;}"></script>'
        '<script>load("https://cdn.example/n.js")</script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        '<img src="http://example.org/a.png">'
        '<a href="https://example.org/">a link is fine</a>'
    )
    assert len(page.external) == 5
