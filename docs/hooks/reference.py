"""MkDocs hook: the reference pages are generated from the real code when the site is built.

Markers, each on a line of its own in a page's Markdown:

- ``<!-- cli-reference -->``: every command and sub-command of the ``bankdemo`` Typer app
  (``demo.cli.app``, through ``typer.main.get_command``): usage, help, arguments and options with
  their help, default and environment variable. A command added to the app appears by itself.
- ``<!-- make-targets -->``: the Makefile's ``target: ... ## help`` lines, as ``make help`` prints
  them; ``<!-- make-variables -->``: its ``NAME ?= default`` lines, with the comment above each.
- ``<!-- routes: serverless -->``: the Chalice app's routes (``app.routes``), and
  ``<!-- routes: monolith -->`` the Flask app's (``url_map``); ``<!-- sqs-handlers -->`` the
  Chalice app's SQS event sources (``app.event_sources``).
- ``<!-- error-codes -->``: every error of ``demo.bank.errors``, its code and HTTP status.
- ``<!-- http-example -->``: requests sent to the real Chalice app through Chalice's test client,
  with the in-memory adapters of ``demo.bank.memory``, and the answers it gave.
- ``<!-- event-types -->``: every event type published on the bus (the ledger's, from
  ``demo.bank.events``; the review workflow's, from its Amazon States Language definition), the
  EventBridge rules of ``resources.yaml`` that route it, their queues and the handlers that poll
  them; ``<!-- event-rules -->`` the rules themselves; ``<!-- event-example -->`` the events and
  webhooks the real code builds for two notifications.
- ``<!-- stage-settings -->``: every environment variable ``Settings.from_env`` reads, its
  default, and its value in each stage of ``.chalice/config.json``.
- ``<!-- tour-beats -->``: the beats of ``bankdemo tour`` (``demo.workshop.beats.BEATS``), for the talk page.

Registered in mkdocs.yml under ``hooks:``. The functions that collect the data are public: the
tests (tests/docs/test_reference_pages.py) compare the built pages with them.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# mkdocs loads a hook by its path: the modules beside it are imported by name
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_api import (
    error_codes_markdown,
    event_example_markdown,
    event_rules_markdown,
    event_types_markdown,
    http_example_markdown,
    monolith_routes_markdown,
    serverless_routes_markdown,
    sqs_handlers_markdown,
)
from reference_markdown import ROOT, md_cell, md_table

MAKEFILE = ROOT / "Makefile"
MARKER = re.compile(
    r"^<!--\s*(cli-reference|make-targets|make-variables|routes: serverless|routes: monolith|sqs-handlers"
    r"|error-codes|http-example|event-types|event-rules|event-example|stage-settings|tour-beats)\s*-->\s*$",
    re.MULTILINE,
)


# -- the CLI -----------------------------------------------------------------------------------


def cli_group() -> Any:
    """The click group of the ``bankdemo`` Typer app."""
    import typer

    from demo.cli import app

    return typer.main.get_command(app)


def _context(command: Any, name: str, parent: Any = None) -> Any:
    """A context for ``command``, of the class its framework uses (Typer vendors its own click)."""
    return command.context_class(command, info_name=name, parent=parent)


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def cli_commands() -> list[tuple[list[str], Any]]:
    """Every command and sub-command of ``bankdemo``, as (path of names, command), in help order."""

    def walk(path: list[str], group: Any, parent: Any) -> Iterator[tuple[list[str], Any]]:
        ctx = _context(group, " ".join(path), parent)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            yield [*path, name], command
            if _is_group(command):
                yield from walk([*path, name], command, ctx)

    return list(walk(["bankdemo"], cli_group(), None))


def _type_name(param: Any, ctx: Any) -> str:
    if getattr(param, "is_flag", False) and not param.secondary_opts:
        return "flag"
    if getattr(param, "is_flag", False):
        return "flag pair"
    label = param.display_type(ctx).strip("<>")
    if label.endswith(" range"):
        low = "" if param.min is None else f"{param.min} ≤ "
        high = "" if param.max is None else f" ≤ {param.max}"
        label = f"{label.removesuffix(' range')} ({low}x{high})"
    if "|" in label:
        return " \\| ".join(f"`{choice}`" for choice in label.split("|"))
    return label


def _default(param: Any) -> str:
    if param.required:
        return "required"
    if param.show_default is False:
        return "see the help"
    value = getattr(param.default, "value", param.default)  # an Enum's value
    if callable(value):
        return "computed"
    if param.secondary_opts and isinstance(value, bool):
        return f"`{param.opts[0] if value else param.secondary_opts[0]}`"
    if value is None or value == "" or (value is False and getattr(param, "is_flag", False)):
        return "—"
    return f"`{value}`"


def _param_row(param: Any, ctx: Any) -> list[str]:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}` (argument)"
    else:
        name = " / ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    envvar = param.envvar if isinstance(param.envvar, str) else ", ".join(param.envvar or [])
    return [
        name,
        md_cell(param.help or ""),
        _type_name(param, ctx),
        _default(param),
        f"`{envvar}`" if envvar else "",
    ]


def cli_markdown() -> str:
    """The whole CLI reference: a section per command."""
    commands = cli_commands()
    out = []
    for path, command in commands:
        ctx = _context(command, " ".join(path))
        usage = " ".join([*path, *command.collect_usage_pieces(ctx)])
        level = "#" * min(len(path) + 1, 6)
        out.append(f"{level} `{' '.join(path)}`\n")
        help_text = inspect.cleandoc(command.help or "")
        out.append("\n\n".join(md_cell(p) for p in help_text.split("\n\n")) + "\n")
        out.append(f"```text\n{usage}\n```\n")
        if _is_group(command):
            subs = ", ".join(f"`{' '.join(p)}`" for p, _ in commands if p[:-1] == path)
            out.append(f"Sub-commands: {subs}.\n")
            continue
        params = [p for p in command.params if p.name != "help" and not getattr(p, "hidden", False)]
        if params:
            rows = [_param_row(p, ctx) for p in params]
            out.append(
                md_table(["Argument or option", "Help", "Type", "Default", "Environment"], rows) + "\n"
            )
        else:
            out.append("No arguments or options but `--help`.\n")
    return "\n".join(out)


# -- the Makefile ------------------------------------------------------------------------------

TARGET = re.compile(r"^([a-z-]+):.*## (.*)$")
VARIABLE = re.compile(r"^([A-Z_]+) \?= (.*)$")


def make_targets(makefile: Path = MAKEFILE) -> list[tuple[str, str]]:
    """The documented targets, as ``make help`` lists them: (target, help)."""
    found = [TARGET.match(line) for line in makefile.read_text(encoding="utf-8").splitlines()]
    return [(m.group(1), m.group(2)) for m in found if m]


def make_variables(makefile: Path = MAKEFILE) -> list[tuple[str, str, str]]:
    """The variables a caller may set (``NAME ?= default``): (name, default, the comment above it)."""
    lines = makefile.read_text(encoding="utf-8").splitlines()
    out = []
    for index, line in enumerate(lines):
        match = VARIABLE.match(line)
        if not match:
            continue
        comment: list[str] = []
        above = index - 1
        while above >= 0 and lines[above].startswith("#"):
            comment.insert(0, lines[above].lstrip("# ").strip())
            above -= 1
        out.append((match.group(1), match.group(2), " ".join(comment)))
    return out


def _make_targets_markdown() -> str:
    rows = [[f"`make {name}`", md_cell(text)] for name, text in make_targets()]
    return md_table(["Target", "What it does (its `##` comment in the Makefile)"], rows)


def _make_variables_markdown() -> str:
    rows = [
        [f"`{name}`", md_cell(f"`{default}`"), md_cell(comment) or "—"]
        for name, default, comment in make_variables()
    ]
    return md_table(["Variable", "Default", "The Makefile's comment"], rows)


# -- configuration -----------------------------------------------------------------------------


def settings_variables() -> list[tuple[str, str]]:
    """(variable, default in the code) for every ``env.get(...)`` of ``Settings.from_env``."""
    from demo.settings import SERVERLESS_PROJECT

    tree = ast.parse((SERVERLESS_PROJECT / "chalicelib" / "bootstrap.py").read_text(encoding="utf-8"))
    [settings] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    [from_env] = [n for n in settings.body if isinstance(n, ast.FunctionDef) and n.name == "from_env"]
    found: dict[str, tuple[int, str]] = {}
    for node in ast.walk(from_env):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and ast.unparse(node.func.value) == "env"
            and isinstance(node.args[0], ast.Constant)
        ):
            default = ast.unparse(node.args[1]) if len(node.args) > 1 else "None"
            found.setdefault(node.args[0].value, (node.lineno, default))
    return [(name, default) for name, (_, default) in sorted(found.items(), key=lambda item: item[1][0])]


def _stage_settings_markdown() -> str:
    from demo.aws.shipping import chalice_config, stage_environment

    stages = list(chalice_config()["stages"])
    environments = {stage: stage_environment(stage) for stage in stages}
    read = dict(settings_variables())
    names = list(read) + [n for n in environments[stages[0]] if n not in read]
    rows = []
    for name in names:
        values = [f"`{environments[s][name]}`" if name in environments[s] else "not set" for s in stages]
        default = md_cell(f"`{read[name]}`") if name in read else "not a setting"
        rows.append([f"`{name}`", default, *values])
    return md_table(["Variable", "Default in `Settings.from_env`", *stages], rows)


def _tour_beats_markdown() -> str:
    from demo.workshop.beats import BEATS

    rows = [
        [str(n), f"**{md_cell(b.title)}**", md_cell(b.does), md_cell(b.look)] for n, b in enumerate(BEATS, 1)
    ]
    return md_table(["#", "Beat", "What it does", "Look at"], rows)


# -- the hook ----------------------------------------------------------------------------------

RENDER: dict[str, Callable[[], str]] = {
    "cli-reference": cli_markdown,
    "make-targets": _make_targets_markdown,
    "make-variables": _make_variables_markdown,
    "routes: serverless": serverless_routes_markdown,
    "routes: monolith": monolith_routes_markdown,
    "sqs-handlers": sqs_handlers_markdown,
    "error-codes": error_codes_markdown,
    "http-example": http_example_markdown,
    "event-types": event_types_markdown,
    "event-rules": event_rules_markdown,
    "event-example": event_example_markdown,
    "stage-settings": _stage_settings_markdown,
    "tour-beats": _tour_beats_markdown,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda match: RENDER[" ".join(match.group(1).split())]() + "\n", markdown)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the code the reference pages are generated from changes."""
    for path in ("demo", "Makefile"):
        server.watch(str(ROOT / path))
    return server
