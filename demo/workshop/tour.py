"""The presenter's live demo, beat by beat (``bankdemo tour``), and putting a running system back to a
clean state in seconds (``bankdemo reset``).

Why a script: a live demo must not depend on memory, typing or the network. Each beat is a short,
titled step that says what it does and what to look at, does it with the same functions the other
``bankdemo`` commands use (sending, ``status``, ``chaos``, ``redrive``, ``reviews``, ``approve``,
the balance and scorecard tables), then checks its own outcome and says loudly when something did
not happen as expected. The beats are seeded and self-contained, so ``--from N`` can start anywhere
and a rehearsal (``--auto``) replays the same demo.

Where it runs: against the system ``bankdemo up`` keeps running (found at ``--aws-endpoint`` by its
``/_chaos`` control, as ``bankdemo chaos`` finds it), after a reset; or, when nothing answers there,
on an embedded local cloud the tour starts for its own duration, as ``bankdemo demo`` does. The
fintech client is the one ``bankdemo client up`` runs, else one the tour runs on the bank's webhook
URL; the monolith always runs inside the tour (it starts in a fraction of a second). The storm's
scorecard pauses the serverless worker, which only an in-process cloud allows: against a running
system, it runs on a local cloud of its own.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlparse

import typer

from demo import settings
from demo.bank import notifications as n
from demo.cli.common import console, err
from demo.parties import processor
from demo.parties.client import BankApi, format_cents

# -- the beats' data: seeded, each beat its own wallets, so that any beat can run first ----------------

STREAM_A = {"count": 16, "seed": 101, "wallets": 2, "duplicates": 0.25, "wallet_prefix": "tour-a-w"}
STREAM_B = {"count": 12, "seed": 102, "wallets": 2, "duplicates": 0.0, "wallet_prefix": "tour-b-w"}
STREAM_D = {"count": 12, "seed": 104, "wallets": 2, "duplicates": 0.3, "wallet_prefix": "tour-d-w"}
STREAM_E = {"count": 4, "seed": 105, "wallets": 2, "duplicates": 0.0, "wallet_prefix": "tour-e-w"}
STREAM_F = {"count": 10, "seed": 106, "wallets": 2, "duplicates": 0.2, "wallet_prefix": "tour-f-w"}
BROKER_KEEPS = 6  # beat 2: the first deliveries, applied before the worker stops
REVIEW_WALLET = "tour-vip"
REVIEW_CENTS = 1_500_000  # 15,000.00 EUR: over the review threshold (10,000.00)
CARD_WALLET = "tour-card"
STORM_COUNT = 30
DRAIN_TIMEOUT = 90.0


def stream(spec: dict[str, Any]) -> processor.Stream:
    return processor.generate(**spec)


def concat(*streams: processor.Stream) -> processor.Stream:
    """One stream from several with distinct wallets (their deliveries one after the other)."""
    deliveries = [d for s in streams for d in s.deliveries]
    expected = {w: e for s in streams for w, e in s.expected.items()}
    return processor.Stream(
        deliveries=deliveries, expected=expected, distinct=sum(s.distinct for s in streams)
    )


def part(whole: processor.Stream, deliveries: list[dict[str, Any]]) -> processor.Stream:
    """Some of a stream's deliveries, with the whole stream's expected balances (what it should add up to)."""
    distinct = len({d["webhook_id"] for d in deliveries})
    return processor.Stream(deliveries=deliveries, expected=whole.expected, distinct=distinct)


# -- the system the beats run against ------------------------------------------------------------


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


def _get_json(url: str, timeout: float) -> dict[str, Any] | None:
    import httpx

    try:
        response = http().get(url, timeout=timeout)
        found = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return found if response.status_code == 200 and isinstance(found, dict) else None


def cloud_faults(aws_endpoint: str, timeout: float = 3.0) -> dict[str, Any] | None:
    """The faults of the local cloud at ``aws_endpoint`` (its ``/_chaos`` control), or None if none answers."""
    return _get_json(f"{aws_endpoint}/_chaos", timeout)


def client_log(control_url: str, timeout: float = 3.0) -> dict[str, Any] | None:
    """The fintech client's log (``GET /log`` on its control port), or None if none answers."""
    return _get_json(f"{control_url}/log", timeout)


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

    def aws(self, service: str) -> Any:
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
            return self.cloud.wait_until_drained(timeout=timeout)
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
    from demo.cli.common import signing_secret

    if cloud_faults(aws_endpoint) is None:
        raise NothingRunning(aws_endpoint)
    if _get_json(f"{api_url}/health", 5) is None:
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


# -- reset ------------------------------------------------------------------------------------------


@dataclass
class ResetReport:
    done: list[tuple[str, str]] = field(default_factory=list)  # (what, how it went)
    seconds: float = 0.0


def reset(
    aws_endpoint: str,
    client_control: str = settings.CLIENT_CONTROL_URL,
    monolith_url: str | None = settings.MONOLITH_URL,
    stage: str = "local",
) -> ResetReport:
    """Put the running local cloud (and the client, and the monolith if they run) back to a clean state.

    Nothing is restarted: faults off, the client up with an empty log, every queue and DLQ purged,
    the review executions stopped and forgotten (the state machine created again, same ARN), the
    bank's tables emptied (ledger, counters, reviews, cards, audit). The signing secrets are kept.
    Raises NothingRunning, or BadInput before anything is changed.
    """
    started = time.perf_counter()
    aws_endpoint = check_url("--aws-endpoint", aws_endpoint)
    client_control = check_url("--client-control", client_control)
    if monolith_url is not None:
        monolith_url = check_url("--monolith", monolith_url)
    faults = cloud_faults(aws_endpoint)
    if faults is None:
        raise NothingRunning(aws_endpoint)
    target = Stage("", aws_endpoint, client_control, "", stage)
    tables = [t for t in _list_tables(target) if t.startswith("bank-") and t.endswith(f"-{stage}")]
    if f"bank-ledger-{stage}" not in tables:
        raise BadInput(f"no table bank-ledger-{stage} at {aws_endpoint}: is --stage {stage!r} right?")
    report = ResetReport()
    _reset_faults(aws_endpoint, faults, report)
    _reset_client(client_control, report)
    _reset_reviews(target, report)
    _purge_queues(target, report)
    for table in tables:
        report.done.append((f"table {table}", f"{_clear_table(target, table)} item(s) deleted"))
    _purge_queues(target, None)  # what a handler still under way added meanwhile
    _reset_client(client_control, None)
    if monolith_url is not None:
        _reset_monolith(monolith_url, report)
    report.seconds = time.perf_counter() - started
    return report


def _list_tables(stage: Stage) -> list[str]:
    names: list[str] = []
    for page in stage.aws("dynamodb").get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def _post(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http().post(url, json=body)
    response.raise_for_status()
    return response.json()


def _reset_faults(aws_endpoint: str, faults: dict[str, Any], report: ResetReport) -> None:
    on = [f"{t} {f['mode']}" for t, f in sorted(faults.items()) if f.get("mode") != "up"]
    _post(f"{aws_endpoint}/_chaos/reset")
    report.done.append(("faults", f"mended: {', '.join(on)}" if on else "none was on"))


def _reset_client(control_url: str, report: ResetReport | None) -> None:
    found = client_log(control_url)
    if found is None:
        if report is not None:
            report.done.append(("fintech client", f"none answers at {control_url} (`bankdemo client up`)"))
        return
    _post(f"{control_url}/mode", {"mode": "up"})
    _post(f"{control_url}/reset")
    if report is not None:
        mode = "up" if found["mode"] == "up" else f"{found['mode']} -> up"
        report.done.append(("fintech client", f"{mode}, {found['stats']['received']} webhook(s) forgotten"))


def _reset_reviews(stage: Stage, report: ResetReport) -> None:
    from demo.cli.reviews import STATE_MACHINE

    sfn = stage.aws("stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    if STATE_MACHINE not in machines:
        report.done.append(("review workflow", f"no {STATE_MACHINE} state machine"))
        return
    arn = machines[STATE_MACHINE]
    executions = [
        e for p in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn) for e in p["executions"]
    ]
    running = [e["executionArn"] for e in executions if e["status"] == "RUNNING"]
    for execution in running:  # a waiting one would wake up at its timeout and publish
        sfn.stop_execution(executionArn=execution, cause="bankdemo reset")
    if executions:  # Step Functions never forgets an execution: the state machine is created again
        machine = sfn.describe_state_machine(stateMachineArn=arn)
        sfn.delete_state_machine(stateMachineArn=arn)
        sfn.create_state_machine(
            name=machine["name"],
            definition=machine["definition"],
            roleArn=machine["roleArn"],
            type=machine["type"],
        )
    report.done.append(
        ("review workflow", f"{len(executions)} execution(s) forgotten, {len(running)} stopped")
    )


def _purge_queues(stage: Stage, report: ResetReport | None, settle: float = 10.0) -> None:
    """Purge the queues and DLQs that hold messages, until they stay empty (a handler under way may add some)."""
    sqs = stage.aws("sqs")
    before = depths = stage.depths()
    deadline = time.monotonic() + settle
    quiet = 0
    while quiet < 2:
        held = [name for name, depth in sorted(depths.items()) if any(depth.values())]
        for name in held:
            _purge(sqs, name)
        quiet = 0 if held else quiet + 1
        if quiet == 2 or (report is None and quiet == 1):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the queues did not stay empty within {settle:.0f} s: {depths}")
        time.sleep(0.2)
        depths = stage.depths()
    if report is not None:
        counts = {q: sum(d.values()) for q, d in sorted(before.items()) if any(d.values())}
        text = ", ".join(f"{q} {count}" for q, count in counts.items()) if counts else "all were empty"
        report.done.append((f"{len(before)} queues", f"purged: {text}"))


def _purge(sqs: Any, name: str) -> None:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    try:
        sqs.purge_queue(QueueUrl=url)
    except sqs.exceptions.PurgeQueueInProgress:  # at most once a minute on AWS: delete what is visible
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


def _clear_table(stage: Stage, table: str) -> int:
    """Delete every item of ``table`` (scan the keys, delete them 25 at a time); how many."""
    dynamodb = stage.aws("dynamodb")
    keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
    names = {f"#k{i}": key for i, key in enumerate(keys)}
    deleted = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
        ConsistentRead=True,
    )
    for page in pages:
        items = page["Items"]
        for i in range(0, len(items), 25):
            pending: dict[str, Any] = {table: [{"DeleteRequest": {"Key": key}} for key in items[i : i + 25]]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        deleted += len(items)
    return deleted


def _reset_monolith(url: str, report: ResetReport) -> None:
    if _get_json(f"{url}/_admin/status", 3) is None:
        report.done.append(("monolith", f"none answers at {url}: nothing to reset"))
        return
    for fault in ("database-up", "worker-start"):
        _post(f"{url}/_admin/faults/{fault}")
    report.done.append(
        ("monolith", "database up, worker running; its ledger and broker are kept (restart it to empty them)")
    )


# -- running the beats ------------------------------------------------------------------------------


class Checks:
    """A beat's expectations: each one printed as it is checked; the failures kept for the summary."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, ok: bool, good: str, bad: str) -> bool:
        if ok:
            console.print(f"[green]✓[/] {good}")
        else:
            console.print(f"[bold red]✗ NOT AS EXPECTED: {bad}[/]")
            self.failures.append(bad)
        return ok


@dataclass(frozen=True)
class Beat:
    title: str
    does: str  # what the beat does, in one or two sentences
    look: str  # what the audience should look at
    run: Callable[[Any, Checks], None]
    prepare: Callable[[Any], None] | None = None  # called when the tour starts, for a slow start-up


@dataclass
class Outcome:
    number: int
    title: str
    failures: list[str]
    seconds: float


def _terminal(stdin: IO[str]) -> int | None:
    """The file descriptor of ``stdin`` if it is a terminal (where keys typed ahead can be discarded)."""
    try:
        return stdin.fileno() if stdin.isatty() else None
    except (AttributeError, OSError, ValueError):  # a StringIO, a closed stream
        return None


@contextlib.contextmanager
def keys_not_echoed(stdin: IO[str]) -> Iterator[None]:
    """During a beat, keys the presenter presses are not echoed (they would tear the live output)."""
    fd = _terminal(stdin)
    if fd is None:
        yield
        return
    import termios

    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def pause(next_title: str, stdin: IO[str]) -> bool:
    """Wait for Enter before the next beat; False if the presenter typed q. End of input means go on.

    On a terminal, an Enter pressed while the previous beat ran is discarded: each beat waits for its own.
    """
    fd = _terminal(stdin)
    if fd is not None:
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)
    console.print(f"\n[bold]⏎ next: {next_title}[/]  [dim](Enter · q Enter quits)[/] ", end="")
    try:
        line = stdin.readline()
    except (OSError, ValueError):  # stdin closed: nobody to wait for
        line = ""
    if not line:
        console.print()
    return line.strip().lower() not in ("q", "quit")


def run_beats(
    beats: list[Beat],
    stage: Any,
    *,
    start: int = 1,
    until: int | None = None,
    auto: bool = False,
    stdin: IO[str],
) -> list[Outcome]:
    """Run beats ``start`` to ``until`` (default: the last) against ``stage``, pausing before each
    unless ``auto``; the outcomes.

    A beat that raises (a timeout, a service that does not answer, a command that failed) fails,
    and the tour goes on: the presenter decides (q). Ctrl-C stops the tour after cleaning up.
    """
    outcomes = []
    total = len(beats)
    last = total if until is None else until
    for beat in beats[start - 1 : last]:
        if beat.prepare is not None:
            beat.prepare(stage)
    for number in range(start, last + 1):
        beat = beats[number - 1]
        if not auto and not pause(f"{number}. {beat.title}", stdin):
            console.print(f"Tour stopped before beat {number}.")
            break
        console.rule(f"[bold]{number}/{total} · {beat.title}")
        console.print(beat.does, style="dim", highlight=False)
        console.print(f"[bold cyan]Look at:[/] {beat.look}", highlight=False)
        checks = Checks()
        started = time.perf_counter()
        try:
            with keys_not_echoed(stdin):
                beat.run(stage, checks)
        except typer.Exit as stopped:  # a reused command failed: it printed why
            if stopped.exit_code:
                checks(False, "", f"a command of the beat failed (exit {stopped.exit_code}): see above")
        except Exception as error:
            checks(False, "", f"{type(error).__name__}: {error}")
        outcome = Outcome(number, beat.title, checks.failures, time.perf_counter() - started)
        if outcome.failures:
            err.print(
                f"[bold red]Beat {number} did NOT go as expected[/] ({len(outcome.failures)} problem(s))."
            )
        outcomes.append(outcome)
    else:
        if last < total:
            console.print(f"Tour stopped after beat {last} (--until {last}).")
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> bool:
    """Print the beats' results; True if every beat that ran went as expected."""
    from rich.table import Table

    table = Table(title="The tour")
    for column in ("#", "beat", "result", "s"):
        table.add_column(column, justify="right" if column in ("#", "s") else "left")
    for o in outcomes:
        result = "[green]as expected[/]" if not o.failures else f"[bold red]FAILED[/]: {o.failures[0]}"
        table.add_row(str(o.number), o.title, result, f"{o.seconds:.1f}")
    console.print(table)
    failed = [o for o in outcomes if o.failures]
    if failed:
        err.print(
            f"[bold red]{len(failed)} beat(s) did not go as expected[/]: {', '.join(str(o.number) for o in failed)}"
        )
    else:
        console.print(f"[bold green]{len(outcomes)} beat(s), all as expected[/], in {seconds:.1f} s.")
    return not failed


# -- the beats --------------------------------------------------------------------------------------


def _cmd(line: str) -> None:
    """The command a presenter would type for what the beat does next."""
    console.print(f"[dim]$ bankdemo {line}[/]", highlight=False)


def _send(api_url: str, secret: str, what: processor.Stream, check: Checks, where: str) -> None:
    from demo.cli.system import send_stream

    with BankApi(api_url, secret) as api:
        accepted, rejected = send_stream(api, what)
    check(
        accepted == len(what.deliveries) and not rejected,
        f"{where} answered 202 to all {accepted} deliveries ({what.distinct} distinct)",
        f"{where} accepted {accepted} of {len(what.deliveries)}: {rejected[:2]}",
    )


def _balances_match(what: processor.Stream, actual: dict[str, dict[str, Any] | None]) -> bool:
    from demo.cli.system import balance_table

    table, match = balance_table(what, actual)
    console.print(table)
    return match


def beat_monolith(stage: Stage, check: Checks) -> None:
    from demo.cli import monolith as monolith_cli

    a = stream(STREAM_A)
    mono = stage.monolith
    console.print(f"The monolith runs in this process: {mono.api_url}, its broker embedded, its own client.")
    _send(mono.api_url, mono.signing_secret, a, check, "the monolith")
    mono.drain(DRAIN_TIMEOUT)
    with BankApi(mono.api_url) as api:
        actual = {w: api.balance(w) for w in a.expected}
    check(_balances_match(a, actual), "every balance matches the stream", "a monolith balance does not match")
    _cmd(f"monolith status --url {mono.api_url}")
    monolith_cli.status(url=mono.api_url)


def beat_broker_restart(stage: Stage, check: Checks) -> None:
    from demo.cli import monolith as monolith_cli

    b = stream(STREAM_B)
    mono = stage.monolith
    _send(mono.api_url, mono.signing_secret, part(b, b.deliveries[:BROKER_KEEPS]), check, "the monolith")
    mono.drain(DRAIN_TIMEOUT)
    _cmd("monolith fault worker-stop   (a deploy)")
    monolith_cli.fault("worker-stop", url=mono.api_url)
    _send(mono.api_url, mono.signing_secret, part(b, b.deliveries[BROKER_KEEPS:]), check, "the monolith")
    queued = mono.monolith.broker.depth()
    console.print(f"The broker holds {queued} notification(s), accepted (202) and not applied yet.")
    _cmd("chaos broker restart")
    lost = mono.monolith.inject("broker-restart")["messages_lost"]
    console.print(f"broker restart: [bold red]{lost} queued message(s) lost[/].")
    monolith_cli.fault("worker-start", url=mono.api_url)
    mono.drain(DRAIN_TIMEOUT)
    with BankApi(mono.api_url) as api:
        actual = {w: api.balance(w) for w in b.expected}
    match = _balances_match(b, actual)
    stage.notes["monolith_lost"] = lost
    check(
        lost == len(b.deliveries) - BROKER_KEEPS and lost > 0,
        f"the restart lost the {lost} notifications the broker held: the processor got 202 for each",
        f"the broker restart lost {lost} message(s), {len(b.deliveries) - BROKER_KEEPS} expected",
    )
    check(not match, "the balances are wrong, and nothing says so", "the balances match: nothing was lost?")


def beat_serverless(stage: Stage, check: Checks) -> None:
    both = concat(stream(STREAM_A), stream(STREAM_B))
    console.print(f"Serverless: API {stage.api_url}, SQS, the worker Lambda, DynamoDB.")
    _send(stage.api_url, stage.signing_secret, both, check, "the serverless API")
    with console.status("The worker, the dispatcher and the audit writer drain their queues..."):
        stage.drain()
    check(
        _balances_match(both, stage.balances(sorted(both.expected))),
        "every balance equals the oracle",
        "a balance is off",
    )
    if "monolith_lost" in stage.notes:
        console.print(f"The monolith lost {stage.notes['monolith_lost']} of these; serverless lost none.")


def beat_duplicates(stage: Stage, check: Checks) -> None:
    from demo.resilience.scenarios import expected_webhooks

    d = stream(STREAM_D)
    twice = part(d, d.deliveries + d.deliveries[::-1])
    console.print(
        f"{len(d.deliveries)} deliveries ({d.duplicates} repeats, shuffled), then all of them again, "
        f"backwards: {len(twice.deliveries)} deliveries of {d.distinct} notifications."
    )
    before = stage.client_stats()["stats"]
    _send(stage.api_url, stage.signing_secret, twice, check, "the serverless API")
    with console.status("Draining..."):
        stage.drain()
    check(
        _balances_match(d, stage.balances(sorted(d.expected))),
        "balances equal the oracle",
        "a balance is off",
    )
    distinct = {e["webhook_id"]: e for e in d.deliveries}
    ledger = stage.ledger()
    applied = sum(1 for nid in distinct if ledger.seen_digest(nid) is not None)
    check(
        applied == len(distinct),
        f"{applied} notifications applied, each once (one 'seen' marker each, committed with its balance change)",
        f"{applied} of {len(distinct)} notifications applied",
    )
    log = stage.client_stats()
    received = {w["webhook_id"] for w in log["webhooks"]}
    wanted = {wid for e in distinct.values() for wid in expected_webhooks(e)}
    redelivered = log["stats"]["duplicates"] - before["duplicates"]
    check(
        wanted <= received and redelivered > 0,
        f"the client got the {len(wanted)} webhooks and ignored {redelivered} redeliveries (same webhook_id)",
        f"the client got {len(wanted & received)} of {len(wanted)} webhooks, {redelivered} redeliveries",
    )


def beat_client_down(stage: Stage, check: Checks) -> None:
    from demo.cli import chaos as chaos_cli
    from demo.cli.system import queue_table, redrive
    from demo.resilience.scenarios import expected_webhooks

    e = stream(STREAM_E)
    wanted = {wid for d in e.deliveries for wid in expected_webhooks(d)}
    _cmd("chaos client down")
    chaos_cli.chaos("client", "down", client_control=stage.client_control)
    try:
        _send(stage.api_url, stage.signing_secret, e, check, "the serverless API")
        with console.status(f"{len(wanted)} webhooks: retried 1 s, 2 s, 4 s later, then dead-lettered..."):
            depths = _wait_for(
                stage,
                lambda d: (
                    d["bank-webhooks-dlq"]["visible"] >= len(wanted) and not any(d["bank-webhooks"].values())
                ),
                60,
            )
        console.print(queue_table(depths))
        check(
            depths["bank-webhooks-dlq"]["visible"] == len(wanted),
            f"all {len(wanted)} webhooks wait in bank-webhooks-dlq: none lost",
            f"bank-webhooks-dlq holds {depths['bank-webhooks-dlq']['visible']}, {len(wanted)} expected",
        )
    finally:
        _cmd("chaos client up")
        chaos_cli.chaos("client", "up", client_control=stage.client_control)
    before = stage.client_stats()["stats"]["duplicates"]
    _cmd("redrive bank-webhooks")
    redrive("bank-webhooks", aws_endpoint=stage.aws_endpoint)
    with console.status("The dispatcher delivers them..."):
        depths = stage.drain()
    log = stage.client_stats()
    got = wanted & {w["webhook_id"] for w in log["webhooks"]}
    twice = log["stats"]["duplicates"] - before
    check(
        got == wanted and twice == 0 and not depths["bank-webhooks-dlq"]["visible"],
        f"the client received each of the {len(wanted)} webhooks once; the DLQ is empty",
        f"the client received {len(got)} of {len(wanted)} ({twice} twice); "
        f"{depths['bank-webhooks-dlq']['visible']} still in the DLQ",
    )


def _wait_for(
    stage: Stage, done: Callable[[dict[str, dict[str, int]]], bool], timeout: float
) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + timeout
    while not done(depths := stage.depths()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f} s: {depths}")
        time.sleep(0.1)
    return depths


def beat_dynamodb_down(stage: Stage, check: Checks) -> None:
    from demo.cli import chaos as chaos_cli
    from demo.cli.system import status

    f = stream(STREAM_F)
    _cmd("chaos dynamodb down")
    chaos_cli.chaos("dynamodb", "down", aws_endpoint=stage.aws_endpoint)
    try:
        _send(stage.api_url, stage.signing_secret, f, check, "with DynamoDB down, the API")
        with console.status("The worker meets the outage and puts the notifications back for later..."):
            depths = _wait_for(stage, lambda d: d["bank-notifications"]["delayed"] > 0, 30)
        backlog = sum(depths["bank-notifications"].values())
        _cmd("status")
        status(aws_endpoint=stage.aws_endpoint, stage=stage.stage)
        check(
            backlog > 0,
            f"the backlog waits in SQS ({backlog} notification(s)), nothing lost",
            "no backlog seen",
        )
    finally:
        _cmd("chaos dynamodb up")
        chaos_cli.chaos("dynamodb", "up", aws_endpoint=stage.aws_endpoint)
    with console.status("The worker drains the backlog..."):
        stage.drain()
    check(
        _balances_match(f, stage.balances(sorted(f.expected))),
        "drained: balances equal the oracle",
        "a balance is off",
    )


def beat_review(stage: Stage, check: Checks) -> None:
    from demo.cli import reviews as reviews_cli

    rng = random.SystemRandom()
    payload = {"wallet_id": REVIEW_WALLET, "amount": REVIEW_CENTS}
    envelope = processor.envelope(
        n.PAYIN_RECEIVED, payload, rng=rng, created_at=int(time.time()), obj="payin"
    )
    _cmd(f"payin {REVIEW_WALLET} {format_cents(REVIEW_CENTS)}")
    with stage.api() as api:
        response = api.send(envelope)
        check(
            response.status_code == 202,
            "the payin is accepted (202)",
            f"the bank answered {response.status_code}",
        )
        with console.status(
            "The ledger flags it; Step Functions records the review and waits for a decision..."
        ):
            review = _poll(lambda: _awaiting(api, envelope["webhook_id"]), 60, "a review awaiting a decision")
        _cmd("reviews --status pending")
        reviews_cli.reviews(None, status="pending", api=stage.api_url, aws_endpoint=stage.aws_endpoint)
        _cmd(f"approve {review['review_id']}")
        reviews_cli.approve(review["review_id"], reason="source of funds checked", api=stage.api_url)
        with console.status("The workflow resumes with the decision..."):
            done = _poll(lambda: _decided(api, review["review_id"]), 60, "the decision recorded")
    _cmd(f"reviews {review['review_id']}")
    reviews_cli.reviews(review["review_id"], status="all", api=stage.api_url, aws_endpoint=stage.aws_endpoint)
    check(
        done["status"] == "approved",
        "the review is approved: the workflow ran without a Lambda",
        f"status {done['status']}",
    )


def _awaiting(api: BankApi, notification_id: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in api.reviews("pending")
            if r["notification_id"] == notification_id and r["awaiting_decision"]
        ),
        None,
    )


def _decided(api: BankApi, review_id: str) -> dict[str, Any] | None:
    found = api.review(review_id)
    return found if found and found["status"] != "pending" else None


def _poll(get: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := get()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)
    return found


def beat_card(stage: Stage, check: Checks) -> None:
    from demo.localcloud.session import chalicelib_module

    rng = random.SystemRandom()
    pan, holder = processor.luhn_pan(rng), rng.choice(processor.HOLDERS)
    authorization = f"auth-{rng.getrandbits(40):010x}"
    payload = {
        "wallet_id": CARD_WALLET,
        "authorization_id": authorization,
        "amount": 2500,
        "card": {"pan": pan, "holder": holder},
        "merchant": {"name": "Cafe Lumen", "mcc": "5814"},
    }
    envelope = processor.envelope(
        n.CARD_AUTHORIZATION, payload, rng=rng, created_at=int(time.time()), obj="cardtransaction"
    )
    _cmd(f"card {CARD_WALLET} 25")
    with stage.api() as api:
        response = api.send(envelope)
    check(
        response.status_code == 202,
        "the card authorization is accepted (202)",
        f"answered {response.status_code}",
    )
    dynamodb = stage.aws("dynamodb")
    table = f"bank-ledger-{stage.stage}"
    key = {"pk": {"S": f"WALLET#{CARD_WALLET}"}, "sk": {"S": f"CARD#{authorization}"}}
    item = _poll(lambda: dynamodb.get_item(TableName=table, Key=key).get("Item"), 30, "the card in the vault")
    stage.drain()
    sealed = item["sealed"]["M"]
    console.print(f"The card's item in DynamoDB ({table}), as stored:")
    console.print(f"  pk {item['pk']['S']}  sk {item['sk']['S']}", highlight=False)
    console.print(f"  masked_pan  {item['masked_pan']['S']}   (the only card data in clear)", highlight=False)
    for name, what in (
        ("key", "the data key, encrypted by KMS"),
        ("nonce", "AES-GCM nonce"),
        ("data", "PAN + holder, AES-256-GCM"),
    ):
        value = sealed[name]["B"]
        console.print(
            f"  sealed.{name:<5} {value[:16].hex()}... ({len(value)} bytes: {what})", highlight=False
        )
    everything = repr(_scan(dynamodb, table)) + repr(_scan(dynamodb, f"bank-audit-{stage.stage}"))
    check(
        pan not in everything and holder not in everything,
        "the card number and holder appear nowhere in the ledger or audit tables",
        "the card number or holder is stored in clear",
    )
    vault = chalicelib_module("cards").KmsCardVault(
        stage.aws("kms"), dynamodb, table, _stack_output(stage, "BankKeyId")
    )
    opened = vault.reveal(CARD_WALLET, authorization)
    check(
        opened is not None and opened.pan == pan,
        "with kms:Decrypt and the wallet's encryption context, the bank opens it again",
        "the sealed card does not open to what was sent",
    )


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [i for p in dynamodb.get_paginator("scan").paginate(TableName=table) for i in p["Items"]]


def _stack_output(stage: Stage, name: str) -> str:
    from demo.localcloud.cloud import STACK_NAME

    stack = stage.aws("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == name)


def beat_storm(stage: Stage, check: Checks) -> None:
    from demo.cli.compare import scorecard_table
    from demo.resilience.compare import MonolithSystem, ServerlessSystem, compare

    count = STORM_COUNT
    if not stage.embedded:
        console.print(
            "The storm pauses the serverless worker, which only an in-process cloud allows: it runs on "
            "a local cloud of its own, started in the background when the tour began."
        )
    with console.status("The storm's local cloud is starting..."):
        cloud, client = stage.storm_cloud()
    _cmd(f"compare --scenario storm --count {count}")
    monolith = MonolithSystem()
    try:
        with console.status(
            f"Storm: {count} deliveries to both, the faults on cue, then drain and redrive..."
        ):
            result = compare("storm", count=count, systems=(monolith, ServerlessSystem(cloud, client)))
    finally:
        monolith.stop()
    console.print(scorecard_table(result))
    serverless, mono = result["scorecard"]["serverless"], result["scorecard"]["monolith"]
    check(
        not serverless["lost"]
        and serverless["applied_twice"] == 0
        and serverless["balances_equal_full_oracle"],
        "serverless lost nothing, applied nothing twice, balances = oracle",
        "the serverless side lost or doubled something: see the scorecard",
    )
    console.print(f"The monolith lost {mono['lost']} notification(s) and {mono['webhooks_lost']} webhook(s).")


def prepare_storm(stage: Stage) -> None:
    stage.prepare_storm()


BEATS = [
    Beat(
        "The monolith: notifications in, balances right",
        "The card processor sends 16 signed notifications (4 of them repeats, shuffled) to the monolith: "
        "Flask, a broker, a worker, SQLite.",
        "every wallet's balance next to the one expected from the stream.",
        beat_monolith,
    ),
    Beat(
        "Broker restart on cue: the monolith loses what it held",
        "Traffic goes on while the worker is stopped for a deploy; then the broker restarts.",
        "the processor got 202 for every notification, the broker lost the queued ones, and the balances "
        "are wrong without any error.",
        beat_broker_restart,
    ),
    Beat(
        "The same notifications, serverless",
        "The same 28 deliveries to the serverless bank: API Gateway + Lambda enqueue to SQS; the worker "
        "applies them to DynamoDB.",
        "202 for each, then every balance equal to the oracle.",
        beat_serverless,
    ),
    Beat(
        "Duplicates and out of order: applied once",
        "A stream with repeats, then the whole of it again, backwards.",
        "balances equal the oracle; each notification applied once; the client ignores redelivered webhooks.",
        beat_duplicates,
    ),
    Beat(
        "The fintech client down: webhooks wait in the DLQ, then redrive",
        "The client stops listening; the bank's webhooks are retried with backoff, then dead-lettered. "
        "The client comes back; we redrive.",
        "the DLQ holding every webhook, then each delivered exactly once.",
        beat_client_down,
    ),
    Beat(
        "DynamoDB down: the API still answers 202",
        "DynamoDB fails every call (chaos); notifications keep coming.",
        "202s, the backlog in `bankdemo status`; DynamoDB up, drained, balances right.",
        beat_dynamodb_down,
    ),
    Beat(
        "A large payin opens a compliance review",
        "15,000.00 EUR comes in; Step Functions (no Lambda inside) records a review and waits for a "
        "compliance officer.",
        "the pending review, the approval, the workflow's execution history.",
        beat_review,
    ),
    Beat(
        "Card data sealed with KMS",
        "A card authorization; the worker keeps the card with KMS envelope encryption.",
        "the item as DynamoDB stores it: a masked PAN, the rest ciphertext.",
        beat_card,
    ),
    Beat(
        "The scorecard: a small storm",
        f"The monolith and serverless get the same {STORM_COUNT} deliveries while the same faults hit both: "
        "worker stopped, queue restarted, poison messages, database down, client slow then down.",
        "lost, webhooks lost, balances = oracle, side by side.",
        beat_storm,
        prepare_storm,
    ),
]
