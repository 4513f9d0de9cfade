"""Lambda's SQS event source mapping, reproduced: one poller per ``@app.on_sqs_message`` handler.

moto's own SQS-to-Lambda mapping is synchronous and ignores ``batchItemFailures``, so we poll
the queue ourselves and keep Lambda's semantics:

- short-poll (the local cloud serves one request at a time, so a long poll would block it),
  then receive up to ``batch_size`` messages, build the Lambda SQS event, invoke the Chalice handler;
- while a queue is empty, sleep until a message may be there: the local cloud's SQS notifies the
  queue's :class:`Wakeup` when a message is added (or is due to become visible), which is what a
  long poll gives Lambda. Idle pollers then cost next to nothing (it was 15% of a core per cloud);
- delete only the messages that succeeded: the handler's ``batchItemFailures`` stay in the queue;
- if the handler raises (or names an unknown id), the whole batch stays;
- what stays becomes visible again after the queue's visibility timeout, and the queue's redrive
  policy (``maxReceiveCount``) moves a poison message to its dead-letter queue.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext:
    """The parts of Lambda's context object that handlers read."""

    def __init__(self, function_name: str, timeout_ms: int = 60_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


class Wakeup:
    """What idle pollers wait on: woken now (a message was sent) or at a time (one becomes visible).

    Each wake-up bumps a generation number. A poller reads it before it polls and waits for a
    newer one, so a message sent during its poll is not missed. One message wakes one poller
    (``wake_all=False``): each wake-up is a ticket that one waiting poller takes, or the next one
    to wait if none is waiting; a poller whose poll began before the wake-up waits on unless a
    ticket is left, since another poller takes the message. No more tickets are kept than there
    are pollers (:meth:`serves`): a queue's pollers never poll more than once each for what came
    while they were busy. ``wake_all=True`` wakes every waiter at every wake-up.
    """

    def __init__(self, *, wake_all: bool = False) -> None:
        self._condition = threading.Condition()
        self._generation = 0
        self._broadcast = 0  # the generation of the last notify_all
        self._tickets = 0
        self._most_tickets = 1
        self._due: list[float] = []  # monotonic times of scheduled wake-ups (a heap)
        self._wake_all = wake_all

    def serves(self, pollers: int) -> None:
        """How many pollers wait on this wake-up (tickets kept at most)."""
        with self._condition:
            self._most_tickets = max(1, pollers)

    @property
    def generation(self) -> int:
        with self._condition:
            return self._generation

    def notify(self, after: float = 0.0) -> None:
        """Wake a waiting poller now, or ``after`` seconds from now."""
        with self._condition:
            if after > 0:
                heapq.heappush(self._due, time.monotonic() + after)
                self._condition.notify_all()  # waiters recompute their deadline
            else:
                self._wake()

    def _wake(self) -> None:
        self._generation += 1
        self._tickets = min(self._tickets + 1, self._most_tickets)
        if self._wake_all:
            self._condition.notify_all()
        else:
            self._condition.notify()

    def notify_all(self) -> None:
        """Wake every waiting poller now (to stop them, or a fault was mended)."""
        with self._condition:
            self._generation += 1
            self._broadcast = self._generation
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until woken after generation ``seen``, or ``timeout`` passes; the generation
        (``seen`` if it timed out)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                now = time.monotonic()
                while self._due and self._due[0] <= now:
                    heapq.heappop(self._due)
                    self._wake()
                if self._generation != seen:
                    if self._wake_all or self._broadcast > seen:
                        return self._generation
                    if self._tickets > 0:
                        self._tickets -= 1
                        return self._generation
                if now >= deadline:
                    return seen
                self._condition.wait(min(deadline, self._due[0] if self._due else deadline) - now)


class Wakeups:
    """A :class:`Wakeup` per queue: a message for one queue wakes that queue's pollers only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._of: dict[str, Wakeup] = {}

    def of(self, queue_name: str) -> Wakeup:
        with self._lock:
            return self._of.setdefault(queue_name, Wakeup())

    def notify_all(self) -> None:
        """Wake every poller of every queue (a fault was mended: a poll may succeed again)."""
        with self._lock:
            wakeups = list(self._of.values())
        for wakeup in wakeups:
            wakeup.notify_all()

    def notify(self, queue_name: str, after: float = 0.0) -> None:
        """Wake the pollers of ``queue_name`` (if it has any) now, or ``after`` seconds from now."""
        with self._lock:
            wakeup = self._of.get(queue_name)
        if wakeup is not None:
            wakeup.notify(after + 0.05 if after > 0 else 0.0)


class Queue(Protocol):
    """The queue a poller reads, as Lambda's event source mapping reads it."""

    def receive(self, max_messages: int) -> list[dict[str, Any]]:
        """Up to ``max_messages`` messages (a short poll), shaped as ReceiveMessage returns them."""
        ...

    def delete(self, receipt_handles: list[str]) -> None:
        """Delete the messages the function processed."""
        ...


class ClientQueue:
    """A :class:`Queue` read through a boto3 SQS client (any endpoint)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def receive(self, max_messages: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def delete(self, receipt_handles: list[str]) -> None:
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(receipt_handles)],
        )


class SqsPoller:
    """Polls one queue and drives one handler with it, in ``concurrency`` threads."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 10,
        concurrency: int = 2,
        region: str = "eu-west-1",
        *,
        wakeup: Wakeup | None = None,
        visibility_timeout: float | None = None,
        activity: Wakeup | None = None,
        queue: Queue | None = None,
    ) -> None:
        self.queue = queue or ClientQueue(sqs, queue_url)
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = min(batch_size, 10)  # SQS returns at most 10 per receive
        self.region = region
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._busy = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"poller-{function_name}-{i}", daemon=True)
            for i in range(concurrency)
        ]
        self.invocations = 0
        # Seconds to wait after an empty short poll, doubled while idle up to the maximum. With
        # the local cloud's wake-ups this is only a safety net; on its own, a poller must poll
        # often, and not so often as to crowd the one-request-at-a-time moto.
        self.idle_wait = 0.05 if wakeup is None else 2.0
        self.max_idle_wait = 0.4 if wakeup is None else 2.0
        self.idle_wait_after_failure = 0.1  # then doubled up to 2 s while SQS fails
        self.wakeup = wakeup or Wakeup()
        self.wakeup.serves(concurrency)
        self.activity = activity or Wakeup(wake_all=True)  # told when a poll starts and ends
        self.visibility_timeout = visibility_timeout  # the queue's: when a failed record is back
        self.failed_records = 0
        self.polls = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()
        self.wakeup.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def pause(self) -> None:
        """Stop receiving. A poll already under way finishes: :attr:`busy` says when."""
        with self._lock:
            self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    @property
    def busy(self) -> bool:
        """Whether a poll (receive, handler, delete) is under way."""
        with self._lock:
            return self._busy > 0

    def _run(self) -> None:
        idle = self.idle_wait
        failing = self.idle_wait_after_failure
        while not self._stop.is_set():
            self._resume.wait()
            with self._lock:  # the check and the count together: after pause(), busy is exact
                if not self._resume.is_set() or self._stop.is_set():
                    continue
                self._busy += 1
            self.activity.notify()
            seen = self.wakeup.generation
            try:
                received = self.poll_once()
            except Exception as error:  # SQS is down (bankdemo chaos), or the endpoint went away
                received = -1
                if not self._stop.is_set():
                    log.warning("poller %s failed to poll: %s", self.function_name, error)
            finally:
                with self._lock:
                    self._busy -= 1
                self.activity.notify()
            if received >= 0:
                failing = self.idle_wait_after_failure
            if received >= self.batch_size:
                idle = self.idle_wait  # a full batch: more may be waiting, poll again now
            elif received >= 0:
                if received > 0:
                    idle = self.idle_wait
                # Poll again once a message may be there: at once if one came during this poll.
                if self.wakeup.wait(seen, idle) == seen:
                    idle = min(idle * 2, self.max_idle_wait)
            else:  # SQS failed: again when a fault is mended (the cloud wakes us), or after a backoff
                self.wakeup.wait(seen, failing)
                failing = min(failing * 2, 2.0)

    def poll_once(self) -> int:
        """Receive one batch, invoke the handler, delete the successes. Returns the batch size."""
        self.polls += 1
        messages = self.queue.receive(self.batch_size)
        if messages:
            self._invoke(messages)
        return len(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        ids = {m["MessageId"] for m in messages}
        self.invocations += 1
        try:
            result = self.handler(event, LambdaContext(self.function_name))
        except Exception:
            log.exception("handler %s raised: the whole batch will be retried", self.function_name)
            self._retry_later(len(messages))
            return
        failed = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])}
        if not failed <= ids:
            log.error("handler %s reported unknown ids %s: batch retried", self.function_name, failed - ids)
            self._retry_later(len(messages))
            return
        if failed:
            self._retry_later(len(failed))
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.queue.delete([m["ReceiptHandle"] for m in done])

    def _retry_later(self, records: int) -> None:
        """Records left in the queue come back after its visibility timeout: be awake then."""
        self.failed_records += records
        if self.visibility_timeout is not None:
            self.wakeup.notify(after=self.visibility_timeout + 0.05)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "dataType": value.get("DataType"),
                    "stringListValues": [],
                    "binaryListValues": [],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
