"""The system a tour plays against: the bank's endpoints, its fintech client, and what the tour
started itself.

Either the system ``bankdemo up`` keeps running (found at ``--aws-endpoint`` by its ``/_chaos``
control, as ``bankdemo chaos`` finds it; ``running_stage``), or, when nothing answers there, an
embedded local cloud the tour starts for its own duration (``embedded_stage``), as ``bankdemo demo``
does. The fintech client is the one ``bankdemo client up`` runs, else one the tour runs on the
bank's webhook URL; the monolith always runs inside the tour (it starts in a fraction of a second).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import urlparse

from demo import settings
from demo.operations.output import console
from demo.operations.system import signing_secret
from demo.parties.client import BankApi

if TYPE_CHECKING:  # the stubs are a dev dependency
    from types_boto3_cloudformation.client import CloudFormationClient
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_kms.client import KMSClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_ssm.client import SSMClient
    from types_boto3_stepfunctions.client import SFNClient

DRAIN_TIMEOUT = 90.0


class NothingRunning(RuntimeError):
    """No local cloud answers at the endpoint (``bankdemo up`` is not running there)."""


class BadInput(ValueError):
    """An option that cannot be right (not a URL, a stage without tables): nothing was changed."""


def check_url(name: str, url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise BadInput(f"{name} {url!r} is not an http(s) URL")
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise BadInput(f"{name} {url!r} has no valid port") from None
    return url.rstrip("/")


_HTTP: Any = None


def http() -> Any:
    """One HTTP client for the control calls (a new client per call costs a TLS context: 0.2 s each)."""
    global _HTTP
    if _HTTP is None:
        import httpx

        _HTTP = httpx.Client(timeout=30, trust_env=False)
    return _HTTP


def get_json(url: str, timeout: float) -> dict[str, Any] | None:
    import httpx

    try:
        response = http().get(url, timeout=timeout)
        found = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return found if response.status_code == 200 and isinstance(found, dict) else None


def cloud_faults(aws_endpoint: str, timeout: float = 3.0) -> dict[str, Any] | None:
    """The faults of the local cloud at ``aws_endpoint`` (its ``/_chaos`` control), or None if none answers."""
    return get_json(f"{aws_endpoint}/_chaos", timeout)


def client_log(control_url: str, timeout: float = 3.0) -> dict[str, Any] | None:
    """The fintech client's log (``GET /log`` on its control port), or None if none answers."""
    return get_json(f"{control_url}/log", timeout)


@dataclass
class Stage:
    """Where the beats play: the bank's endpoints, its client, and what the tour started itself."""

    api_url: str
    aws_endpoint: str
    client_control: str
    signing_secret: str
    stage: str = "local"
    cloud: Any = None  # the in-process LocalCloud, when the tour started it
    client: Any = None  # the in-process FintechClient, when the tour started it
    notes: dict[str, Any] = field(default_factory=dict)  # what a beat tells a later one
    _monolith: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _storm: tuple[threading.Thread, dict[str, Any]] | None = None

    @property
    def embedded(self) -> bool:
        return self.cloud is not None

    @overload
    def aws(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def aws(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def aws(self, service: Literal["kms"]) -> KMSClient: ...
    @overload
    def aws(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def aws(self, service: Literal["ssm"]) -> SSMClient: ...
    @overload
    def aws(self, service: Literal["stepfunctions"]) -> SFNClient: ...
    def aws(
        self, service: Literal["cloudformation", "dynamodb", "kms", "sqs", "ssm", "stepfunctions"]
    ) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            from demo.localcloud.session import local_session

            config = Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30
            )
            self._clients[service] = local_session().client(
                service, endpoint_url=self.aws_endpoint, config=config
            )
        return self._clients[service]

    @property
    def monolith(self) -> Any:
        """The monolith and its own fintech client, in this process (``demo.resilience.compare.MonolithSystem``)."""
        if self._monolith is None:
            from demo.resilience.compare import MonolithSystem

            self._monolith = MonolithSystem()
        return self._monolith

    def prepare_storm(self) -> None:
        """Against a running system the storm needs a local cloud of its own (it pauses the worker,
        which only an in-process cloud allows): start it now, in the background, so that it is up
        by the last beat."""
        if self.embedded or self._storm is not None:
            return
        started: dict[str, Any] = {}

        def start() -> None:
            from demo.localcloud import LocalCloud
            from demo.parties.fintech import FintechClient

            try:
                started["client"] = FintechClient(port=0, control_port=0).start()
                started["cloud"] = LocalCloud(
                    aws_port=0, api_port=0, client_url=started["client"].webhook_url
                ).start()
            except BaseException as error:
                started["error"] = error

        self._storm = (threading.Thread(target=start, name="storm-cloud", daemon=True), started)
        self._storm[0].start()

    def storm_cloud(self) -> tuple[Any, Any]:
        """The local cloud and fintech client the storm's serverless side runs on."""
        if self.embedded:
            return self.cloud, self.client
        self.prepare_storm()
        assert self._storm is not None
        thread, started = self._storm
        thread.join()
        if "error" in started:
            raise RuntimeError(f"the storm's local cloud did not start: {started['error']}")
        return started["cloud"], started["client"]

    def close(self) -> None:
        if self._monolith is not None:
            self._monolith.stop()
            self._monolith = None
        if self._storm is not None and not self._storm[0].is_alive():  # still starting: a daemon thread
            for part in ("cloud", "client"):
                if part in self._storm[1]:
                    self._storm[1][part].stop()
            self._storm = None

    def api(self) -> BankApi:
        return BankApi(self.api_url, self.signing_secret)

    def depths(self) -> dict[str, dict[str, int]]:
        from demo.aws.queues import queue_depths

        return queue_depths(self.aws("sqs"))

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> dict[str, dict[str, int]]:
        """Wait until the bank's queues (not their DLQs) are empty twice in a row; the final depths."""
        if self.cloud is not None:
            drained: dict[str, dict[str, int]] = self.cloud.wait_until_drained(timeout=timeout)
            return drained
        deadline = time.monotonic() + timeout
        before: dict[str, dict[str, int]] | None = None
        while True:
            depths = self.depths()
            busy = {q: d for q, d in depths.items() if not q.endswith("-dlq") and any(d.values())}
            if not busy and depths == before:
                return depths
            before = None if busy else depths
            if time.monotonic() > deadline:
                raise TimeoutError(f"the queues did not drain within {timeout:.0f} s: {busy}")
            time.sleep(0.25)

    def balances(self, wallets: list[str]) -> dict[str, dict[str, Any] | None]:
        with BankApi(self.api_url) as api:
            return {w: api.balance(w) for w in wallets}

    def client_stats(self) -> dict[str, Any]:
        found = client_log(self.client_control)
        if found is None:
            raise RuntimeError(f"no fintech client answers at {self.client_control}")
        return found

    def ledger(self) -> Any:
        from demo.localcloud.session import chalicelib_module

        return chalicelib_module("ledger_table").DynamoDBLedger(
            self.aws("dynamodb"), f"bank-ledger-{self.stage}"
        )


def _stack_value(stage: Stage, name: str) -> str:
    """An SSM parameter of the bank's stack (the client's webhook URL and secret)."""
    return stage.aws("ssm").get_parameter(Name=f"/bank/{stage.stage}/{name}", WithDecryption=True)[
        "Parameter"
    ]["Value"]


@contextlib.contextmanager
def running_stage(
    api_url: str, aws_endpoint: str, client_control: str, stage: str = "local"
) -> Iterator[Stage]:
    """The system ``bankdemo up`` runs at ``aws_endpoint``; a fintech client of the tour's own if none answers."""
    if cloud_faults(aws_endpoint) is None:
        raise NothingRunning(aws_endpoint)
    if get_json(f"{api_url}/health", 5) is None:
        raise BadInput(
            f"a local cloud answers at {aws_endpoint} but no bank API at {api_url}: "
            "pass --api (`bankdemo up` prints it)"
        )
    found = Stage(api_url, aws_endpoint, client_control, signing_secret(aws_endpoint, stage), stage)
    try:
        if client_log(client_control) is None:
            found.client = _start_client(found)
        yield found
    finally:
        found.close()
        if found.client is not None:
            found.client.stop()


def _start_client(stage: Stage) -> Any:
    """A fintech client on the URL the bank sends its webhooks to, for the tour's duration."""
    from demo.parties.fintech import FintechClient

    url = urlparse(_stack_value(stage, "client-webhook-url"))
    secret = _stack_value(stage, "client-webhook-secret")
    try:
        client = FintechClient(
            host=url.hostname or settings.HOST, port=url.port or 80, control_port=0, secret=secret
        )
        client.start()
    except OSError as error:
        raise BadInput(
            f"no fintech client answers at {stage.client_control}, and the bank's webhook URL "
            f"{url.geturl()} is taken ({error.strerror}): pass --client-control"
        ) from None
    stage.client_control = client.control_url
    console.print(
        f"No fintech client answered: the tour runs one on {client.webhook_url} for its duration "
        "(or start `bankdemo client up` in another terminal)."
    )
    return client


@contextlib.contextmanager
def embedded_stage() -> Iterator[Stage]:
    """A local cloud, the bank and a fintech client in this process, on free ports, for the tour's duration."""
    from demo.localcloud import LocalCloud
    from demo.parties.fintech import FintechClient

    started = time.perf_counter()
    client = FintechClient(port=0, control_port=0).start()
    try:
        with console.status("Starting the local cloud (moto, the stack, the Chalice app)..."):
            cloud = LocalCloud(aws_port=0, api_port=0, client_url=client.webhook_url).start()
    except BaseException:
        client.stop()
        raise
    found = Stage(
        cloud.api_url,
        cloud.aws_endpoint,
        client.control_url,
        cloud.signing_secret,
        cloud.stage,
        cloud,
        client,
    )
    console.print(
        f"[green]Local cloud up[/] in {time.perf_counter() - started:.1f} s, for the tour's duration:"
    )
    console.print(
        f"  export BANK_API_URL={cloud.api_url} AWS_ENDPOINT_URL={cloud.aws_endpoint}", highlight=False
    )
    console.print(f"  client control {client.control_url}", highlight=False)
    try:
        yield found
    finally:
        found.close()
        cloud.stop()
        client.stop()
