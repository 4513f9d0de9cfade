"""``bankdemo compare``: the same seeded stream and the same fault schedule, thrown at both systems.

Both systems run at once in this process, each with its own fintech client, fed by its own
processor thread at the same pace. A processor delivers each notification once and retries a
refusal (5xx, or no answer) three times, half a second apart, then gives up, as card processors
do within a card authorization's time budget. When the stream is sent and every fault mended,
each system drains; the serverless side then redrives its dead-letter queues and drains again.
The facts of each run (``scenarios.Run``) are then scored against the stream's oracle.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from demo.parties import processor
from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient, Mode
from demo.resilience.scenarios import (
    MENDS,
    SCENARIOS,
    Run,
    Scenario,
    Step,
    delivered_by_all,
    latency_ms,
    poison_body,
    score,
)

if TYPE_CHECKING:
    from types_boto3_sqs.literals import QueueAttributeNameType

    from chalicelib.ledger_table import DynamoDBLedger
    from demo.localcloud.cloud import LocalCloud
    from demo.localcloud.pollers import SqsPoller

RETRIES = 3  # a refused delivery is tried 4 times in all...
RETRY_PAUSE = 0.5  # ...half a second apart
SAMPLES = 600  # backlog readings per run, at most every 0.25 s (each one is a request to the system)
BACKLOG_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class System(Protocol):
    name: str
    client: FintechClient

    @property
    def api_url(self) -> str: ...
    @property
    def signing_secret(self) -> str: ...
    def act(self, step: Step, run: Run) -> None: ...
    def backlog(self) -> int | None: ...
    def drain(self, timeout: float) -> None: ...
    def redrive(self, run: Run, timeout: float) -> None: ...
    def applied(self, ids: list[str]) -> set[str]: ...
    def balances(self, wallets: list[str]) -> dict[str, tuple[int, int] | None]: ...
    def stop(self) -> None: ...


def _client_act(client: FintechClient, step: Step) -> bool:
    if step.action == "client-down":
        client.set_mode(Mode.DOWN)
    elif step.action == "client-slow":
        client.set_mode(Mode.SLOW, step.value)
    elif step.action == "client-up":
        client.set_mode(Mode.UP)
    else:
        return False
    return True


def _until_done(call: Callable[[], Any], timeout: float = 30.0) -> Any:
    """``call()``, retried every half second while it raises, for ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _poll(done: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:  # twice in a row: a message between two reads is not missed
        quiet = quiet + 1 if done() else 0
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not drained after {timeout} s")
        time.sleep(interval)


class MonolithSystem:
    """The monolith (embedded broker unless BROKER_URL says otherwise) and its own client."""

    name = "monolith"

    def __init__(self) -> None:
        from demo.monolith.app import Monolith  # what demo.monolith's Monolith loads

        self.client = FintechClient(port=0, control_port=0).start()
        self.monolith = Monolith(port=0, client_url=self.client.webhook_url, client_timeout=2.0).start()
        self.monolith.broker.purge()

    @property
    def api_url(self) -> str:
        return self.monolith.url

    @property
    def signing_secret(self) -> str:
        return self.monolith.signing_secret

    def stop(self) -> None:
        self.monolith.stop()
        self.client.stop()

    def act(self, step: Step, run: Run) -> None:
        if _client_act(self.client, step):
            return
        if step.action == "queue-restart":
            run.broker_messages_lost += self.monolith.inject("broker-restart")["messages_lost"]
        elif step.action == "poison":
            for i in range(int(step.value)):
                self.monolith.broker.publish(poison_body(run.poison_sent + i))
        else:  # database-down/up, worker-stop/start: the monolith's own faults
            self.monolith.inject(step.action)

    def backlog(self) -> int | None:
        try:
            return self.monolith.broker.depth() + int(self.monolith.worker.busy)
        except Exception:
            return None

    def drain(self, timeout: float) -> None:
        _poll(lambda: self.backlog() == 0, timeout, "the monolith's broker")

    def redrive(self, run: Run, timeout: float) -> None:
        """No dead-letter queue: what failed was dropped (poison) or lost (webhooks)."""

    def applied(self, ids: list[str]) -> set[str]:
        return {nid for nid in ids if self.monolith.ledger.seen_digest(nid) is not None}

    def balances(self, wallets: list[str]) -> dict[str, tuple[int, int] | None]:
        found = {w: self.monolith.ledger.balance(w) for w in wallets}
        return {w: None if b is None else (b.current_balance, b.authorizations) for w, b in found.items()}


class ServerlessSystem:
    """The Chalice app on the local cloud. Pass a running cloud and its client to reuse them."""

    name = "serverless"

    def __init__(self, cloud: LocalCloud | None = None, client: FintechClient | None = None) -> None:
        from demo.localcloud.cloud import LocalCloud  # what demo.localcloud's LocalCloud loads

        self._owned = cloud is None
        self.client = client or FintechClient(port=0, control_port=0).start()
        self.cloud = cloud or LocalCloud(aws_port=0, api_port=0, client_url=self.client.webhook_url).start()
        self.cloud.faults.reset()
        self.sqs = self.cloud.client("sqs")
        self._restored: threading.Timer | None = None
        self._queue_url: str | None = None
        for name in self.cloud.queue_depths():  # dead letters of an earlier run are not this run's
            if name.endswith("-dlq"):
                self._empty(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def _empty(self, url: str) -> None:
        """Delete what a queue holds (PurgeQueue may run once a minute only)."""
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    @property
    def api_url(self) -> str:
        return self.cloud.api_url

    @property
    def signing_secret(self) -> str:
        return self.cloud.signing_secret

    def stop(self) -> None:
        if self._owned:
            self.cloud.stop()
            self.client.stop()

    def _worker(self) -> SqsPoller:
        return next(p for p in self.cloud.pollers if p.queue_url.endswith("/bank-notifications"))

    def act(self, step: Step, run: Run) -> None:
        if _client_act(self.client, step):
            return
        faults = self.cloud.faults
        if step.action == "database-down":
            faults.set("dynamodb", "down")
        elif step.action == "database-up":
            faults.set("dynamodb", "up")
        elif step.action == "worker-stop":
            self._worker().pause()
        elif step.action == "worker-start":
            self._worker().resume()
        elif step.action == "queue-restart":  # a managed queue keeps what it holds: a second of 503s
            faults.set("sqs", "down")
            self._restored = threading.Timer(1.0, faults.set, ("sqs", "up"))
            self._restored.start()
        elif step.action == "poison":  # the buggy producer retries until SQS takes them
            bodies = [poison_body(run.poison_sent + i) for i in range(int(step.value))]
            for body in bodies:
                _until_done(functools.partial(self._send_poison, body))

    def _send_poison(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self._notifications_url(), MessageBody=body)

    def _notifications_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self.sqs.get_queue_url(QueueName="bank-notifications")["QueueUrl"]
        return self._queue_url

    def backlog(self) -> int | None:
        try:
            url = self._notifications_url()
            found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except Exception:  # SQS is down: no reading
            return None
        return sum(int(found.get(a, 0)) for a in BACKLOG_ATTRIBUTES)

    def _dead_letters(self) -> int:
        depths = self.cloud.queue_depths()
        return sum(d["visible"] + d["in_flight"] for q, d in depths.items() if q.endswith("-dlq"))

    def drain(self, timeout: float) -> None:
        if self._restored is not None:
            self._restored.join()
        self.cloud.wait_until_drained(timeout=timeout)

    def redrive(self, run: Run, timeout: float) -> None:
        from demo.aws.queues import redrive

        run.dead_letters_before_redrive = self._dead_letters()
        for name, depth in sorted(self.cloud.queue_depths().items()):
            if name.endswith("-dlq") and depth["visible"]:
                run.redriven += redrive(self.sqs, name.removesuffix("-dlq"), use_move_task=False)
        self.cloud.wait_until_drained(timeout=timeout)
        run.dead_letters_after_redrive = self._dead_letters()
        depth = self.cloud.queue_depths()["bank-notifications-dlq"]
        run.poison_kept = min(run.poison_sent, depth["visible"] + depth["in_flight"])

    def _ledger(self) -> DynamoDBLedger:
        from chalicelib.ledger_table import DynamoDBLedger

        return DynamoDBLedger(self.cloud.client("dynamodb"), f"bank-ledger-{self.cloud.stage}")

    def applied(self, ids: list[str]) -> set[str]:
        ledger = self._ledger()
        return {nid for nid in ids if ledger.seen_digest(nid) is not None}

    def balances(self, wallets: list[str]) -> dict[str, tuple[int, int] | None]:
        ledger = self._ledger()
        found = {w: ledger.balance(w) for w in wallets}
        return {w: None if b is None else (b.current_balance, b.authorizations) for w, b in found.items()}


def _sample(system: System, run: Run, active: dict[str, str], stop: threading.Event, every: float) -> None:
    """Read the backlog every ``every`` seconds; each reading names the faults that were on at any
    moment since the previous one (a reading can take longer than a short outage on a busy cloud)."""
    while not stop.is_set():
        t = round(time.monotonic() - run.started_at, 2)
        backlog = system.backlog()
        seen = set(active.values())
        while run.faults_seen:  # pop and append are atomic: a fault switched on meanwhile stays for the next
            seen.add(run.faults_seen.pop())
        run.timeline.append({"t": t, "backlog": backlog, "faults": sorted(seen)})
        stop.wait(every)


def run_scenario(
    system: System, scenario: Scenario, stream: processor.Stream, rate: float, timeout: float = 600.0
) -> Run:
    """Send ``stream`` to ``system`` at ``rate`` deliveries/s with the scenario's faults; collect the facts.

    The faults follow the clock (a step at 0.5 happens halfway through the planned send time),
    whatever the system answers; a refused delivery is retried later without holding up the
    deliveries behind it, so both systems see the same traffic for the same time.
    """
    run = Run(system.name)
    system.client.reset()
    active: dict[str, str] = {}
    stop_sampling = threading.Event()
    duration = len(stream.deliveries) / rate
    run.started_at = time.monotonic()
    every = max(0.25, duration / SAMPLES)
    sampler = threading.Thread(target=_sample, args=(system, run, active, stop_sampling, every), daemon=True)
    schedule = threading.Thread(target=_schedule, args=(system, scenario, run, active, duration), daemon=True)
    sampler.start()
    schedule.start()
    try:
        _send(system, stream, rate, run)
        schedule.join()
        if run.schedule_error is not None:
            raise RuntimeError(f"a fault of the schedule could not be applied: {run.schedule_error}")
        system.drain(timeout)
        system.redrive(run, timeout)
        run.drain_seconds = time.monotonic() - run.started_at
    finally:
        stop_sampling.set()
        sampler.join()
        schedule.join()
    ids = list(dict.fromkeys(e["webhook_id"] for e in stream.deliveries))
    run.applied = system.applied(ids)
    run.balances = system.balances(sorted(stream.expected))
    log = system.client.log()
    run.webhooks = {w["webhook_id"]: w["received_monotonic"] for w in log["webhooks"]}
    run.webhook_duplicates = log["stats"]["duplicates"]
    return run


def _send(system: System, stream: processor.Stream, rate: float, run: Run) -> None:
    """The processor: each delivery at its time; a refusal retried RETRY_PAUSE later, RETRIES times."""
    due = [(i / rate, i, 0) for i in range(len(stream.deliveries))]  # (when, which, attempt)
    heapq.heapify(due)
    with BankApi(system.api_url, system.signing_secret, timeout=5.0) as api:
        while due:
            when, i, attempt = heapq.heappop(due)
            pause = run.started_at + when - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            envelope = stream.deliveries[i]
            sent_at = time.monotonic()  # latency counts from the send: a webhook can beat the 202 back
            try:
                accepted = api.send(envelope).status_code == 202
            except Exception:  # no answer: the connection was refused or timed out
                accepted = False
            if accepted:
                run.accepted += 1
                run.accepted_at.setdefault(envelope["webhook_id"], sent_at)
            elif attempt < RETRIES:
                heapq.heappush(due, (time.monotonic() - run.started_at + RETRY_PAUSE, i, attempt + 1))
                continue
            else:
                run.gave_up += 1
            run.sent += 1


def _schedule(system: System, scenario: Scenario, run: Run, active: dict[str, str], duration: float) -> None:
    try:
        for step in sorted(scenario.steps, key=lambda s: s.at):
            pause = run.started_at + step.at * duration - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            _fire(system, step, run, active)
    except BaseException as error:  # the run fails with it (run_scenario re-raises)
        run.schedule_error = error


def _fire(system: System, step: Step, run: Run, active: dict[str, str]) -> None:
    system.act(step, run)
    if step.action == "poison":
        run.poison_sent += int(step.value)
    component = step.action.split("-", 1)[0]  # database, worker, client (queue-restart is instant)
    if component in ("database", "worker", "client"):
        active.pop(component, None)
        if step.action in MENDS:  # a fault, not its mend
            active[component] = step.describe()
            run.faults_seen.append(step.describe())
    run.timeline.append({"t": round(time.monotonic() - run.started_at, 2), "event": step.describe()})


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """The runs fail on purpose: keep their expected warnings and tracebacks out of the output."""
    names = (
        "bank",
        "demo",
        "demo.monolith.worker",
        "demo.monolith.broker",
        "demo.localcloud.pollers",
        "kombu",
    )
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def scenario_stream(name: str, *, count: int, seed: int, wallets: int = 4) -> processor.Stream:
    """The scenario's stream: its own wallets and notification ids, so that runs on one cloud never meet."""
    return processor.generate(
        count,
        seed=zlib.crc32(name.encode()) ^ seed,
        wallets=wallets,
        duplicates=SCENARIOS[name].duplicates,
        wallet_prefix=f"{name}-{seed}-w",
    )


def compare(
    name: str,
    *,
    count: int = 60,
    seed: int = 42,
    wallets: int = 4,
    rate: float = 6.0,
    systems: tuple[System, ...] | None = None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Run scenario ``name`` against both systems at once; the scorecard and the timelines, as JSON data."""
    scenario = SCENARIOS[name]
    stream = scenario_stream(name, count=count, seed=seed, wallets=wallets)
    owned = systems is None
    if systems is None:
        systems = (MonolithSystem(), ServerlessSystem())
    runs: dict[str, Run] = {}
    errors: list[BaseException] = []

    def one(system: System) -> None:
        try:
            runs[system.name] = run_scenario(system, scenario, stream, rate, timeout)
        except BaseException as error:
            errors.append(error)

    try:
        with quiet_logs():
            threads = [threading.Thread(target=one, args=(s,), name=f"compare-{s.name}") for s in systems]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        if owned:
            for system in systems:
                system.stop()
    if errors:
        raise errors[0]
    return {
        "scenario": name,
        "summary": scenario.summary,
        "monolith_loss": scenario.monolith_loss,
        "steps": [{"at": s.at, "step": s.describe()} for s in scenario.steps],
        "seed": seed,
        "count": count,
        "rate": rate,
        "scorecard": _scorecards(runs, stream),
        "timeline": {n: r.timeline for n, r in runs.items()},
        "latencies": {n: _latency_points(r) for n, r in runs.items()},
    }


def _scorecards(runs: dict[str, Run], stream: processor.Stream) -> dict[str, dict[str, Any]]:
    """Each system's scorecard; its latencies also taken over what every system delivered, the
    only notifications whose latencies compare (a system that lost one has no latency for it)."""
    both = delivered_by_all(list(runs.values()))
    cards = {name: score(run, stream) for name, run in runs.items()}
    for name, run in runs.items():
        cards[name]["latency_both_ms"] = latency_ms(run, only=both)
    return cards


def _latency_points(run: Run) -> list[tuple[float, float]]:
    """(sent at, ms from that send to the balance webhook) per accepted notification, for the plot."""
    from demo.bank.events import BALANCE_UPDATED, event_id

    points = []
    for nid, accepted in run.accepted_at.items():
        received = run.webhooks.get(event_id(nid, BALANCE_UPDATED))
        if received is not None:
            points.append((round(accepted - run.started_at, 2), round((received - accepted) * 1000, 1)))
    return sorted(points)
