"""Stage settings and secrets read from SSM Parameter Store, cached briefly."""

from __future__ import annotations

import threading
import time
from typing import Any


class SsmParameter:
    """One SSM parameter (SecureStrings decrypted), cached for ``ttl_seconds``.

    The cache saves one SSM call per request; a rotated value is picked up within the TTL.
    """

    def __init__(self, client: Any, name: str, ttl_seconds: float = 60.0) -> None:
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


class SsmSigningSecret(SsmParameter):
    """A :class:`demo.bank.ports.SecretSource`: the processor signing secret."""

    def signing_secrets(self) -> list[str]:
        return [self.value()]
