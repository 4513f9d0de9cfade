"""What ``bankdemo up`` keeps across restarts: the local secrets, in a state folder (``.bankdemo/``).

moto keeps the emulated AWS in memory: a restart, clean or after a crash, starts with empty tables
and queues, and a notification accepted (202) but not yet applied is gone. On AWS, SQS keeps it;
locally, a 202 is not that durable (the quickstart and step 1 say so). What a restart must not
change is the processor signing secret: senders that read it before (``bankdemo send``, a
processor's own code) would get 401 for ever. So the secret lives in ``<state>/signing-secret``
(mode 0600, its folder 0700), is read again at the next start, and is written back at a clean
stop (after a ``bankdemo secret rotate``, the rotated one).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

KEPT_AS = "signing-secret"
_SECRET = re.compile(r"[0-9a-f]{64}")


class BadState(RuntimeError):
    """The state folder holds something that is not a secret the local cloud wrote: nothing is changed."""


def signing_secret(folder: Path) -> str:
    """The processor signing secret kept in ``folder``, or a new random one, written there first."""
    path = folder / KEPT_AS
    if path.exists():
        found = path.read_text().strip()
        if not _SECRET.fullmatch(found):
            raise BadState(
                f"{path} does not hold a signing secret (64 hex digits): remove it to start afresh"
            )
        return found
    created = secrets.token_hex(32)
    keep(folder, created)
    return created


def keep(folder: Path, secret: str) -> None:
    """Write ``secret`` to ``folder`` (created 0700), readable by this user only, atomically."""
    if not _SECRET.fullmatch(secret):
        raise BadState("a signing secret is 64 hex digits")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = folder / f".{KEPT_AS}.{os.getpid()}"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secret + "\n")
    partial.replace(folder / KEPT_AS)


def keep_current(folder: Path, cloud: Any) -> None:
    """At a clean stop: the secret the running cloud holds in SSM now (rotated, maybe), kept."""
    ssm = cloud.client("ssm")
    found = ssm.get_parameter(Name=cloud.signing_secret_parameter, WithDecryption=True)
    keep(folder, found["Parameter"]["Value"])
