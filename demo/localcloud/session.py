"""Credentials and names for talking to the local cloud, without importing moto (CLI start-up stays fast)."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from demo import settings
from demo.settings import SERVERLESS_PROJECT

if TYPE_CHECKING:
    import boto3

REGION = settings.REGION


def local_session(region: str = REGION) -> boto3.Session:
    """A boto3 session with the dummy credentials the local cloud accepts."""
    import boto3  # 0.8 s: only for the commands that talk to AWS

    return boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)  # noqa: S106


def on_project_path() -> None:
    """Make the Chalice project importable as ``chalice local`` does (``app``, ``chalicelib``)."""
    project = str(SERVERLESS_PROJECT)
    if project not in sys.path:
        sys.path.insert(0, project)


def chalicelib_module(name: str) -> Any:
    """A module of the Lambda side's adapters (``chalicelib.<name>``), for the CLI and the local cloud."""
    on_project_path()
    return importlib.import_module(f"chalicelib.{name}")
