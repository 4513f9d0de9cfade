"""The presenter's live demo, beat by beat (``bankdemo tour``): the runner.

Why a script: a live demo must not depend on memory, typing or the network. Each beat
(``demo.workshop.beats``) is a short, titled step that says what it does and what to look at, does
it with the operations the ``bankdemo`` commands use (``demo.operations``: sending, ``status``,
``chaos``, ``redrive``, ``reviews``, ``approve``, the balance and scorecard tables), then checks its
own outcome and says loudly when something did not happen as expected. The beats are seeded and
self-contained, so ``--from N`` can start anywhere and a rehearsal (``--auto``) replays the same
demo. Where they play: ``demo.workshop.stage``; the clean slate before: ``demo.workshop.reset``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from demo.operations.output import Failed, console, err


class Checks:
    """A beat's expectations: each one printed as it is checked; the failures kept for the summary."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, ok: bool, good: str, bad: str) -> bool:
        if ok:
            console.print(f"[green]✓[/] {good}")
        else:
            console.print(f"[bold red]✗ NOT AS EXPECTED: {bad}[/]")
            self.failures.append(bad)
        return ok


@dataclass(frozen=True)
class Beat:
    title: str
    does: str  # what the beat does, in one or two sentences
    look: str  # what the audience should look at
    run: Callable[[Any, Checks], None]
    prepare: Callable[[Any], None] | None = None  # called when the tour starts, for a slow start-up


@dataclass
class Outcome:
    number: int
    title: str
    failures: list[str]
    seconds: float


def _terminal(stdin: IO[str]) -> int | None:
    """The file descriptor of ``stdin`` if it is a terminal (where keys typed ahead can be discarded)."""
    try:
        return stdin.fileno() if stdin.isatty() else None
    except (AttributeError, OSError, ValueError):  # a StringIO, a closed stream
        return None


@contextlib.contextmanager
def keys_not_echoed(stdin: IO[str]) -> Iterator[None]:
    """During a beat, keys the presenter presses are not echoed (they would tear the live output)."""
    fd = _terminal(stdin)
    if fd is None:
        yield
        return
    import termios

    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def pause(next_title: str, stdin: IO[str]) -> bool:
    """Wait for Enter before the next beat; False if the presenter typed q. End of input means go on.

    On a terminal, an Enter pressed while the previous beat ran is discarded: each beat waits for its own.
    """
    fd = _terminal(stdin)
    if fd is not None:
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)
    console.print(f"\n[bold]⏎ next: {next_title}[/]  [dim](Enter · q Enter quits)[/] ", end="")
    try:
        line = stdin.readline()
    except (OSError, ValueError):  # stdin closed: nobody to wait for
        line = ""
    if not line:
        console.print()
    return line.strip().lower() not in ("q", "quit")


def run_beats(
    beats: list[Beat],
    stage: Any,
    *,
    start: int = 1,
    until: int | None = None,
    auto: bool = False,
    stdin: IO[str],
) -> list[Outcome]:
    """Run beats ``start`` to ``until`` (default: the last) against ``stage``, pausing before each
    unless ``auto``; the outcomes.

    A beat that raises (a timeout, a service that does not answer, a command that failed) fails,
    and the tour goes on: the presenter decides (q). Ctrl-C stops the tour after cleaning up.
    """
    outcomes = []
    total = len(beats)
    last = total if until is None else until
    for beat in beats[start - 1 : last]:
        if beat.prepare is not None:
            beat.prepare(stage)
    for number in range(start, last + 1):
        beat = beats[number - 1]
        if not auto and not pause(f"{number}. {beat.title}", stdin):
            console.print(f"Tour stopped before beat {number}.")
            break
        console.rule(f"[bold]{number}/{total} · {beat.title}")
        console.print(beat.does, style="dim", highlight=False)
        console.print(f"[bold cyan]Look at:[/] {beat.look}", highlight=False)
        checks = Checks()
        started = time.perf_counter()
        try:
            with keys_not_echoed(stdin):
                beat.run(stage, checks)
        except Failed as stopped:  # an operation failed: it printed why
            if stopped.code:
                checks(False, "", f"a command of the beat failed (exit {stopped.code}): see above")
        except Exception as error:
            checks(False, "", f"{type(error).__name__}: {error}")
        outcome = Outcome(number, beat.title, checks.failures, time.perf_counter() - started)
        if outcome.failures:
            err.print(
                f"[bold red]Beat {number} did NOT go as expected[/] ({len(outcome.failures)} problem(s))."
            )
        outcomes.append(outcome)
    else:
        if last < total:
            console.print(f"Tour stopped after beat {last} (--until {last}).")
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> bool:
    """Print the beats' results; True if every beat that ran went as expected."""
    from rich.table import Table

    table = Table(title="The tour")
    for column in ("#", "beat", "result", "s"):
        table.add_column(column, justify="right" if column in ("#", "s") else "left")
    for o in outcomes:
        result = "[green]as expected[/]" if not o.failures else f"[bold red]FAILED[/]: {o.failures[0]}"
        table.add_row(str(o.number), o.title, result, f"{o.seconds:.1f}")
    console.print(table)
    failed = [o for o in outcomes if o.failures]
    if failed:
        err.print(
            f"[bold red]{len(failed)} beat(s) did not go as expected[/]: {', '.join(str(o.number) for o in failed)}"
        )
    else:
        console.print(f"[bold green]{len(outcomes)} beat(s), all as expected[/], in {seconds:.1f} s.")
    return not failed
