"""The composition root of the Lambda side: settings in, wired adapters out.

Everything is built on first use and then cached for the life of the execution environment, so
that importing app.py stays cheap (cold start) and a warm Lambda reuses its clients. On AWS the
settings come from the environment (.chalice/config.json, per stage); the local cloud calls
:func:`configure` with its own endpoint and credentials instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.ledger_table import DynamoDBLedger
from chalicelib.queues import SqsNotificationQueue
from chalicelib.secrets import SsmSigningSecret

NOTIFICATIONS_QUEUE = "bank-notifications"  # the name in resources.yaml; a test keeps them equal


@dataclass(frozen=True)
class Settings:
    stage: str
    ledger_table: str
    signing_secret_parameter: str
    client_webhook_url_parameter: str = ""
    notifications_queue: str = NOTIFICATIONS_QUEUE
    region: str | None = None
    endpoint_url: str | None = None
    secret_ttl_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        stage = env.get("BANK_STAGE", "dev")
        return cls(
            stage=stage,
            ledger_table=env.get("LEDGER_TABLE", f"bank-ledger-{stage}"),
            signing_secret_parameter=env.get(
                "SIGNING_SECRET_PARAMETER", f"/bank/{stage}/processor-signing-secret"
            ),
            client_webhook_url_parameter=env.get(
                "CLIENT_WEBHOOK_URL_PARAMETER", f"/bank/{stage}/client-webhook-url"
            ),
            notifications_queue=env.get("NOTIFICATIONS_QUEUE", NOTIFICATIONS_QUEUE),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            endpoint_url=env.get("AWS_ENDPOINT_URL"),
        )


class Container:
    """The wired adapters. Each is created on first use."""

    def __init__(self, settings: Settings, session: Any = None) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.Lock()
        self._built: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if self._session is None:
            import boto3  # on first use, not at cold start

            self._session = boto3.Session(region_name=self.settings.region)
        return self._session.client(service, endpoint_url=self.settings.endpoint_url)

    def _get(self, name: str, build: Any) -> Any:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]

    @property
    def ledger(self) -> DynamoDBLedger:
        return self._get(
            "ledger", lambda: DynamoDBLedger(self._client("dynamodb"), self.settings.ledger_table)
        )

    @property
    def queue(self) -> SqsNotificationQueue:
        return self._get(
            "queue", lambda: SqsNotificationQueue(self._client("sqs"), self.settings.notifications_queue)
        )

    @property
    def secrets(self) -> SsmSigningSecret:
        return self._get(
            "secrets",
            lambda: SsmSigningSecret(
                self._client("ssm"), self.settings.signing_secret_parameter, self.settings.secret_ttl_seconds
            ),
        )


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """The process-wide container, built from the environment on first call."""
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(Settings.from_env())
        return _container


def configure(settings: Settings, session: Any = None) -> Container:
    """Replace the container (the local cloud and tests wire their own endpoint and credentials)."""
    global _container
    with _container_lock:
        _container = Container(settings, session)
        return _container
