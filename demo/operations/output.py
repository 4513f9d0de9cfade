"""Where the operations print, and how they fail: a clear message, then an exit code.

``Failed`` is a ``SystemExit``: a ``bankdemo`` command that raises it exits with its code (Typer
and its test runner both honour it), and the tour catches it to count the beat as failed.
"""

from __future__ import annotations

from rich.console import Console

console = Console()
err = Console(stderr=True)


class Failed(SystemExit):
    """An operation that could not be done: ``fail`` printed why; ``code`` is the exit code."""

    def __init__(self, code: int = 1) -> None:
        super().__init__(code)  # SystemExit keeps it as ``code``


def fail(message: str, code: int = 1) -> Failed:
    """Print ``message`` as an error and return the ``Failed`` to raise."""
    err.print(f"[bold red]error:[/] {message}")
    return Failed(code)


def unreachable(aws_endpoint: str) -> Failed:
    return fail(f"no local cloud answers at {aws_endpoint}: start it with `bankdemo up`")
