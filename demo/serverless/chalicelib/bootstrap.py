"""The composition root of the Lambda side: settings in, wired adapters out.

Everything is built on first use and then cached for the life of the execution environment, so
that importing app.py stays cheap (cold start) and a warm Lambda reuses its clients. On AWS the
settings come from the environment (.chalice/config.json, per stage); the local cloud calls
:func:`configure` with its own endpoint and credentials instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from chalicelib.audit import AuditTrail, Counters
from chalicelib.cards import KmsCardVault
from chalicelib.events import EventBridgePublisher
from chalicelib.ledger_table import DynamoDBLedger
from chalicelib.outages import OutageRequeue
from chalicelib.queues import SqsNotificationQueue
from chalicelib.reviews import DynamoDBReviews, StepFunctionsReviews
from chalicelib.secrets import SsmParameter, SsmSigningSecret
from chalicelib.webhooks import SqsBackoff

if TYPE_CHECKING:  # the stubs are a dev dependency: not in the Lambda package
    import boto3
    from botocore.config import Config
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_kms.client import KMSClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_ssm.client import SSMClient
    from types_boto3_stepfunctions.client import SFNClient

# The names in resources.yaml; a test keeps them equal. Chalice reads the queue names when it
# imports app.py (`@app.on_sqs_message(queue=...)`), before any stage setting is known.
NOTIFICATIONS_QUEUE = "bank-notifications"
WEBHOOKS_QUEUE = "bank-webhooks"
AUDIT_QUEUE = "bank-audit"
REVIEWS_QUEUE = "bank-reviews"


@dataclass(frozen=True)
class Settings:
    stage: str
    ledger_table: str
    signing_secret_parameter: str
    audit_table: str = ""
    client_webhook_url_parameter: str = ""
    client_webhook_secret_parameter: str = ""
    notifications_queue: str = NOTIFICATIONS_QUEUE
    event_bus: str = "bank"
    webhook_retry_base_seconds: float = 30.0
    webhook_retry_max_seconds: float = 900.0
    region: str | None = None
    endpoint_url: str | None = None
    secret_ttl_seconds: float = 60.0
    review_state_machine_arn: str = ""
    review_threshold_cents: int = 1_000_000
    review_decision_timeout_seconds: int = 172_800
    card_key_id: str = ""
    outage_retry_base_seconds: float = 10.0
    outage_retry_max_seconds: float = 900.0
    outage_max_retries: int = 100

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        stage = env.get("BANK_STAGE", "dev")
        return cls(
            stage=stage,
            ledger_table=env.get("LEDGER_TABLE", f"bank-ledger-{stage}"),
            audit_table=env.get("AUDIT_TABLE", f"bank-audit-{stage}"),
            signing_secret_parameter=env.get(
                "SIGNING_SECRET_PARAMETER", f"/bank/{stage}/processor-signing-secret"
            ),
            client_webhook_url_parameter=env.get(
                "CLIENT_WEBHOOK_URL_PARAMETER", f"/bank/{stage}/client-webhook-url"
            ),
            client_webhook_secret_parameter=env.get(
                "CLIENT_WEBHOOK_SECRET_PARAMETER", f"/bank/{stage}/client-webhook-secret"
            ),
            notifications_queue=env.get("NOTIFICATIONS_QUEUE", NOTIFICATIONS_QUEUE),
            event_bus=env.get("EVENT_BUS", "bank"),
            webhook_retry_base_seconds=float(env.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
            webhook_retry_max_seconds=float(env.get("WEBHOOK_RETRY_MAX_SECONDS", "900")),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            endpoint_url=env.get("AWS_ENDPOINT_URL"),
            review_state_machine_arn=env.get("REVIEW_STATE_MACHINE_ARN", ""),
            review_threshold_cents=int(env.get("REVIEW_THRESHOLD_CENTS", "1000000")),
            review_decision_timeout_seconds=int(env.get("REVIEW_DECISION_TIMEOUT_SECONDS", "172800")),
            card_key_id=env.get("CARD_KEY_ID", ""),
            outage_retry_base_seconds=float(env.get("OUTAGE_RETRY_BASE_SECONDS", "10")),
            outage_retry_max_seconds=float(env.get("OUTAGE_RETRY_MAX_SECONDS", "900")),
            outage_max_retries=int(env.get("OUTAGE_MAX_RETRIES", "100")),
        )


def sdk_config() -> Config:
    """Every client's retries: botocore's standard mode, 3 attempts with jittered backoff.

    The default (legacy mode) retries DynamoDB 10 times: while DynamoDB is down a handler would
    spend up to half a minute on one call before it can put the batch back for later.
    """
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


class Container:
    """The wired adapters. Each is created on first use."""

    def __init__(self, settings: Settings, session: boto3.Session | None = None) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}  # name -> what its build returned (the type _get gives back)

    def _get[T](self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            built: T = self._built[name]
            return built

    @overload
    def _client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def _client(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def _client(self, service: Literal["kms"]) -> KMSClient: ...
    @overload
    def _client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def _client(self, service: Literal["ssm"]) -> SSMClient: ...
    @overload
    def _client(self, service: Literal["stepfunctions"]) -> SFNClient: ...
    def _client(self, service: Literal["dynamodb", "events", "kms", "sqs", "ssm", "stepfunctions"]) -> Any:
        def build() -> Any:
            if self._session is None:
                import boto3  # on first use, not at cold start

                self._session = boto3.Session(region_name=self.settings.region)
            return self._session.client(service, endpoint_url=self.settings.endpoint_url, config=sdk_config())

        return self._get(f"client:{service}", build)

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
        s = self.settings
        return self._get(
            "secrets",
            lambda: SsmSigningSecret(self._client("ssm"), s.signing_secret_parameter, s.secret_ttl_seconds),
        )

    @property
    def events(self) -> EventBridgePublisher:
        return self._get(
            "events", lambda: EventBridgePublisher(self._client("events"), self.settings.event_bus)
        )

    @property
    def audit(self) -> AuditTrail:
        return self._get("audit", lambda: AuditTrail(self._client("dynamodb"), self.settings.audit_table))

    @property
    def counters(self) -> Counters:
        return self._get("counters", lambda: Counters(self._client("dynamodb"), self.settings.ledger_table))

    @property
    def backoff(self) -> SqsBackoff:
        s = self.settings
        return self._get(
            "backoff",
            lambda: SqsBackoff(
                self._client("sqs"), s.webhook_retry_base_seconds, s.webhook_retry_max_seconds
            ),
        )

    @property
    def requeue(self) -> OutageRequeue:
        s = self.settings
        return self._get(
            "requeue",
            lambda: OutageRequeue(
                self._client("sqs"),
                s.outage_retry_base_seconds,
                s.outage_retry_max_seconds,
                s.outage_max_retries,
            ),
        )

    @property
    def cards(self) -> KmsCardVault:
        s = self.settings
        if not s.card_key_id:
            raise RuntimeError("CARD_KEY_ID is not set: card data cannot be stored encrypted")
        return self._get(
            "cards",
            lambda: KmsCardVault(
                self._client("kms"), self._client("dynamodb"), s.ledger_table, s.card_key_id
            ),
        )

    @property
    def reviews(self) -> DynamoDBReviews:
        return self._get(
            "reviews", lambda: DynamoDBReviews(self._client("dynamodb"), self.settings.ledger_table)
        )

    @property
    def review_workflow(self) -> StepFunctionsReviews:
        s = self.settings
        return self._get(
            "review_workflow",
            lambda: StepFunctionsReviews(
                self._client("stepfunctions"), s.review_state_machine_arn, s.review_decision_timeout_seconds
            ),
        )

    @property
    def client_webhook_url(self) -> SsmParameter:
        s = self.settings
        return self._get(
            "client_url",
            lambda: SsmParameter(self._client("ssm"), s.client_webhook_url_parameter, s.secret_ttl_seconds),
        )

    @property
    def client_webhook_secret(self) -> SsmParameter:
        s = self.settings
        return self._get(
            "client_secret",
            lambda: SsmParameter(
                self._client("ssm"), s.client_webhook_secret_parameter, s.secret_ttl_seconds
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


def configure(settings: Settings, session: boto3.Session | None = None) -> Container:
    """Replace the container (the local cloud and tests wire their own endpoint and credentials)."""
    global _container
    with _container_lock:
        _container = Container(settings, session)
        return _container
