"""Every link of the built site resolves, anchors included, checked by LinkChecker over HTTP.

No browser needed: these run wherever the site builds. Links that leave the site are listed by
LinkChecker but not followed (no network here, nor at a conference).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from site_build import serve, waits_on_shared_work

pytestmark = waits_on_shared_work  # see tests/site_build.py

LINKCHECKER = str(Path(sys.executable).with_name("linkchecker"))
CONFIG = """\
[checking]
threads=4
[filtering]
checkextern=0
[AnchorCheck]
[output]
status=0
"""


def broken_links(url: str, workdir: Path) -> tuple[int, list[str]]:
    """(links checked, the broken ones as "page: link: why") for the site at ``url``."""
    config = workdir / "linkcheckerrc"
    config.write_text(CONFIG)
    config.chmod(0o644)  # LinkChecker run as root drops to the user nobody
    workdir.chmod(0o755)
    result = subprocess.run(
        [LINKCHECKER, "--config", str(config), "--output", "csv", url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";"))
    assert rows, f"LinkChecker checked nothing:\n{result.stdout}\n{result.stderr}"
    broken = [
        f"{row['parentname']}: {row['urlname']}: {row['result']} {row['warningstring']}".strip()
        for row in rows
        if row["valid"] != "True" or "Anchor" in row["warningstring"]
    ]
    return len(rows), broken


def test_every_link_and_anchor_of_the_site_resolves(site_url: str, tmp_path: Path):
    checked, broken = broken_links(site_url, tmp_path)

    assert checked > 100, f"only {checked} links checked: did LinkChecker crawl the site?"
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_check_sees_a_missing_page_and_a_missing_anchor(tmp_path: Path):
    site = tmp_path / "site"
    (site / "b").mkdir(parents=True)
    (site / "index.html").write_text(
        '<a href="b/#here">ok</a> <a href="b/#gone">anchor</a> <a href="c/">page</a>'
    )
    (site / "b/index.html").write_text('<h2 id="here">Here</h2>')
    for path in [site, site / "b", site / "index.html", site / "b/index.html"]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    with serve(site) as url:
        _, broken = broken_links(url, tmp_path)

    assert len(broken) == 2, broken
    assert any("#gone" in b and "Anchor" in b for b in broken)
    assert any("c/" in b and "404" in b for b in broken)
