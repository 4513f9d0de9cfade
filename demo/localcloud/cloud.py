"""LocalCloud: the emulated AWS (moto) in a process of its own, the bank's stack deployed on it, the
Chalice app served on top in this process.

What ``start()`` does, in order:

1. start the emulator process (:mod:`demo.localcloud.emulator`): moto's services and their HTTP
   endpoint (default 127.0.0.1:4566, LocalStack's port; 0 picks a free port), and the local wire
   this process's boto3 calls take (:mod:`demo.localcloud.connection`): two processes, so that
   the functions and the services they call work on two cores;
2. deploy ``demo/serverless/resources.yaml`` through moto's CloudFormation, with the local
   stage's parameters (short visibility timeout, few receives before the DLQ) and the review
   workflow's definition inlined; moto executes the state machine for real (ASL interpreter);
3. store a random processor signing secret, and the client webhook secret, as SSM SecureStrings
   under the stack's KMS key;
4. load the Chalice app as ``chalice local`` does and wire it to this endpoint;
5. serve its routes over real HTTP (default 127.0.0.1:8000) and start one poller per SQS
   event source, which drives the handler with Lambda's semantics (see ``pollers``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import secrets
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, overload

from botocore.config import Config
from chalice.local import CustomLocalChalice, LocalChalice

from demo import settings
from demo.aws.cfn import inline_definitions, load_template
from demo.aws.queues import queue_depths
from demo.localcloud.connection import Emulator, WireFaults, WireQueue, WireTransport
from demo.localcloud.gateway import ApiServer, RequestHandler
from demo.localcloud.pollers import SqsPoller, Wakeup, Wakeups
from demo.localcloud.session import REGION, local_session, on_project_path
from demo.localcloud.wire import GIL_SWITCH_SECONDS
from demo.settings import ensure_free

if TYPE_CHECKING:
    from types_boto3_cloudformation.client import CloudFormationClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_ssm.client import SSMClient
    from types_boto3_stepfunctions.client import SFNClient

    # The services the local cloud's callers ask a client of (the stubs the project installs).
    Service = Literal["cloudformation", "dynamodb", "events", "sqs", "ssm", "stepfunctions"]

PROJECT_DIR = settings.SERVERLESS_PROJECT
TEMPLATE = PROJECT_DIR / "resources.yaml"
STACK_NAME = "bank-local"

# The local stage retries in seconds where AWS retries in minutes. A notification, an audit entry
# or a review takes milliseconds to handle here: 2 s hide a received one long enough. A webhook
# batch may wait up to 5 s for a slow client (chalicelib.webhooks): its queue hides them for 5.
LOCAL_PARAMETERS = {
    "Stage": "local",
    "NotificationsVisibilityTimeout": "2",
    "NotificationsMaxReceiveCount": "3",
    "WebhooksVisibilityTimeout": "5",
    "WebhooksMaxReceiveCount": "4",
    "AuditVisibilityTimeout": "2",
    "ReviewsVisibilityTimeout": "2",
}


_SDK_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


def _as_local_app(app: Any) -> Any:
    """Give the Chalice app local-mode behaviour, as ``chalice local`` does (once per process)."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return app


class PortInUse(RuntimeError):
    """A port the local cloud was asked to use is already taken."""


def stage_environment(stage: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The environment variables .chalice/config.json gives a stage's Lambda functions."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def load_chalice_app() -> Any:
    """Import app.py the way ``chalice local`` does: the project directory on sys.path."""
    on_project_path()
    return importlib.import_module("app")


class LocalCloud:
    _running: LocalCloud | None = None  # one cloud at a time in a process (Chalice's app is one)

    def __init__(
        self,
        *,
        host: str = settings.HOST,
        aws_port: int = settings.AWS_PORT,
        api_port: int = settings.API_PORT,
        client_url: str = settings.CLIENT_WEBHOOK_URL,
        client_webhook_secret: str = settings.LOCAL_WEBHOOK_SECRET,
        stage: str = "local",
        parameters: dict[str, str] | None = None,
        poller_concurrency: int = 2,
        signing_secret: str | None = None,
    ) -> None:
        self.host = host
        self.aws_port = aws_port
        self.api_port = api_port
        self.stage = stage
        self.client_url = client_url
        self.client_webhook_secret = client_webhook_secret
        self.parameters = {
            **LOCAL_PARAMETERS,
            "Stage": stage,
            "ClientWebhookUrl": client_url,
            **(parameters or {}),
        }
        self.poller_concurrency = poller_concurrency
        self.signing_secret = signing_secret or secrets.token_hex(32)
        self.session = local_session()
        self.pollers: list[SqsPoller] = []
        self.wakeups = Wakeups()  # what the idle pollers sleep on, one per queue: moto's SQS wakes them
        self.activity = Wakeup(wake_all=True)  # a poll started or ended, a message was added
        self.outputs: dict[str, str] = {}
        self.app_module: Any = None
        self._emulator: Emulator | None = None
        self._transport: WireTransport | None = None
        self._api: Any = None
        self._api_thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if LocalCloud._running is not None:
            raise RuntimeError("a LocalCloud is already running in this process; stop it first")
        for name, port in (("AWS", self.aws_port), ("API", self.api_port)):
            try:
                ensure_free(self.host, port)
            except OSError as error:
                raise PortInUse(f"{name} port {self.host}:{port} is in use ({error.strerror})") from None
        LocalCloud._running = self
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        try:
            try:
                self._emulator = Emulator(self.host, self.aws_port, REGION, self._on_message)
            except OSError as error:
                raise PortInUse(f"AWS port {error.strerror or error}") from None
            self.aws_port = self._emulator.port
            self._transport = WireTransport(self.aws_endpoint, self._emulator)
            self._transport.attach(self.session)  # the functions' calls take the local wire
            self._deploy_stack()
            self._store_signing_secret()
            self._start_app()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self._api is not None:
            self._api.server.shutdown()
            self._api.server.server_close()
            self._api = None
        if self._transport is not None:
            self._transport.detach(self.session)
            self._transport = None
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
        if LocalCloud._running is self:
            LocalCloud._running = None
            sys.setswitchinterval(self._switch_interval)

    def __enter__(self) -> Self:
        return self if self._emulator is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what callers use ---------------------------------------------------------------------

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def signing_secret_parameter(self) -> str:
        return f"/bank/{self.stage}/processor-signing-secret"

    def _running_emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("the local cloud is not running")
        return self._emulator

    @property
    def faults(self) -> WireFaults:
        """The faults injected into the emulated services (``bankdemo chaos`` sets them over HTTP)."""
        return WireFaults(self._running_emulator())

    def aws_calls(self) -> dict[str, int]:
        """The AWS requests answered so far, by ``service.Operation`` (the functions' and over HTTP)."""
        found: dict[str, int] = self._running_emulator().call("calls")
        return found

    @overload
    def client(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["ssm"]) -> SSMClient: ...
    @overload
    def client(self, service: Literal["stepfunctions"]) -> SFNClient: ...

    def client(
        self, service: Service
    ) -> CloudFormationClient | DynamoDBClient | EventBridgeClient | SQSClient | SSMClient | SFNClient:
        """A boto3 client of the local cloud (bounded retries, as the app's: see ``bootstrap.sdk_config``)."""
        return self.session.client(service, endpoint_url=self.aws_endpoint, config=_SDK_CONFIG)

    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Visible, in-flight and delayed messages of every queue of the stack."""
        return queue_depths(self.client("sqs"))

    def wait_until_drained(self, timeout: float = 60.0) -> dict[str, dict[str, int]]:
        """Block until every polled queue is empty and no handler runs; return the final depths.

        Raises TimeoutError (with what the queues hold) if that does not happen within ``timeout``
        seconds. Messages moved to a dead-letter queue count as drained: they wait there for a
        redrive. Nothing sleeps here: the pollers and the queues say when something happened
        (a poll started or ended, a message was sent), and the queues are looked at then.
        """
        emulator = self._running_emulator()
        polled = sorted({p.queue_url.rsplit("/", 1)[-1] for p in self.pollers})
        deadline = time.monotonic() + timeout
        while True:
            seen = self.activity.generation
            held: dict[str, int] = {}
            if not any(p.busy for p in self.pollers):
                held = {q: n for q, n in emulator.call("held", polled).items() if n}
                # Nothing held, no poll under way, and nothing happened while we looked: drained.
                if not held and self.activity.generation == seen:
                    return self.queue_depths()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"queues not drained after {timeout} s: {held or 'a handler still runs'}")
            self.activity.wait(seen, min(remaining, 1.0))  # 1 s: a safety net, not the pace

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the pollers for the duration (to look at what sits in the queues)."""
        for poller in self.pollers:
            poller.pause()
        deadline = time.monotonic() + 30  # a poll under way finishes its batch first
        while True:
            seen = self.activity.generation
            if not any(p.busy for p in self.pollers):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("a poller did not finish its batch within 30 s")
            self.activity.wait(seen, 1.0)
        try:
            yield
        finally:
            for poller in self.pollers:
                poller.resume()

    def rotate_signing_secret(self, window_seconds: int = 3600) -> str:
        """Rotate the processor signing secret as `bankdemo secret rotate` does; returns the new one."""
        from chalicelib.secrets import rotate

        ssm = self.client("ssm")
        rotated = rotate(ssm, self.signing_secret_parameter, self.outputs["BankKeyId"], window_seconds)
        self.signing_secret = rotated["secret"]
        return self.signing_secret

    @contextlib.contextmanager
    def settings_changed(self, **changes: Any) -> Iterator[Any]:
        """Run the app with some settings changed (e.g. a short review timeout), then restore them."""
        from chalicelib import bootstrap

        before = bootstrap.container().settings
        bootstrap.configure(replace(before, **changes), session=self.session)
        try:
            yield bootstrap.container().settings
        finally:
            bootstrap.configure(before, session=self.session)

    # -- start-up steps -----------------------------------------------------------------------

    def _deploy_stack(self) -> None:
        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(inline_definitions(load_template(TEMPLATE), PROJECT_DIR)),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
        )
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {STACK_NAME} ended in {stack['StackStatus']}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self._running_emulator().call("state-machines")

    def _store_signing_secret(self) -> None:
        secrets = {
            self.signing_secret_parameter: (
                self.signing_secret,
                "the card processor signs its notifications",
            ),
            f"/bank/{self.stage}/client-webhook-secret": (
                self.client_webhook_secret,
                "we sign the client's webhooks",
            ),
        }
        for name, (value, what) in secrets.items():
            self.client("ssm").put_parameter(
                Name=name,
                Value=value,
                Type="SecureString",
                KeyId=self.outputs["BankKeyId"],
                Overwrite=True,
                Description=f"HMAC secret {what} with",
            )

    def _start_app(self) -> None:
        # chalice's local server: only the local cloud needs it
        from chalice.config import Config
        from chalice.local import LocalDevServer

        self.app_module = load_chalice_app()
        from chalicelib import bootstrap

        env = stage_environment(self.stage)
        env["REVIEW_STATE_MACHINE_ARN"] = self.outputs["ReviewStateMachineArn"]
        env["CARD_KEY_ID"] = self.outputs["BankKeyId"]
        settings = bootstrap.Settings.from_env({**env, "AWS_REGION": REGION})
        bootstrap.configure(replace(settings, endpoint_url=self.aws_endpoint), session=self.session)

        # On AWS, API Gateway checks the review routes' IAM (SigV4) authorizer; Chalice's local
        # server cannot, admits the request, and warns each time: once is enough (docs, step 3).
        warnings.filterwarnings("ignore", message="IAMAuthorizer is not a supported in local mode")
        app = _as_local_app(self.app_module.app)
        config = Config.create(chalice_stage=self.stage, app_name="bank", project_dir=str(PROJECT_DIR))
        try:
            self._api = LocalDevServer(
                app, config, self.host, self.api_port, handler_cls=RequestHandler, server_cls=ApiServer
            )
        except OSError as error:
            raise PortInUse(f"API port {self.host}:{self.api_port} is in use ({error.strerror})") from None
        self.api_port = self._api.server.server_address[1]
        # Its loop looks for a shutdown request between polls: 0.1 s (not 0.5) for a prompt stop.
        self._api_thread = threading.Thread(
            target=self._api.server.serve_forever, kwargs={"poll_interval": 0.1}, name="api", daemon=True
        )
        self._api_thread.start()
        self._start_pollers()

    def _on_message(self, queue_name: str, after: float) -> None:
        """moto's SQS: a message of ``queue_name`` may be receivable ``after`` seconds from now
        (``*``: a fault changed, any queue may be)."""
        if queue_name == "*":
            self.wakeups.notify_all()
        else:
            self.wakeups.notify(queue_name, after)
        self.activity.notify(after + 0.05 if after > 0 else 0.0)

    def _start_pollers(self) -> None:
        sqs = self.client("sqs")
        for source in self.app_module.app.event_sources:
            if type(source).__name__ != "SQSEventConfig":
                continue
            url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"]
            )["Attributes"]
            poller = SqsPoller(
                sqs,
                url,
                attributes["QueueArn"],
                handler=getattr(self.app_module, source.name),
                function_name=f"bank-{self.stage}-{source.name}",
                batch_size=source.batch_size,
                concurrency=self.poller_concurrency,
                region=REGION,
                wakeup=self.wakeups.of(source.queue),
                visibility_timeout=float(attributes["VisibilityTimeout"]),
                activity=self.activity,
                queue=WireQueue(source.queue, self._running_emulator()),
            )
            poller.start()
            self.pollers.append(poller)
