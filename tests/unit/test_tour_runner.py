"""The tour's beat runner, with fake beats: pauses, quitting, and a beat that does not go as expected."""

from __future__ import annotations

import io

from demo.operations.output import Failed
from demo.workshop.beats import BEATS
from demo.workshop.tour import Beat, Checks, run_beats, summary


def fake(ran: list[str], name: str, ok: bool = True, raises: BaseException | None = None) -> Beat:
    def run(stage: object, check: Checks) -> None:
        ran.append(name)
        if raises is not None:
            raise raises
        check(ok, f"{name} went well", f"{name} went wrong")

    return Beat(name, f"{name} does", f"{name} look", run)


def test_each_beat_waits_for_enter_and_end_of_input_goes_on(capsys):
    ran: list[str] = []
    beats = [fake(ran, "one"), fake(ran, "two"), fake(ran, "three")]
    stdin = io.StringIO("\n")  # Enter once, then end of input
    outcomes = run_beats(beats, None, stdin=stdin)
    assert ran == ["one", "two", "three"]
    assert [o.failures for o in outcomes] == [[], [], []]
    out = capsys.readouterr().out
    assert out.count("⏎ next:") == 3
    assert "⏎ next: 2. two" in out
    assert out.index("⏎ next: 2. two") < out.index("2/3 · two")


def test_the_runner_reads_one_line_per_beat_before_running_it():
    ran: list[str] = []
    seen_by: dict[str, int] = {}

    class Stdin(io.StringIO):
        def readline(self, *args):  # the number of beats run when each prompt is answered
            seen_by[f"prompt {len(seen_by) + 1}"] = len(ran)
            return super().readline(*args)

    run_beats([fake(ran, "one"), fake(ran, "two")], None, stdin=Stdin("\n\n"))
    assert seen_by == {"prompt 1": 0, "prompt 2": 1}


def test_q_then_enter_quits_before_the_next_beat(capsys):
    ran: list[str] = []
    beats = [fake(ran, "one"), fake(ran, "two"), fake(ran, "three")]
    outcomes = run_beats(beats, None, stdin=io.StringIO("\nq\n"))
    assert ran == ["one"]
    assert len(outcomes) == 1
    assert "Tour stopped before beat 2." in capsys.readouterr().out


def test_auto_does_not_read_stdin_and_from_starts_later():
    ran: list[str] = []
    beats = [fake(ran, "one"), fake(ran, "two"), fake(ran, "three")]
    outcomes = run_beats(beats, None, start=2, auto=True, stdin=io.StringIO("q\n"))
    assert ran == ["two", "three"]
    assert [o.number for o in outcomes] == [2, 3]


def test_until_stops_after_its_beat_and_prepares_only_the_beats_that_run(capsys):
    ran: list[str] = []
    prepared: list[str] = []
    beats = [fake(ran, name) for name in ("one", "two", "three", "four")]
    beats = [Beat(b.title, b.does, b.look, b.run, lambda _, n=b.title: prepared.append(n)) for b in beats]
    outcomes = run_beats(beats, None, start=2, until=3, auto=True, stdin=io.StringIO())
    assert ran == ["two", "three"] and prepared == ["two", "three"]
    assert [o.number for o in outcomes] == [2, 3]
    assert "Tour stopped after beat 3 (--until 3)." in capsys.readouterr().out
    run_beats(beats, None, start=4, until=4, auto=True, stdin=io.StringIO())
    assert ran[-1] == "four" and "Tour stopped after" not in capsys.readouterr().out  # the last beat


def test_a_beat_not_as_expected_is_reported_and_the_tour_goes_on(capsys):
    ran: list[str] = []
    beats = [
        fake(ran, "one", ok=False),
        fake(ran, "two", raises=TimeoutError("the queues did not drain")),
        fake(ran, "three", raises=Failed(2)),  # an operation failed
        fake(ran, "four"),
    ]
    outcomes = run_beats(beats, None, auto=True, stdin=io.StringIO())
    assert ran == ["one", "two", "three", "four"]
    assert outcomes[0].failures == ["one went wrong"]
    assert outcomes[1].failures == ["TimeoutError: the queues did not drain"]
    assert "exit 2" in outcomes[2].failures[0]
    assert outcomes[3].failures == []
    captured = capsys.readouterr()
    assert "✗ NOT AS EXPECTED: one went wrong" in captured.out
    assert "Beat 1 did NOT go as expected" in captured.err
    assert summary(outcomes, 1.0) is False
    assert "3 beat(s) did not go as expected" in capsys.readouterr().err


def test_all_as_expected_summary():
    ran: list[str] = []
    outcomes = run_beats([fake(ran, "one")], None, auto=True, stdin=io.StringIO())
    assert summary(outcomes, 1.0) is True


def test_the_tour_has_a_handful_of_titled_beats():
    assert 8 <= len(BEATS) <= 10
    assert all(b.title and b.does and b.look for b in BEATS)
    assert len({b.title for b in BEATS}) == len(BEATS)
