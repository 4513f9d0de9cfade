"""The processor signing secret, read from SSM Parameter Store (SecureString) and cached briefly."""

from __future__ import annotations

import threading
import time
from typing import Any


class SsmSigningSecret:
    """A :class:`demo.bank.ports.SecretSource` on one SSM SecureString parameter.

    The value is cached for ``ttl_seconds``, so a rotated secret is picked up within that time
    without one SSM call per request.
    """

    def __init__(self, client: Any, parameter: str, ttl_seconds: float = 60.0) -> None:
        self._client = client
        self._parameter = parameter
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._value: str | None = None
        self._fetched_at = 0.0

    def signing_secrets(self) -> list[str]:
        with self._lock:
            if self._value is None or time.monotonic() - self._fetched_at > self._ttl:
                response = self._client.get_parameter(Name=self._parameter, WithDecryption=True)
                self._value = response["Parameter"]["Value"]
                self._fetched_at = time.monotonic()
            return [self._value]
