"""End to end: step 0 from the command line: the client, the monolith, a stream, faults on cue."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest
from test_cli import BANKDEMO, ENV, bankdemo, free_port, wait_for


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*BANKDEMO, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


@pytest.fixture(scope="module")
def step0():
    hook, control, port = free_port(), free_port(), free_port()
    env = {**ENV, "BANK_SIGNING_SECRET": "e2e-secret", "MONOLITH_URL": f"http://127.0.0.1:{port}"}
    env["CLIENT_CONTROL_URL"] = f"http://127.0.0.1:{control}"
    client = start("client", "up", "--port", str(hook), "--control-port", str(control), env=env)
    monolith = start(
        "monolith", "up", "--port", str(port), "--client-url", f"http://127.0.0.1:{hook}/webhooks", env=env
    )
    try:
        wait_for(f"http://127.0.0.1:{control}/log", client)
        wait_for(f"http://127.0.0.1:{port}/health", monolith)
        yield env, client, monolith
    finally:
        for process in (client, monolith):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def run(env, *args):
    return subprocess.run([*BANKDEMO, *args], capture_output=True, text=True, timeout=60, env=env)


def test_a_stream_through_the_monolith_reaches_the_client(step0):
    env, _client, _monolith = step0
    sent = run(env, "send", "--api", env["MONOLITH_URL"], "--count", "30", "--seed", "4")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    deadline = time.monotonic() + 30
    while (
        "backlog per wallet                  │ none" not in (status := run(env, "monolith", "status")).stdout
    ):
        assert time.monotonic() < deadline, status.stdout
        time.sleep(0.1)
    assert "applied / duplicates" in status.stdout
    log = run(env, "client", "log")
    assert log.returncode == 0, log.stderr
    received = int(re.search(r"(\d+) received", log.stdout).group(1))
    assert received > 0
    assert "balance.update" in log.stdout


def test_faults_and_modes_on_cue_then_a_clean_stop(step0):
    env, client, monolith = step0
    assert "now slow (0.5 s per webhook)" in run(env, "client", "mode", "slow", "--delay", "0.5").stdout
    assert "now up" in run(env, "client", "mode", "up").stdout
    assert run(env, "client", "mode", "sideways").returncode == 2

    assert "database-down done" in run(env, "monolith", "fault", "database-down").stdout
    refused = run(env, "send", "--api", env["MONOLITH_URL"], "--count", "3")
    assert refused.returncode == 1
    assert "503" in refused.stderr and "database_unavailable" in refused.stderr
    assert "database-up done" in run(env, "monolith", "fault", "database-up").stdout

    restart = run(env, "monolith", "fault", "broker-restart")
    assert re.search(r"broker-restart done: \d+ queued message\(s\) lost", restart.stdout), restart.stdout
    assert run(env, "monolith", "fault", "meteor-strike").returncode == 2

    for process, banner in ((monolith, "Monolith stopped."), (client, "Fintech client stopped.")):
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert banner in output


def test_the_monolith_refuses_a_busy_port():
    port = free_port()
    holder = start("client", "up", "--port", str(port), "--control-port", "0", env=ENV)
    try:
        wait_for(f"http://127.0.0.1:{port}/webhooks", holder)
        busy = bankdemo("monolith", "up", "--port", str(port))
        assert busy.returncode == 1
        assert f"127.0.0.1:{port} is in use" in busy.stderr
    finally:
        holder.kill()
        holder.wait(timeout=10)
