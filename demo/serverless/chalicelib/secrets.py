"""Stage settings and secrets read from SSM Parameter Store, cached briefly.

The processor signing secret rotates without a refused notification:

1. ``rotate`` keeps the current secret as ``<name>-previous``, accepted until the end of a
   rotation window, then stores a new current secret;
2. the processor switches to the new secret whenever it likes within the window;
3. a Lambda whose cache still holds the old pair re-reads SSM when a signature does not match
   (at most once every few seconds, so forged requests cannot hammer SSM), and finds the new one.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    from types_boto3_ssm.client import SSMClient

PREVIOUS_SUFFIX = "-previous"


class SsmParameter:
    """One SSM parameter (SecureStrings decrypted), cached for ``ttl_seconds``.

    The cache saves one SSM call per request; a rotated value is picked up within the TTL.
    """

    def __init__(self, client: SSMClient, name: str, ttl_seconds: float = 60.0) -> None:
        self._client = client
        self.name = name
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._value: str | None = None
        self._fetched_at = 0.0

    def value(self) -> str:
        with self._lock:
            if self._value is None or time.monotonic() - self._fetched_at > self._ttl:
                response = self._client.get_parameter(Name=self.name, WithDecryption=True)
                self._value = response["Parameter"]["Value"]
                self._fetched_at = time.monotonic()
            return self._value


# --8<-- [start:signing_secret]
class SsmSigningSecret:
    """A :class:`demo.bank.ports.SecretSource`: the processor signing secret, and the previous
    one while its rotation window lasts. Cached for ``ttl_seconds``; :meth:`refresh` re-reads
    it early, at most once every ``min_refresh_seconds``."""

    def __init__(
        self,
        client: SSMClient,
        name: str,
        ttl_seconds: float = 60.0,
        min_refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.name = name
        self.previous_name = name + PREVIOUS_SUFFIX
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._current: str | None = None
        self._previous: tuple[str, float] | None = None  # (secret, accepted until, epoch seconds)
        self._fetched_at = 0.0
        self._refreshed_at = -float("inf")

    def signing_secrets(self) -> list[str]:
        with self._lock:
            if self._current is None or time.monotonic() - self._fetched_at > self._ttl:
                self._fetch()
            assert self._current is not None
            found = [self._current]
            if self._previous is not None and self._clock() < self._previous[1]:
                found.append(self._previous[0])
            return found

    def refresh(self) -> bool:
        """Re-read the secrets now, unless the last refresh was less than ``min_refresh_seconds`` ago."""
        with self._lock:
            if time.monotonic() - self._refreshed_at < self._min_refresh:
                return False
            self._refreshed_at = time.monotonic()
            self._fetch()
            return True

    def _fetch(self) -> None:
        response = self._client.get_parameters(Names=[self.name, self.previous_name], WithDecryption=True)
        values = {p["Name"]: p["Value"] for p in response["Parameters"]}
        if self.name not in values:
            raise RuntimeError(f"the signing secret parameter {self.name} does not exist")
        self._current = values[self.name]
        previous = values.get(self.previous_name)
        self._previous = None
        if previous:
            data = json.loads(previous)
            self._previous = (data["secret"], float(data["accepted_until"]))
        self._fetched_at = time.monotonic()
        # --8<-- [end:signing_secret]


# --8<-- [start:rotate]
def rotate(
    client: SSMClient, name: str, key_id: str, window_seconds: int, now: float | None = None
) -> dict[str, Any]:
    """Rotate the signing secret ``name``: the current one stays accepted for ``window_seconds``
    as ``<name>-previous``, a new random one becomes current. Returns the new secret's facts."""
    if window_seconds < 0:
        raise ValueError("the rotation window cannot be negative")
    now = time.time() if now is None else now
    old = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    until = now + window_seconds
    client.put_parameter(  # first the previous, so that a reader in between still has both
        Name=name + PREVIOUS_SUFFIX,
        Value=json.dumps({"secret": old, "accepted_until": until}),
        Type="SecureString",
        KeyId=key_id,
        Overwrite=True,
        Description="The previous processor signing secret, accepted until its rotation window ends",
    )
    new = secrets.token_hex(32)
    client.put_parameter(Name=name, Value=new, Type="SecureString", KeyId=key_id, Overwrite=True)
    return {"parameter": name, "previous_accepted_until": until, "secret": new}
    # --8<-- [end:rotate]
