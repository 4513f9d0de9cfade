"""One system of the bank (the monolith, or serverless on the local cloud) in a process of its own.

The performance benchmark runs each system in its own process, as a bank runs apart from the card
processor that sends it notifications and from the fintech that receives its webhooks: the
benchmark's senders and its fintech client then share no interpreter (and no GIL) with the system
measured, and the CPU a system spends is read off its own process.

    python benchmarks/system_process.py monolith|serverless --client-url URL

It prints one JSON line, ``{"api_url", "signing_secret", "pid"}``, then answers one JSON command
per line on stdin with one JSON line on stdout:

- ``{"cmd": "drain", "timeout": s}``: wait until nothing is left to do; ``{"seconds": ...}``;
- ``{"cmd": "applied", "ids": [...]}``: the notification ids the ledger applied;
- ``{"cmd": "balances", "wallets": [...]}``: (current, authorizations) per wallet;
- ``{"cmd": "stats"}``: ``{"cpu_seconds", "aws_calls"}``: the process's CPU time (every thread),
  and for serverless the AWS requests the local cloud answered, by operation;
- ``{"cmd": "pids"}``: ``{"pids": [this process, its emulator...]}`` (what a profiler attaches to);
- ``{"cmd": "stop"}`` (or the end of stdin): stop and exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def cpu_seconds(*children: int) -> float:
    """This process's CPU time, every thread, and that of its running ``children`` (their pids)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


class Serverless:
    def __init__(self, client_url: str) -> None:
        from demo.localcloud import LocalCloud

        self.cloud = LocalCloud(aws_port=0, api_port=0, client_url=client_url).start()
        self.api_url, self.signing_secret = self.cloud.api_url, self.cloud.signing_secret

    def drain(self, timeout: float) -> None:
        self.cloud.wait_until_drained(timeout=timeout)

    def _ledger(self) -> Any:
        from chalicelib.ledger_table import DynamoDBLedger

        return DynamoDBLedger(self.cloud.client("dynamodb"), f"bank-ledger-{self.cloud.stage}")

    def applied(self, ids: list[str]) -> list[str]:
        ledger = self._ledger()
        return [nid for nid in ids if ledger.seen_digest(nid) is not None]

    def balances(self, wallets: list[str]) -> dict[str, Any]:
        ledger = self._ledger()
        found = {w: ledger.balance(w) for w in wallets}
        return {w: None if b is None else [b.current_balance, b.authorizations] for w, b in found.items()}

    def aws_calls(self) -> dict[str, int]:
        return self.cloud.aws_calls()

    def processes(self) -> list[int]:
        """The local cloud's other process: its emulator."""
        return [self.cloud._running_emulator().pid]

    def stop(self) -> None:
        self.cloud.stop()


class Monolith:
    def __init__(self, client_url: str) -> None:
        from demo.monolith import Monolith as Running

        self.monolith = Running(port=0, client_url=client_url, client_timeout=2.0).start()
        self.monolith.broker.purge()
        self.api_url, self.signing_secret = self.monolith.url, self.monolith.signing_secret

    def drain(self, timeout: float) -> None:
        """Nothing in the broker and no message in the worker's hands, twice 5 ms apart.

        A poll, not an event (the broker tells nobody); 5 ms apart so that the monolith's drain
        time is not rounded up by the reading (the demo's own check reads every 0.25 s).
        """
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            quiet = quiet + 1 if self.monolith.broker.depth() == 0 and not self.monolith.worker.busy else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"the monolith did not drain in {timeout} s")
            time.sleep(0.005)

    def applied(self, ids: list[str]) -> list[str]:
        return [nid for nid in ids if self.monolith.ledger.seen_digest(nid) is not None]

    def balances(self, wallets: list[str]) -> dict[str, Any]:
        found = {w: self.monolith.ledger.balance(w) for w in wallets}
        return {w: None if b is None else [b.current_balance, b.authorizations] for w, b in found.items()}

    def aws_calls(self) -> dict[str, int]:
        return {}

    def processes(self) -> list[int]:
        return []

    def stop(self) -> None:
        self.monolith.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("system", choices=("monolith", "serverless"))
    parser.add_argument("--client-url", required=True)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # faults and retries are part of the runs, not news
    out, sys.stdout = sys.stdout, sys.stderr  # stdout carries the answers, and nothing else
    system = (Serverless if args.system == "serverless" else Monolith)(args.client_url)

    def say(answer: dict[str, Any]) -> None:
        out.write(json.dumps(answer) + "\n")
        out.flush()

    say({"api_url": system.api_url, "signing_secret": system.signing_secret, "pid": os.getpid()})
    try:
        for line in sys.stdin:
            command = json.loads(line)
            name = command["cmd"]
            if name == "stop":
                break
            try:
                if name == "drain":
                    started = time.monotonic()
                    system.drain(float(command.get("timeout", 600)))
                    say({"seconds": time.monotonic() - started})
                elif name == "applied":
                    say({"applied": system.applied(command["ids"])})
                elif name == "balances":
                    say({"balances": system.balances(command["wallets"])})
                elif name == "pids":  # this process, then its others (the local cloud's emulator)
                    say({"pids": [os.getpid(), *system.processes()]})
                elif name == "stats":
                    say({"cpu_seconds": cpu_seconds(*system.processes()), "aws_calls": system.aws_calls()})
                else:
                    say({"error": f"unknown command {name!r}"})
            except Exception as error:  # answered, so that the benchmark can say what went wrong
                say({"error": f"{type(error).__name__}: {error}"})
    finally:
        system.stop()


if __name__ == "__main__":
    main()
