"""The local cloud's emulator process: moto's services, their HTTP endpoint, and the functions' local wire.

The local cloud runs in two processes, so that both cores of a laptop work: this one holds the
emulated AWS services (moto, with the local cloud's fixes and faults), and the one that starts
it (:class:`demo.localcloud.cloud.LocalCloud`) runs the bank's functions on them, as Lambda runs
functions apart from the services they call. Two ways in:

- HTTP on ``--host:--port`` (LocalStack's 4566 by default; 0 picks a free port): the AWS
  endpoint of the CLI, the AWS CLI, and Step Functions' service tasks;
- a Unix socket (``--socket``), the functions' way in: their boto3 requests, already built by
  botocore (:mod:`demo.localcloud.dispatch`), the event source mappings' SQS reads, and the
  control calls (faults, counts, what a queue holds).

It writes one JSON line on stdout when it is ready (``{"port": ...}``) or cannot start
(``{"error": ...}``), then one line per message that may be receivable (``<queue>\t<seconds>``),
which wakes the functions' idle pollers, and ``*\t0`` when a fault changes (every poller may poll). It stops when its stdin closes (the functions' process
stopped or died).

    python -m demo.localcloud.emulator --host 127.0.0.1 --port 4566 --region eu-west-1 --socket PATH
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import socketserver
import sys
import threading
import warnings
from typing import Any

from demo.localcloud.wire import GIL_SWITCH_SECONDS, recv_frame, send_frame


class _Handler(socketserver.BaseRequestHandler):
    emulator: Emulator

    def handle(self) -> None:
        while True:
            try:
                operation, *args = recv_frame(self.request)
            except (EOFError, OSError):
                return
            answer: tuple[str, Any] | tuple[str, str, str]  # ("ok", answer) or ("error", name, message)
            try:
                answer = ("ok", self.emulator.answer(operation, args))
            except Exception as error:  # reported to the caller, which raises it as its own
                answer = ("error", type(error).__name__, str(error))
            try:
                send_frame(self.request, answer)
            except OSError:
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class Emulator:
    def __init__(self, host: str, port: int, region: str, socket_path: str) -> None:
        from demo.localcloud import moto_patches
        from demo.localcloud.dispatch import MotoDispatcher
        from demo.localcloud.moto_server import MotoServer, preload_cloudformation

        # moto deploys every resource but the SQS queue policy (it enforces no policy anyway) and
        # says so on every start: quiet that one known line.
        logging.getLogger("moto").addFilter(lambda record: "AWS::SQS::QueuePolicy" not in record.getMessage())
        warnings.filterwarnings("ignore", message="Tried to parse AWS::SQS::QueuePolicy")
        preload_cloudformation()
        self.moto = MotoServer(host, port)
        self.dispatcher = MotoDispatcher(self.moto.lock, self.moto.faults, self.moto.calls, region)
        self.events: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        moto_patches.listen(lambda name, after: self.events.put(f"{name}\t{after}"))
        self.moto.faults.changed.append(lambda: self.events.put("*\t0"))  # a service back: poll again
        handler = type("Handler", (_Handler,), {"emulator": self})
        self.rpc = _Server(socket_path, handler)

    def answer(self, operation: str, args: list[Any]) -> Any:
        d, faults = self.dispatcher, self.moto.faults
        if operation == "send":
            return d.send(*args)
        if operation == "receive":
            return d.receive(*args)
        if operation == "delete":
            return d.delete(*args)
        if operation == "held":
            return d.held(*args)
        if operation == "calls":
            return self.moto.calls.snapshot()
        if operation == "faults.set":
            fault = faults.set(*args)
            return (fault.mode, fault.value)
        if operation == "faults.get":
            fault = faults.get(*args)
            return (fault.mode, fault.value)
        if operation == "faults.state":
            return faults.state()
        if operation == "faults.reset":
            return faults.reset()
        if operation == "state-machines":
            from demo.localcloud.moto_server import hand_state_machines_to_executor

            with self.moto.lock:
                return hand_state_machines_to_executor()
        raise ValueError(f"unknown operation {operation!r}")

    def serve(self) -> None:
        self.moto.start()
        threading.Thread(target=self.rpc.serve_forever, name="rpc", daemon=True).start()
        writer = threading.Thread(target=self._write_events, name="events", daemon=True)
        writer.start()
        self.events.put(json.dumps({"port": self.moto.port}))
        sys.stdin.read()  # until the functions' process closes it (or dies)
        self.events.put(None)
        writer.join(timeout=5)
        # No graceful shutdown of the two servers: each would first wait for its loop's next poll
        # (half a second each), and nothing they hold outlives the process. Its sockets close as
        # it exits; main() removes the socket file.

    def _write_events(self) -> None:
        out = sys.__stdout__
        assert out is not None
        while (line := self.events.get()) is not None:
            lines: list[str | None] = [line]
            while True:  # what came meanwhile (a PutEvents adds a message per event and target)
                try:
                    lines.append(self.events.get_nowait())
                except queue.Empty:
                    break
            stop = None in lines
            try:
                out.write("".join(f"{one}\n" for one in coalesce([one for one in lines if one is not None])))
                out.flush()
            except (BrokenPipeError, ValueError):
                return
            if stop:
                return


def coalesce(lines: list[str]) -> list[str]:
    """The wake-ups of a burst, one per batch a poller can take: ``k`` messages added to a queue
    now wake ``ceil(k / 10)`` of its pollers (a receive takes up to 10), not ``k`` (the others
    would find the queue empty). Any other line passes once."""
    times: dict[str, int] = {}
    for line in lines:
        times[line] = times.get(line, 0) + 1
    found = []
    for line, count in times.items():
        name, _, after = line.partition("\t")
        now = name != "*" and after != "" and float(after) == 0
        found.extend([line] * (-(-count // 10) if now else 1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--socket", required=True, help="the Unix socket the functions' process connects to")
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_SECONDS)  # its request threads: see the constant
    sys.stdout = sys.stderr  # stdout carries the ready line and the wake-ups, nothing else
    try:
        emulator = Emulator(args.host, args.port, args.region, args.socket)
    except OSError as error:
        message = f"{args.host}:{args.port} is in use ({error.strerror})"
        print(json.dumps({"error": "port-in-use", "message": message}), file=sys.__stdout__, flush=True)
        raise SystemExit(1) from None
    try:
        emulator.serve()
    finally:
        if os.path.exists(args.socket):
            os.unlink(args.socket)
    # Tearing down moto's thousands of modules and objects one by one takes most of a second and
    # frees nothing the system does not free at exit: leave at once (stdout was flushed).
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
