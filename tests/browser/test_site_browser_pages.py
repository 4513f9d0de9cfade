"""The other half of the site's pages, in Chromium (see test_site_browser.py, which has the first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from site_build import NAV_PAGES, waits_on_shared_work
from test_site_browser import check_page

pytestmark = waits_on_shared_work  # see tests/site_build.py


@pytest.mark.parametrize("source", NAV_PAGES[1::2])
def test_every_page_loads_clean_and_renders_its_diagrams(page, site_url: str, built_site: Path, source: str):
    check_page(page, site_url, built_site, source)
