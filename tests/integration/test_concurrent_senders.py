"""A burst of concurrent senders: the local servers accept every connection (none reset, none
left unanswered), as API Gateway and a real fintech's receiver would.

Python's http.server listens with a backlog of 5: with 20 senders at once, some connections
overflowed it and were never served. Each server here holds ``settings.LISTEN_BACKLOG``.
"""

from __future__ import annotations

import socket
import threading

import pytest

SENDERS = 64
BURSTS = 3


def burst(host: str, port: int, path: str) -> list[str]:
    """``SENDERS`` connections opened at the same instant, each asking ``path``; what went wrong."""
    barrier = threading.Barrier(SENDERS)
    failures: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            with socket.create_connection((host, port), timeout=5) as conn:
                conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := conn.recv(65536):  # the whole answer (Connection: close), then close
                    answer += chunk
                status = answer[:12]
            if not status.startswith(b"HTTP/1."):
                failures.append(f"answered {status!r}")
        except OSError as error:
            failures.append(repr(error))

    threads = [threading.Thread(target=one) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _where(url: str) -> tuple[str, int]:
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, int(port)


@pytest.mark.parametrize("server", ["the bank's API", "the client's webhooks", "the client's control"])
def test_64_concurrent_senders_are_all_served(cloud, fintech, server):
    url, path = {
        "the bank's API": (cloud.api_url, "/health"),
        "the client's webhooks": (fintech.webhook_url, "/webhooks"),
        "the client's control": (fintech.control_url, "/log"),
    }[server]
    host, port = _where(url)
    for _ in range(BURSTS):
        failures = burst(host, port, path)
        assert not failures, f"{len(failures)} of {SENDERS} senders not served by {server}: {failures[:3]}"
