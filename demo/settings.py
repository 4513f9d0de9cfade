"""The demo's defaults in one place: ports, URLs, the local-only secrets, and the check that a port is free.

Every default port here can be changed on the command line; tests use free ports (port 0).
Every part of the demo may import this module; it imports nothing of the demo.
"""

from __future__ import annotations

import socket
from pathlib import Path

# The Chalice project (app.py, chalicelib/, .chalice/, resources.yaml), inside the demo package.
SERVERLESS_PROJECT = Path(__file__).resolve().parent / "serverless"

HOST = "127.0.0.1"
REGION = "eu-west-1"  # the local cloud's AWS region

AWS_PORT = 4566  # the local cloud's AWS endpoint (LocalStack's port)
API_PORT = 8000  # the serverless bank's HTTP API
MONOLITH_PORT = 8080  # the monolith's HTTP API
CLIENT_WEBHOOK_PORT = 8010  # the fintech client's webhook receiver
CLIENT_CONTROL_PORT = 8011  # the fintech client's control port (log, mode)

# What `bankdemo up` keeps across restarts (the signing secret), relative to where it runs.
STATE_DIR = Path(".bankdemo")

AWS_ENDPOINT = f"http://{HOST}:{AWS_PORT}"
API_URL = f"http://{HOST}:{API_PORT}"
MONOLITH_URL = f"http://{HOST}:{MONOLITH_PORT}"
CLIENT_WEBHOOK_URL = f"http://{HOST}:{CLIENT_WEBHOOK_PORT}/webhooks"
CLIENT_CONTROL_URL = f"http://{HOST}:{CLIENT_CONTROL_PORT}"

# How many connections a local server holds before it accepts them: a burst of concurrent senders
# must not overflow it (Python's http.server default is 5; werkzeug's, the monolith's, 128).
LISTEN_BACKLOG = 128

# The secret the bank signs its webhooks to the local fintech client with, when none is set in
# CLIENT_WEBHOOK_SECRET. Local demo only: on AWS the secret lives in SSM (step 4).
LOCAL_WEBHOOK_SECRET = "whsec-local-demo-only"  # noqa: S105


def ensure_free(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) if ``host:port`` cannot be bound, as a server would bind it."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
