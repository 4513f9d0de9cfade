"""Credentials and names for talking to the local cloud, without importing moto (CLI start-up stays fast)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

REGION = "eu-west-1"


def local_session(region: str = REGION) -> boto3.Session:
    """A boto3 session with the dummy credentials the local cloud accepts."""
    import boto3  # 0.8 s: only for the commands that talk to AWS

    return boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)  # noqa: S106


def ensure_free(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) if ``host:port`` cannot be bound, as a server would bind it."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def chalicelib() -> Any:
    """The Chalice project's ``chalicelib`` package (its AWS adapters), importable from the CLI."""
    import importlib
    import sys
    from pathlib import Path

    project = str(Path(__file__).resolve().parent.parent / "serverless")
    if project not in sys.path:
        sys.path.insert(0, project)
    return importlib.import_module("chalicelib")
