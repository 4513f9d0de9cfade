"""End to end: the `bankdemo` command as a user runs it, in its own process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

BANKDEMO = [str(Path(sys.executable).with_name("bankdemo"))]
ENV = {
    **os.environ,
    "COLUMNS": "120",
    "NO_COLOR": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "BANKDEMO_STATE": tempfile.mkdtemp(prefix="bankdemo-state-"),  # not the checkout's .bankdemo/
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bankdemo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*BANKDEMO, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    """Poll ``url`` until it answers; fail if ``process`` exits first or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited early: {process.stdout.read()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="module")
def running_cloud():
    aws_port, api_port = free_port(), free_port()
    nobody = f"http://127.0.0.1:{free_port()}/webhooks"  # no client listens: webhooks dead-letter
    process = subprocess.Popen(
        [*BANKDEMO, "up", "--aws-port", str(aws_port), "--api-port", str(api_port), "--client-url", nobody],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
    )
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(f"{api}/health", process)
        yield process, api, f"http://127.0.0.1:{aws_port}", aws_port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def poll_cli(*args: str, until: Callable[[subprocess.CompletedProcess], bool], timeout: float = 30):
    """Run ``bankdemo *args`` until ``until(result)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not until(result := bankdemo(*args)):
        assert time.monotonic() < deadline, result.stdout + result.stderr
        time.sleep(0.2)
    return result


@pytest.mark.slow
def test_a_large_payin_is_reviewed_then_rejected_and_the_card_refused_from_the_cli(running_cloud):
    _, api, aws, _ = running_cloud
    endpoints = ["--api", api, "--aws-endpoint", aws]

    sent = bankdemo("payin", "cli-big", "15,000.00", *endpoints)
    assert sent.returncode == 0, sent.stderr
    assert "payin.received 15,000.00 EUR for cli-big: accepted" in sent.stdout
    assert bankdemo("payin", "cli-big", "12.345", *endpoints).returncode == 2  # a third decimal

    listed = poll_cli(
        "reviews",
        "--status",
        "pending",
        "--api",
        api,
        until=lambda r: "cli-big" in r.stdout and "opening" not in r.stdout,
    )
    review = re.search(r"rv-[0-9a-f]{32}", listed.stdout).group()
    assert "payin 15,000.00" in listed.stdout

    no_reason = bankdemo("reject", review, "--api", api)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    rejected = bankdemo("reject", review, "--reason", "source of funds unclear", "--api", api)
    assert rejected.returncode == 0, rejected.stderr
    poll_cli("balance", "cli-big", "--api", api, until=lambda r: "frozen" in r.stdout)

    assert bankdemo("card", "cli-big", "25", *endpoints).returncode == 0
    poll_cli("audit", "cli-big", "--aws-endpoint", aws, until=lambda r: "refused" in r.stdout)

    shown = bankdemo("reviews", review, "--api", api, "--aws-endpoint", aws)
    assert shown.returncode == 0, shown.stderr
    assert "status: rejected" in shown.stdout and "FreezeWallet" in shown.stdout
    again = bankdemo("approve", review, "--api", api)
    assert again.returncode == 2 and "review_closed" in again.stderr
    assert bankdemo("reviews", "--status", "open", "--api", api).returncode == 2
    status = bankdemo("status", "--aws-endpoint", aws)
    assert "review executions (large-payment-review): 1 succeeded" in status.stdout


@pytest.mark.slow
def test_a_rotated_signing_secret_signs_at_once_and_the_old_one_keeps_its_window(running_cloud):
    _, api, aws, _ = running_cloud
    before = bankdemo("secret", "status", "--aws-endpoint", aws)
    assert before.returncode == 0 and "previous secret: none" in before.stdout

    rotated = bankdemo("secret", "rotate", "--window", "120", "--aws-endpoint", aws)
    assert rotated.returncode == 0, rotated.stderr
    assert "the previous one is accepted until" in rotated.stdout
    status = bankdemo("secret", "status", "--aws-endpoint", aws)
    assert "version 2" in status.stdout and "previous secret: still accepted" in status.stdout

    sent = bankdemo("send", "--count", "5", "--seed", "77", "--api", api, "--aws-endpoint", aws)
    assert sent.returncode == 0 and "5 accepted, 0 rejected" in sent.stdout, sent.stdout + sent.stderr
    assert bankdemo("secret", "rotate", "--window", "-1", "--aws-endpoint", aws).returncode == 2


@pytest.mark.slow
def test_up_send_balance_status_then_a_clean_stop(running_cloud):
    process, api, aws, aws_port = running_cloud
    endpoints = ["--api", api, "--aws-endpoint", aws]

    sent = bankdemo("send", "--count", "30", "--seed", "5", *endpoints)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "30 accepted, 0 rejected" in sent.stdout

    deadline = time.monotonic() + 30  # the worker drains asynchronously
    while True:
        status = bankdemo("status", "--aws-endpoint", aws)
        assert status.returncode == 0, status.stderr
        row = next(line for line in status.stdout.splitlines() if "bank-notifications " in line)
        if re.findall(r"\d+", row) == ["0", "0", "0"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert re.findall(r"\d+", row) == ["0", "0", "0"], status.stdout
    assert "bank-notifications-dlq" in status.stdout

    balance = bankdemo("balance", "w-1", "--api", api)
    assert balance.returncode == 0, balance.stderr
    assert "current balance" in balance.stdout

    assert "events published:" in status.stdout

    deadline = time.monotonic() + 30  # the audit writer works asynchronously too
    while (audit := bankdemo("audit", "w-1", "--aws-endpoint", aws)).returncode != 0:
        assert time.monotonic() < deadline, audit.stderr
        time.sleep(0.2)
    assert "BalanceUpdated" in audit.stdout
    assert bankdemo("audit", "w-nobody", "--aws-endpoint", aws).returncode == 2

    redrive = bankdemo("redrive", "bank-webhooks", "--aws-endpoint", aws)
    assert redrive.returncode == 0, redrive.stderr
    assert re.search(r"bank-webhooks: \d+ message\(s\) moved back", redrive.stdout)
    assert bankdemo("redrive", "bank-nowhere", "--aws-endpoint", aws).returncode == 2

    unknown = bankdemo("balance", "w-nobody", "--api", api)
    assert unknown.returncode == 2
    assert "no wallet" in unknown.stderr

    busy = bankdemo("up", "--aws-port", str(aws_port), "--api-port", "0")
    assert busy.returncode == 1
    assert f"127.0.0.1:{aws_port} is in use" in busy.stderr

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Local cloud up" in output and "Local cloud stopped." in output


def test_send_without_a_local_cloud_says_how_to_start_one():
    result = bankdemo("send", "--count", "1", "--aws-endpoint", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "bankdemo up" in result.stderr


def test_reading_the_api_on_aws_without_credentials_says_how_to_set_them_and_sends_nothing(tmp_path):
    """The balance and review routes on AWS take SigV4: `bankdemo` stops before any request."""
    env = {k: v for k, v in ENV.items() if not k.startswith("AWS_") or k == "AWS_EC2_METADATA_DISABLED"}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    on_aws = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/api/"
    for args in (["balance", "w-1"], ["approve", "r-1"]):
        result = subprocess.run(
            [*BANKDEMO, *args, "--api", on_aws], capture_output=True, text=True, timeout=60, env=env
        )
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "no AWS credentials were found" in result.stderr and "aws configure" in result.stderr, args


@pytest.mark.slow
def test_after_a_crash_and_a_restart_the_signing_secret_is_the_same_and_senders_go_on(tmp_path):
    """`kill -9` of `bankdemo up`, then `bankdemo up` again on the same ports: a sender that read the
    signing secret before is still accepted (the queued notifications are gone: moto keeps no state)."""
    from envelopes import payin

    from demo.parties.client import BankApi

    aws_port, api_port = free_port(), free_port()
    args = [
        *BANKDEMO,
        "up",
        "--aws-port",
        str(aws_port),
        "--api-port",
        str(api_port),
        "--state",
        str(tmp_path),
    ]
    secrets = []
    for _ in range(2):
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
        try:
            wait_for(f"http://127.0.0.1:{api_port}/health", process)
            secrets.append((tmp_path / "signing-secret").read_text().strip())
            with BankApi(f"http://127.0.0.1:{api_port}", secrets[0]) as sender:  # the secret read first
                assert sender.send(payin(f"crash-{len(secrets)}", 100)).status_code == 202
        finally:
            process.kill()  # SIGKILL: no clean stop
            process.wait(timeout=10)
    assert secrets[0] == secrets[1] and len(secrets[0]) == 64
