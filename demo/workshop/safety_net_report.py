"""The safety net's measured figures, as Markdown tables: types, coverage, mutation score.

- ``types_markdown``: mypy strict's run (``benchmarks/type_check.py`` -> ``types.json``);
- ``coverage_markdown``: the whole suite's branch coverage by folder, and its gates
  (``benchmarks/branch_coverage.py`` -> ``coverage.json``);
- ``mutation_markdown``: the domain's mutation score, by module, and every surviving mutant with
  why it survives (``benchmarks/mutation.py`` -> ``mutation.json``);
- ``example_mutant_markdown``: one surviving mutant (``example`` in benchmarks/equivalent_mutants.toml),
  its diff and why, as the page's example.

Each says how its run was made (``demo.workshop.report.measured_by``).
"""

from __future__ import annotations

from typing import Any

from demo.workshop.report import measured_by


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def types_markdown(result: dict[str, Any]) -> str:
    """mypy's run: errors over modules, the modules by folder, each ``# type: ignore`` left and why."""
    parts = [measured_by(result["measured"])] if result.get("measured") else []
    parts.append(
        f"{result['checker']}: **{result['errors']} errors** over **{result['modules']} modules**; "
        f"{len(result['ignores'])} `# type: ignore` left in the code, each with its reason."
    )
    ignored = result.get("ignores_by_folder", {})
    lines = ["| Folder | modules checked | `# type: ignore` left |", "|---|---:|---:|"]
    lines += [
        f"| `{name}` | {count} | {ignored.get(name, 0)} |"
        for name, count in result["modules_by_folder"].items()
    ]
    parts.append("\n".join(lines))
    if result["ignores"]:
        rows = ["| Where | error code | why it stays |", "|---|---|---|"]
        rows += [
            f"| `{i['where']}` | `{i['codes'] or 'any'}` | {i['reason'] or '**no reason given**'} |"
            for i in result["ignores"]
        ]
        table = "\n".join("    " + row for row in rows)
        parts.append(
            f'??? note "The {len(result["ignores"])} `# type: ignore` left, each with its reason"\n\n{table}'
        )
    return "\n\n".join(parts)


def coverage_markdown(result: dict[str, Any]) -> str:
    """Branch coverage by folder of demo/, the whole, and the gates with their floors."""
    parts = [measured_by(result["measured"])] if result.get("measured") else []
    lines = [
        "| Folder | files | statements | branches | covered (lines and branches) | branches covered |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in result["by_folder"].items():
        lines.append(
            f"| `{name}` | {f['files']} | {f['statements']:,} | {f['branches']:,} | "
            f"{_percent(f['percent'])} | {_percent(f['branch_percent'])} |"
        )
    w = result["whole"]
    lines.append(
        f"| **demo/ as a whole** | {w['files']} | {w['statements']:,} | {w['branches']:,} | "
        f"**{_percent(w['percent'])}** | {_percent(w['branch_percent'])} |"
    )
    parts.append("\n".join(lines))
    gates = [
        f"`{name}` {_percent(g['percent'])} against a floor of {g['floor']:g}%: "
        + ("passed" if g["passed"] else "**failed**")
        for name, g in result["gates"].items()
    ]
    parts.append("Gates: " + "; ".join(gates) + ".")
    return "\n\n".join(parts)


def mutation_markdown(result: dict[str, Any]) -> str:
    """The mutation score of demo/bank/, the mutants by module, and each survivor with why."""
    parts = [measured_by(result["measured"])] if result.get("measured") else []
    score = result["score"] or 0.0
    parts.append(
        f"**{score:.1%}** of {result['mutants']:,} mutants of `{result['source']}` killed "
        f"({result['killed']:,} by a failing test, {result['timeout']:,} by a test that timed out), "
        f"against a goal of {result['goal']:.0%}; {result['survived']:,} survived, "
        f"{result['no_tests']:,} in code no selected test runs."
    )
    survivors = result.get("survivors", [])
    if survivors:
        rows = ["| Surviving mutant | why no test kills it |", "|---|---|"]
        rows += [f"| `{s['mutant']}` | {s.get('reason') or '**not explained yet**'} |" for s in survivors]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def example_mutant_markdown(result: dict[str, Any]) -> str:
    """One surviving mutant as an example: its diff, and why it survives (the run's chosen example,
    else the first survivor explained)."""
    explained = [s for s in result.get("survivors", []) if s.get("reason") and s.get("diff")]
    if result.get("example"):
        explained.insert(0, result["example"])
    if not explained:
        return "Every mutant of this run was killed: no survivor to show."
    first = explained[0]
    diff = "\n".join(
        line for line in first["diff"].splitlines() if not line.startswith("# ")
    )  # mutmut's title
    return f"`{first['mutant']}`:\n\n```diff\n{diff.rstrip()}\n```\n\n{first['reason']}"
