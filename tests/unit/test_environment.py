"""The environment `make` installs: its packages' bytecode compiled at install time.

Without it, a machine that sets PYTHONDONTWRITEBYTECODE (as CI images do) compiles moto's and
botocore's sources again in every process: each local cloud started seconds later.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "module",
    ["moto.cloudformation.parsing", "moto.ec2.models.amis", "botocore.client", "chalice.app", "httpx"],
)
def test_the_packages_the_local_cloud_imports_have_their_bytecode(module):
    source = importlib.util.find_spec(module).origin
    compiled = Path(importlib.util.cache_from_source(source))
    assert compiled.exists(), f"{compiled} is missing: install with `make env-dev` (UV_COMPILE_BYTECODE=1)"
