"""The reference pages tell what the code does: every command, route, event type and decision is there.

The site is the one the test run builds once (tests/site_build.py); the pages are compared with
the code itself, not with the build hook's own lists.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import types
from html import unescape
from pathlib import Path

import pytest
import typer
from site_build import NAV_PAGES, built_path, docs_site, shared_root, waits_on_shared_work
from test_docs import Page, Tables

pytestmark = waits_on_shared_work  # see tests/site_build.py

ROOT = Path(__file__).resolve().parents[2]
CLI = "reference/cli.md"
HTTP_API = "reference/http-api.md"
EVENTS = "reference/events.md"
CONFIGURATION = "reference/configuration.md"
BREF = "bref-to-chalice.md"
ADRS = sorted((ROOT / "docs" / "adr").glob("[0-9][0-9][0-9][0-9]-*.md"))
MARKERS = re.compile(
    r"<!--\s*(cli-reference|make-targets|make-variables|routes:|sqs-handlers|error-codes|http-example"
    r"|event-types|event-rules|event-example|stage-settings|tour-beats)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site this test run builds once, strict, for every test that reads it (tests/site_build.py)."""
    return docs_site(shared_root(tmp_path_factory))


def html(site: Path, source: str) -> str:
    return built_path(site, source).read_text(encoding="utf-8")


def text(site: Path, source: str) -> str:
    """The page's text: tags dropped, entities decoded, white space collapsed."""
    page = html(site, source)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def headings(site: Path, source: str) -> list[str]:
    found = re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", html(site, source), re.DOTALL)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", h)).replace("¶", "").split()) for h in found]


def hook() -> types.ModuleType:
    """The build hook, imported from its file (docs/hooks is not a package)."""
    path = ROOT / "docs" / "hooks" / "reference.py"
    spec = importlib.util.spec_from_file_location("docs_reference_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def walk(group: object, path: list[str]) -> list[tuple[list[str], object]]:
    """Every command of a Typer/click group, recursively, by its ``commands`` mapping."""
    found = []
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "hidden", False):
            continue
        found.append(([*path, name], command))
        found.extend(walk(command, [*path, name]))
    return found


# -- the CLI -------------------------------------------------------------------------------------


def test_the_cli_page_has_a_section_per_command_of_the_real_app(site: Path):
    from demo.cli import app

    commands = walk(typer.main.get_command(app), ["bankdemo"])
    assert len(commands) > 20, "the walk found too few commands"
    titles = set(headings(site, CLI))
    missing = [" ".join(path) for path, _ in commands if " ".join(path) not in titles]
    assert not missing, f"the CLI reference lacks {missing}"


def test_the_cli_page_lists_every_option_and_argument_with_its_help(site: Path):
    from demo.cli import app

    page = text(site, CLI)
    for path, command in walk(typer.main.get_command(app), ["bankdemo"]):
        for param in getattr(command, "params", []):
            if param.name == "help":
                continue
            name = param.opts[0] if param.param_type_name == "option" else param.name.upper()
            assert name in page, f"{' '.join(path)}: {name} is not on the page"
            if param.help:
                assert " ".join(param.help.replace("`", "").split()) in page, (
                    f"{' '.join(path)} {name}: its help is not on the page"
                )
            envvar = param.envvar if isinstance(param.envvar, str) else None
            if envvar:
                assert envvar in page, f"{' '.join(path)} {name}: {envvar} is not on the page"


def test_a_command_added_to_the_app_appears_in_the_generated_reference(monkeypatch):
    from demo.cli import app

    reference = hook()
    before = reference.cli_markdown()
    assert "bankdemo made-up-for-the-test" not in before

    @app.command(name="made-up-for-the-test")
    def made_up(flavour: str = typer.Option("plain", help="A flavour nobody asked for.")) -> None:
        """A command that exists only in this test."""

    try:
        after = reference.cli_markdown()
    finally:
        app.registered_commands.pop()
    assert "`bankdemo made-up-for-the-test`" in after
    assert "A command that exists only in this test." in after
    assert "A flavour nobody asked for." in after and "`plain`" in after


def test_the_cli_page_lists_every_documented_make_target(site: Path):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, re.MULTILINE)
    assert {"demo", "test", "deploy", "destroy"} <= set(targets)
    cells = {cell for table in Tables(html(site, CLI)).tables for row in table for cell in row}
    missing = [t for t in targets if f"make {t}" not in cells]
    assert not missing, f"the make targets table lacks {missing}"


# -- the HTTP API ----------------------------------------------------------------------------------


def test_every_route_of_both_apps_is_on_the_http_api_page(site: Path):
    from demo.localcloud.session import on_project_path
    from demo.monolith.web import create_app

    on_project_path()
    chalice_app = importlib.import_module("app").app
    flask_app = create_app(types.SimpleNamespace(signing_secret="test"))  # type: ignore[arg-type]
    cells = {cell for table in Tables(html(site, HTTP_API)).tables for row in table for cell in row}

    serverless = [(m, p) for p, methods in chalice_app.routes.items() for m in methods]
    monolith = [
        (m, rule.rule)
        for rule in flask_app.url_map.iter_rules()
        if rule.endpoint != "static"
        for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    ]
    assert len(serverless) >= 6 and len(monolith) >= 5
    for method, path in serverless + monolith:
        assert method in cells and path in cells, f"{method} {path} is not in a route table of the page"


def test_the_http_api_page_shows_real_answers_and_the_signature_code(site: Path):
    page = html(site, HTTP_API)
    code = Page(page).code
    for line in ("HTTP/1.1 202 Accepted", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 503 Service Unavailable"):
        assert line in code, line
    assert "Retry-After: 5" in code
    assert "Bank-Signature: t=" in code
    signature = (ROOT / "demo/bank/signature.py").read_text(encoding="utf-8")
    assert signature.strip() in code, "the page does not show demo/bank/signature.py as it is"
    from demo.bank import errors

    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.BankError):
            assert cls.code in page, f"error code {cls.code} is not on the page"


# -- the events ------------------------------------------------------------------------------------


def published_event_types() -> set[str]:
    """Every event type published on the bus, read from the code without the hook."""
    from demo.bank import events

    ledger = {
        value
        for name, value in vars(events).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"(?:[A-Z][a-z]+){2,}", value)
    }
    definition = json.loads(
        (ROOT / "demo/serverless/statemachines/large-payment-review.asl.json").read_text(encoding="utf-8")
    )
    workflow = {
        entry["DetailType"]
        for state in definition["States"].values()
        if str(state.get("Resource", "")).startswith("arn:aws:states:::events:putEvents")
        for entry in state["Parameters"]["Entries"]
    }
    return ledger | workflow


def test_every_event_type_is_in_the_catalogue(site: Path):
    from demo.bank.events import BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, LARGE_PAYMENT_FLAGGED

    types_ = published_event_types()
    assert {BALANCE_UPDATED, CARD_TRANSACTION_UPDATED, LARGE_PAYMENT_FLAGGED, "ReviewRequested"} <= types_
    tables = Tables(html(site, EVENTS)).tables
    catalogue = next((t for t in tables if t and t[0][0] == "Type (detail-type)"), None)
    assert catalogue is not None, "no catalogue table on the events page"
    listed = {row[0] for row in catalogue[1:]}
    assert listed == types_


def test_every_rule_and_consumer_is_in_the_catalogue(site: Path):
    from demo.aws.cfn import load_template

    template = load_template(ROOT / "demo/serverless/resources.yaml")
    rules = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    page = text(site, EVENTS)
    for name in rules:
        assert name in page, f"the rule {name} is not on the events page"
    for handler in ("apply_notifications", "deliver_webhooks", "write_audit", "review_desk"):
        assert handler in page, handler


# -- configuration ---------------------------------------------------------------------------------


def test_the_configuration_page_lists_every_setting_and_stage(site: Path):
    from demo.aws.shipping import chalice_config, stage_environment

    page = text(site, CONFIGURATION)
    for stage in chalice_config()["stages"]:
        for name in stage_environment(stage):
            assert name in page, f"{name} ({stage}) is not on the configuration page"
    source = (ROOT / "demo/serverless/chalicelib/bootstrap.py").read_text(encoding="utf-8")
    for name in re.findall(r'env\.get\("([A-Z_]+)"', source):
        assert name in page, f"Settings.from_env reads {name}: not on the configuration page"
    assert "LOCAL_TIMINGS" in Page(html(site, CONFIGURATION)).code, "the stages' allow-lists are not shown"


# -- decisions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("adr", ADRS, ids=lambda p: p.stem)
def test_each_adr_has_its_sections_and_is_in_the_nav(adr: Path):
    source = adr.read_text(encoding="utf-8")
    assert re.search(r"^# ADR \d{4}: ", source, re.MULTILINE), "the title is not 'ADR NNNN: ...'"
    assert re.search(r"^- \*\*Status:\*\* \w+", source, re.MULTILINE), "no Status line"
    for section in ("## Context", "## Decision", "## Consequences"):
        assert re.search(rf"^{section}$", source, re.MULTILINE), f"no {section}"
    assert f"adr/{adr.name}" in NAV_PAGES, f"{adr.name} is not in mkdocs.yml's nav"


def test_there_are_several_adrs():
    assert len(ADRS) >= 6


# -- Bref to Chalice -------------------------------------------------------------------------------


def test_the_bref_table_is_filled_and_points_to_files_that_exist(site: Path):
    tables = Tables(html(site, BREF)).tables
    mapping = next((t for t in tables if t and t[0][0] == "Bref / Serverless Framework"), None)
    assert mapping is not None, "no mapping table on the Bref page"
    assert len(mapping) > 12 and all(len(row) == 3 and all(row) for row in mapping[1:])

    # the Markdown's last column names repository files in code spans (links to pages are checked
    # by the strict build)
    rows = [
        line
        for line in (ROOT / "docs" / BREF).read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith("| Bref") and not line.startswith("| Gap")
    ]
    paths = [p for line in rows for p in re.findall(r"`([\w./-]+)`", line.rsplit(" | ", 1)[-1])]
    assert len(paths) > 15
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"the Bref page names files that do not exist: {missing}"


# -- every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [CLI, HTTP_API, EVENTS, CONFIGURATION, BREF, "troubleshooting.md", "costs-and-cleanup.md", "talk.md"],
)
def test_each_page_is_in_the_nav_and_has_no_marker_left(site: Path, source: str):
    assert source in NAV_PAGES
    assert not MARKERS.search(html(site, source)), "a generated marker was left unreplaced"


def test_the_talk_page_lists_every_beat_of_the_tour_in_order(site: Path):
    from demo.workshop.beats import BEATS

    page = text(site, "talk.md")
    positions = [page.find(" ".join(beat.title.split())) for beat in BEATS]
    assert -1 not in positions and positions == sorted(positions), list(zip(positions, BEATS, strict=True))
    assert "--until" in page and "bankdemo reset" in page


def test_the_home_page_links_every_reference_page(site: Path):
    page = html(site, "index.md")
    for source in (CLI, HTTP_API, EVENTS, CONFIGURATION, "reference/bad-input.md", BREF):
        target = source.removesuffix(".md") + "/"
        assert f'href="{target}"' in page, f"the home page does not link {source}"
