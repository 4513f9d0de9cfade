"""What the reference pages' generators share: Markdown table cells, tables, JSON blocks; the
repository's root. Imported by docs/hooks/reference.py and reference_api.py by name (mkdocs loads
a hook by its path; reference.py puts this folder on the path first)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SECRET = "docs-example-secret"  # noqa: S105 - signs the example requests, nothing else
EXAMPLE_TIME = 1_764_412_800  # 2025-11-29T10:40:00Z: the examples' fixed clock, where the code takes one

# -- helpers -----------------------------------------------------------------------------------


def md_cell(text: object) -> str:
    """``text`` made safe for one Markdown table cell."""
    parts = " ".join(str(text).split()).split("`")
    # a pipe splits a row, except inside a code span (where a backslash would show)
    return "`".join(
        part if index % 2 else outside_code(part).replace("|", "\\|") for index, part in enumerate(parts)
    )


def outside_code(text: str) -> str:
    """``text`` with ``<`` and ``>`` escaped: ``dist/<stage>`` is not an HTML tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def md_json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
