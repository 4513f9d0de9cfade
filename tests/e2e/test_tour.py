"""End to end: `bankdemo tour` and `bankdemo reset` as a presenter runs them, next to `bankdemo up`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
import pytest
from polling import poll_until

BANKDEMO = [str(Path(sys.executable).with_name("bankdemo"))]
ENV = {
    **os.environ,
    "COLUMNS": "120",
    "NO_COLOR": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "BANKDEMO_STATE": tempfile.mkdtemp(prefix="bankdemo-state-"),  # not the checkout's .bankdemo/
}
for name in ("AWS_ENDPOINT_URL", "BANK_API_URL", "CLIENT_CONTROL_URL", "MONOLITH_URL"):
    ENV.pop(name, None)  # every test names its endpoints


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bankdemo(*args: str, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*BANKDEMO, *args], capture_output=True, text=True, timeout=timeout, env=ENV, input=stdin
    )


def answers(url: str, process: subprocess.Popen) -> bool:
    assert process.poll() is None, f"{process.args} exited early: {process.stdout.read()}"
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def system():
    """`bankdemo up` and `bankdemo client up` in their own processes, as in the presenter's terminals."""
    aws, api, webhooks, control = (free_port() for _ in range(4))
    started = [
        subprocess.Popen(
            [*BANKDEMO, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
        )
        for args in (
            ["client", "up", "--port", str(webhooks), "--control-port", str(control)],
            [
                "up",
                *("--aws-port", str(aws), "--api-port", str(api)),
                *("--client-url", f"http://127.0.0.1:{webhooks}/webhooks"),
            ],
        )
    ]
    endpoints = {
        "api": f"http://127.0.0.1:{api}",
        "aws": f"http://127.0.0.1:{aws}",
        "control": f"http://127.0.0.1:{control}",
    }
    try:
        poll_until(lambda: answers(f"{endpoints['control']}/log", started[0]), timeout=60, interval=0.1)
        poll_until(lambda: answers(f"{endpoints['api']}/health", started[1]), timeout=120, interval=0.1)
        yield endpoints
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def options(system: dict[str, str]) -> list[str]:
    return ["--api", system["api"], "--aws-endpoint", system["aws"], "--client-control", system["control"]]


def test_list_prints_the_beats_in_order():
    listed = bankdemo("tour", "--list")
    assert listed.returncode == 0, listed.stderr
    numbers = re.findall(r"^\s*(\d+)\. ", listed.stdout, re.M)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)] and 8 <= len(numbers) <= 10
    assert "The monolith" in listed.stdout and "storm" in listed.stdout


def test_bad_tour_options_are_refused_before_anything_runs():
    beyond = bankdemo("tour", "--from", "42", "--list")
    assert beyond.returncode == 2 and "there are" in beyond.stderr
    assert bankdemo("tour", "--from", "0").returncode == 2
    too_far = bankdemo("tour", "--until", "42", "--list")
    assert too_far.returncode == 2 and "--until 42: there are" in too_far.stderr
    backwards = bankdemo("tour", "--from", "5", "--until", "4")
    assert backwards.returncode == 2 and "comes before --from 5" in backwards.stderr
    not_a_url = bankdemo("tour", "--auto", "--aws-endpoint", "localhost-4566")
    assert not_a_url.returncode == 2 and "not an http(s) URL" in not_a_url.stderr


def test_reset_with_nothing_running_says_how_to_start_it():
    result = bankdemo("reset", "--aws-endpoint", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "no local cloud answers" in result.stderr and "bankdemo up" in result.stderr


def counted(status: str, what: str) -> int:
    return int(re.search(rf"{what}: (\d+)", status).group(1))


@pytest.mark.slow
def test_reset_puts_a_running_system_back_to_a_clean_state(system):
    aws = ["--aws-endpoint", system["aws"]]
    sent = bankdemo("send", "--count", "6", "--seed", "21", "--api", system["api"], *aws)
    assert sent.returncode == 0, sent.stdout + sent.stderr

    def delivered():
        status = bankdemo("status", *aws).stdout
        return "webhooks delivered" in status and counted(status, "webhooks delivered") > 0 and status

    poll_until(delivered, timeout=60, interval=0.2)
    assert bankdemo("chaos", "ssm", "slow", "10", *aws).returncode == 0
    assert bankdemo("chaos", "client", "down", "--client-control", system["control"]).returncode == 0

    wrong_stage = bankdemo("reset", *aws, "--stage", "nope", "--client-control", system["control"])
    assert wrong_stage.returncode == 2 and "bank-ledger-nope" in wrong_stage.stderr
    not_a_url = bankdemo("reset", *aws, "--client-control", "8011")
    assert not_a_url.returncode == 2 and "not an http(s) URL" in not_a_url.stderr
    unchanged = bankdemo("status", *aws).stdout
    assert counted(unchanged, "events published") > 0 and "ssm slow 10 ms" in unchanged  # nothing changed

    reset = bankdemo("reset", *aws, "--client-control", system["control"])
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "mended: ssm slow" in reset.stdout and "down -> up" in reset.stdout
    assert re.search(r"bank-ledger-local\s*│\s*[1-9]\d* item\(s\) deleted", reset.stdout), reset.stdout
    # It says how long it took (a figure, not a pass mark: this machine is shared).
    assert re.search(r"Clean in \d+\.\d s", reset.stdout), reset.stdout

    status = bankdemo("status", *aws)
    assert status.returncode == 0, status.stderr
    rows = [line for line in status.stdout.splitlines() if re.search(r"│ bank-\S+ ", line)]
    assert len(rows) == 8 and all(re.findall(r"\d+", row) == ["0", "0", "0"] for row in rows), status.stdout
    assert "backlog: 0 notification(s)" in status.stdout
    assert counted(status.stdout, "events published") == 0
    assert counted(status.stdout, "webhooks delivered") == 0
    assert "review executions (large-payment-review): none" in status.stdout
    assert "faults injected" not in status.stdout
    log = bankdemo("client", "log", "--control-url", system["control"])
    assert "mode up" in log.stdout and "0 received" in log.stdout, log.stdout
    assert bankdemo("balance", "w-1", "--api", system["api"]).returncode == 2  # no such wallet any more


class Output:
    """What a running process prints, read as it comes (a prompt has no newline)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(process.stdout.fileno(),), daemon=True)
        self._thread.start()

    def _read(self, fd: int) -> None:
        while chunk := os.read(fd, 4096):
            self.text += chunk.decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 90) -> None:
        poll_until(lambda: text in self.text, timeout=timeout, interval=0.05)


@pytest.mark.slow
def test_the_tour_waits_for_enter_flags_a_beat_gone_wrong_and_q_quits(system):
    process = subprocess.Popen(
        [*BANKDEMO, "tour", "--from", "8", *options(system)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=ENV,
    )
    output = Output(process)
    try:
        output.wait_for("⏎ next: 8. Card data sealed with KMS")
        # a fault beat 8 does not expect, injected while the tour waits for Enter
        down = bankdemo("chaos", "dynamodb", "down", "--aws-endpoint", system["aws"])
        assert down.returncode == 0, down.stderr
        assert "8/9 · " not in output.text  # it waited
        process.stdin.write(b"\n")
        process.stdin.flush()
        output.wait_for("⏎ next: 9.")
        assert "NOT AS EXPECTED" in output.text and "Beat 8 did NOT go as expected" in output.text
        process.stdin.write(b"q\n")
        process.stdin.flush()
        assert process.wait(timeout=120) == 1, output.text
    finally:
        if process.poll() is None:
            process.kill()
        bankdemo("chaos", "reset", "--aws-endpoint", system["aws"])
    output.wait_for("beat(s) did not go as expected")
    assert "Tour stopped before beat 9." in output.text
    assert "9/9 · " not in output.text


@pytest.mark.slow
def test_with_nothing_running_the_tour_starts_its_own_system_and_from_starts_later():
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = bankdemo("tour", "--from", "8", "--aws-endpoint", nowhere, stdin="\nq\n", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"No local cloud answers at {nowhere}: the tour starts its own" in result.stdout
    assert "Local cloud up" in result.stdout
    assert "8/9 · Card data sealed with KMS" in result.stdout and "7/9" not in result.stdout
    assert "the card number and holder appear nowhere" in result.stdout
    assert "Tour stopped before beat 9." in result.stdout
    assert "1 beat(s), all as expected" in result.stdout
