"""The safety net's figures: what benchmarks/branch_coverage.py, type_check.py and mutation.py write,
and how the page and the slide render them (demo/workshop/safety_net_report.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import branch_coverage  # noqa: E402 - benchmarks/branch_coverage.py, by path
import type_check  # noqa: E402 - benchmarks/type_check.py, by path

from demo.workshop import markers  # noqa: E402
from demo.workshop.safety_net_report import (  # noqa: E402
    coverage_markdown,
    example_mutant_markdown,
    mutation_markdown,
    types_markdown,
)


def file_summary(statements: int, covered: int, branches: int, covered_branches: int) -> dict[str, Any]:
    percent = 100 * (covered + covered_branches) / (statements + branches)
    return {
        "summary": {
            "num_statements": statements,
            "covered_lines": covered,
            "num_branches": branches,
            "covered_branches": covered_branches,
            "excluded_lines": 1,
            "percent_covered": percent,
        }
    }


def coverage_report(bank_missing_branches: int) -> dict[str, Any]:
    return {
        "files": {
            "demo/bank/ledger.py": file_summary(100, 100, 40, 40 - bank_missing_branches),
            "demo/serverless/chalicelib/audit.py": file_summary(50, 45, 10, 8),
            "demo/serverless/app.py": file_summary(60, 60, 4, 4),
            "demo/settings.py": file_summary(10, 10, 0, 0),
            "tests/unit/test_x.py": file_summary(10, 0, 0, 0),  # not demo/: not counted
        }
    }


def test_coverage_is_summed_by_folder_and_the_gates_hold_at_their_floors() -> None:
    result = branch_coverage.summary(coverage_report(bank_missing_branches=0))

    assert list(result["by_folder"]) == ["demo", "demo/bank", "demo/serverless", "demo/serverless/chalicelib"]
    assert result["by_folder"]["demo/bank"] == {
        "files": 1,
        "statements": 100,
        "branches": 40,
        "excluded_lines": 1,
        "percent": 100.0,
        "branch_percent": 100.0,
    }
    assert result["by_folder"]["demo/serverless/chalicelib"]["branch_percent"] == 80.0
    # (100 + 40 + 45 + 8 + 60 + 4 + 10) covered of (140 + 60 + 64 + 10) measured
    assert result["whole"]["percent"] == pytest.approx(97.4)
    assert result["whole"]["files"] == 4
    assert all(gate["passed"] for gate in result["gates"].values())
    assert result["least_covered_files"][0] == {
        "file": "demo/serverless/chalicelib/audit.py",
        "percent": 88.3,
    }


def test_one_branch_of_the_domain_not_taken_fails_its_gate_and_only_it() -> None:
    result = branch_coverage.summary(coverage_report(bank_missing_branches=1))

    assert result["gates"]["demo/bank"] == {"floor": 100.0, "percent": 99.3, "passed": False}
    assert result["gates"]["demo"]["passed"] is True


def test_every_type_ignore_is_found_with_its_codes_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "demo" / "mod.py"
    module.parent.mkdir()
    module.write_text(
        "import moto  # type: ignore[import-untyped]  # moto ships no types\n"
        "x: int = f()  # type: ignore\n"
        "y = 1  # a comment that says type: nothing\n"
    )
    monkeypatch.setattr(type_check, "ROOT", tmp_path)

    assert type_check.ignores([module]) == [
        {"where": "demo/mod.py:1", "codes": "import-untyped", "reason": "moto ships no types"},
        {"where": "demo/mod.py:2", "codes": "", "reason": ""},
    ]


def test_the_checked_modules_are_counted_by_folder_the_vendored_ones_left_out() -> None:
    files = type_check.checked_files()
    names = {str(p.relative_to(ROOT)) for p in files}

    assert "demo/bank/ledger.py" in names
    assert "demo/serverless/app.py" in names
    assert "notebooks/yourturn.py" in names
    assert not any("vendor" in name for name in names)
    assert type_check.folder(ROOT / "demo/serverless/chalicelib/audit.py") == "demo/serverless/chalicelib"
    assert type_check.folder(ROOT / "demo/settings.py") == "demo"
    assert type_check.folder(ROOT / "notebooks/yourturn.py") == "notebooks"


TYPES = {
    "checker": "mypy 2.4.1, strict (pyproject.toml [tool.mypy])",
    "modules": 101,
    "errors": 0,
    "errors_by_code": {},
    "modules_by_folder": {"demo/bank": 12, "demo/localcloud": 17, "notebooks": 1},
    "ignores_by_folder": {"demo/localcloud": 1},
    "ignores": [
        {"where": "demo/localcloud/x.py:3", "codes": "import-untyped", "reason": "moto ships no types"}
    ],
    "measured": {
        "command": "python benchmarks/type_check.py",
        "at": "2026-12-07T23:00:00+00:00",
        "wall_seconds": 21.0,
    },
}
MUTATION = {
    "source": "demo/bank/",
    "mutants": 1000,
    "killed": 940,
    "timeout": 10,
    "survived": 50,
    "no_tests": 0,
    "score": 0.95,
    "goal": 0.9,
    "survivors": [
        {"mutant": "demo.bank.pan.x__mutmut_1", "status": "survived", "diff": "", "reason": ""},
        {
            "mutant": "demo.bank.ledger.y__mutmut_2",
            "status": "survived",
            "diff": "-    a = 1\n+    a = 2",
            "reason": "never read",
        },
    ],
}


def test_the_types_table_says_errors_over_modules_and_lists_each_ignore_with_its_reason() -> None:
    text = types_markdown(TYPES)

    assert "**0 errors** over **101 modules**" in text
    assert "| `demo/bank` | 12 | 0 |" in text
    assert "| `demo/localcloud` | 17 | 1 |" in text
    assert '??? note "The 1 `# type: ignore` left, each with its reason"' in text
    assert "    | `demo/localcloud/x.py:3` | `import-untyped` | moto ships no types |" in text
    assert "Measured with `python benchmarks/type_check.py` on 2026-12-07 23:00:00 UTC in 21 s." in text


def test_the_coverage_table_gives_each_folder_the_whole_and_the_gates() -> None:
    result = branch_coverage.summary(coverage_report(bank_missing_branches=1))

    text = coverage_markdown(result)

    assert "| `demo/bank` | 1 | 100 | 40 | 99.3% | 97.5% |" in text
    assert "`demo/bank` 99.3% against a floor of 100%: **failed**" in text
    assert "`demo` 97.1% against a floor of 90%: passed" in text


def test_the_mutation_score_and_each_survivor_are_shown_the_unexplained_flagged() -> None:
    text = mutation_markdown(MUTATION)

    assert "**95.0%** of 1,000 mutants of `demo/bank/` killed" in text
    assert "against a goal of 90%; 50 survived" in text
    assert "| `demo.bank.pan.x__mutmut_1` | **not explained yet** |" in text
    assert "| `demo.bank.ledger.y__mutmut_2` | never read |" in text


def test_the_example_is_the_first_survivor_explained_with_its_diff() -> None:
    text = example_mutant_markdown(MUTATION)

    assert text.startswith("`demo.bank.ledger.y__mutmut_2`:")
    assert "```diff\n-    a = 1\n+    a = 2\n```" in text
    assert text.endswith("never read")
    assert "Every mutant" in example_mutant_markdown(MUTATION | {"survivors": []})


@pytest.mark.parametrize(
    ("kind", "result", "expected"),
    [
        ("types", TYPES, "**0 errors**"),
        ("mutation", MUTATION, "**95.0%**"),
        ("mutation-example", MUTATION, "```diff"),
    ],
)
def test_the_markers_of_the_page_and_the_slide_render_the_safety_net(
    kind: str, result: dict[str, Any], expected: str
) -> None:
    line = f"<!-- {kind}: benchmarks/results/x.json -->"

    assert markers.MARKER.fullmatch(line) is not None
    assert expected in markers.marker_markdown(kind, result)


def test_the_chosen_example_comes_first_even_when_another_survivor_is_explained() -> None:
    chosen = {
        "mutant": "demo.bank.pan.z__mutmut_9",
        "diff": "-    t += d\n+    t -= d",
        "reason": "same modulo",
    }

    text = example_mutant_markdown(MUTATION | {"example": chosen})

    assert text.startswith("`demo.bank.pan.z__mutmut_9`:")
    assert text.endswith("same modulo")


def test_a_string_that_mentions_a_type_ignore_is_not_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "demo" / "doc.py"
    module.parent.mkdir()
    module.write_text('TITLE = "each `# type: ignore` left"\nx = 1  # type: ignore[misc]  # why\n')
    monkeypatch.setattr(type_check, "ROOT", tmp_path)

    assert type_check.ignores([module]) == [{"where": "demo/doc.py:2", "codes": "misc", "reason": "why"}]


def test_make_coverage_writes_the_figures_of_make_tests_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = coverage_report(bank_missing_branches=0) | {
        "meta": {"version": "7.18.0", "timestamp": "2026-12-08T01:00:00.123456"}
    }
    (tmp_path / "coverage.json").write_text(json.dumps(report))
    out = tmp_path / "figures.json"
    monkeypatch.setattr(sys, "argv", ["x", "--report", str(tmp_path / "coverage.json"), "--json", str(out)])

    branch_coverage.main()

    written = json.loads(out.read_text())
    assert written["whole"]["percent"] == pytest.approx(97.4)
    assert written["measured"]["at"] == "2026-12-08T01:00:00"
    assert all(gate["passed"] for gate in written["gates"].values())


def test_without_make_tests_report_make_coverage_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["x", "--report", str(tmp_path / "none.json")])

    with pytest.raises(SystemExit, match="run make test first"):
        branch_coverage.main()
