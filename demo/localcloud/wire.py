"""The local wire between the local cloud's two processes: length-prefixed ``marshal`` frames.

A frame is 4 bytes of length (big-endian) then a ``marshal`` dump: tuples, lists, dicts, str,
bytes, int, float, bool and None, the types a request and its answer are made of. ``marshal`` is
fast and, unlike pickle, cannot run code; the socket it travels on is a private file of the
process that started the emulator. Imports nothing heavy: both processes use it.
"""

from __future__ import annotations

import marshal
import socket
import struct
from typing import Any

_LENGTH = struct.Struct("!I")

# The local cloud hosts, as threads of one process, what AWS runs in separate sandboxes: a dozen
# pollers and the API's request threads. Python makes a thread that wants the GIL force a switch
# every 5 ms by default; among that many threads, the forced switches cost a tenth of the CPU in a
# flood (benchmarks/performance.py, paired runs). Every AWS request releases the GIL anyway, so a
# longer interval only bounds how long a busy handler keeps the others waiting: 20 ms. Both of the
# local cloud's processes use it while the cloud runs (set by demo.localcloud.cloud and .emulator).
GIL_SWITCH_SECONDS = 0.02


def send_frame(sock: socket.socket, value: Any) -> None:
    data = marshal.dumps(value)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def recv_frame(sock: socket.socket) -> Any:
    """The next frame's value; EOFError if the other side closed the connection."""
    (length,) = _LENGTH.unpack(_recv_exactly(sock, _LENGTH.size))
    return marshal.loads(_recv_exactly(sock, length))  # noqa: S302 - our own processes, on a private socket


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
