"""The monolith's message broker, through kombu: embedded by default, RabbitMQ with ``BROKER_URL=amqp://...``.

Both are set up the way the story's monolith was: a transient queue (not durable) and transient
messages, acknowledged by the worker after processing. The embedded broker (kombu's in-memory
transport) needs no server, and loses what is queued when it restarts, as RabbitMQ loses a
transient queue when its node restarts.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Consumer, Producer

from demo.bank.errors import BankError

log = logging.getLogger(__name__)

EMBEDDED_URL = "memory://"
QUEUE_NAME = "bank.notifications"


class Delivery(Protocol):
    """A message in hand, as the worker settles it (kombu's ``Message``)."""

    def ack(self) -> None: ...

    def requeue(self) -> None: ...


class BrokerUnavailable(BankError):
    code = "broker_unavailable"
    status = 503


def broker_url(explicit: str | None = None) -> str:
    """The broker to use: the argument, else ``BROKER_URL``, else the embedded one."""
    return explicit or os.environ.get("BROKER_URL") or EMBEDDED_URL


class Broker:
    def __init__(self, url: str | None = None) -> None:
        self.url = broker_url(url)
        self.queue = Queue(
            QUEUE_NAME,
            Exchange("bank", type="direct", durable=False),
            routing_key="notifications",
            durable=False,
        )
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self.restarts = 0

    @property
    def embedded(self) -> bool:
        return self.url.startswith("memory://")

    @property
    def display_url(self) -> str:
        if self.embedded:
            return "embedded (in-process, transient)"
        return Connection(self.url).as_uri()  # the password masked

    def _producer_connection(self) -> Connection:
        if self._connection is None:
            self._connection = Connection(self.url, connect_timeout=5)
            self._connection.ensure_connection(max_retries=1)
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken
                log.debug("closing a broken broker connection failed", exc_info=True)
            self._connection = None

    def publish(self, body: str) -> None:
        """Queue one message (transient). Raises :class:`BrokerUnavailable` if the broker is gone."""
        with self._lock:
            for attempt in (1, 2):  # a connection broken by a broker restart is reopened once
                try:
                    producer = Producer(self._producer_connection().default_channel)
                    producer.publish(
                        body,
                        exchange=self.queue.exchange,
                        routing_key=self.queue.routing_key,
                        declare=[self.queue],
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=1,
                        retry=False,
                    )
                    return
                except Exception as error:
                    self._drop_connection()
                    if attempt == 2:
                        raise BrokerUnavailable(f"cannot publish to the broker: {error}") from None

    def depth(self) -> int:
        """Messages waiting in the queue (not counting one a worker holds unacknowledged)."""
        with Connection(self.url, connect_timeout=5) as conn:
            channel = conn.channel()
            message_count: int = self.queue(channel).queue_declare().message_count
            return message_count

    def purge(self) -> int:
        """Drop what is queued (a clean start); returns how many messages were dropped."""
        with Connection(self.url, connect_timeout=5) as conn:
            return self.queue(conn.channel()).purge() or 0

    def restart(self) -> int:
        """Restart the broker, as an operator would. Returns how many queued messages were lost.

        RabbitMQ: ``rabbitmqctl stop_app`` then ``start_app`` on the node rabbitmqctl reaches
        (``RABBITMQ_NODENAME``, as .ci/run exports it): the whole node, for all its users.
        """
        lost = self.depth()
        if self.embedded:
            with Connection(self.url) as conn:
                self.queue(conn.channel()).delete()  # a transient queue does not survive a restart
        else:
            rabbitmqctl = shutil.which("rabbitmqctl")
            if rabbitmqctl is None:
                raise BrokerUnavailable("restart RabbitMQ yourself: rabbitmqctl is not on this machine")
            for action in ("stop_app", "start_app"):
                subprocess.run([rabbitmqctl, action], check=True, capture_output=True, timeout=120)  # noqa: S603
        with self._lock:
            self._drop_connection()
        self.restarts += 1
        return lost

    def consume(
        self, handle: Callable[[str, Delivery], None], stop: threading.Event, idle: float = 0.2
    ) -> None:
        """Deliver messages to ``handle(body, message)`` one at a time until ``stop`` is set.

        ``handle`` must ``message.ack()`` (done) or ``message.requeue()`` (try again later).
        A lost connection (a broker restart) is reopened.
        """
        while not stop.is_set():
            try:
                with Connection(self.url, connect_timeout=5) as conn:
                    channel = conn.channel()
                    consumer = Consumer(
                        channel,
                        queues=[self.queue],
                        on_message=lambda m: handle(_text(m.body), m),  # the raw body: we validate it
                        prefetch_count=1,  # one message at a time, acknowledged after processing
                    )
                    consumer.consume()
                    while not stop.is_set():
                        try:
                            conn.drain_events(timeout=idle)
                        except TimeoutError:
                            self._redeclare_if_deleted(channel)
            except Exception:
                if not stop.is_set():
                    log.warning("broker connection lost (%s); reconnecting", sys.exc_info()[1])
                    stop.wait(0.5)

    def _redeclare_if_deleted(self, channel: Any) -> None:
        # After an embedded restart the queue is gone: declare it again, as a worker
        # reconnecting to a restarted RabbitMQ does.
        self.queue(channel).declare()


def _text(body: Any) -> str:
    return body.decode("utf-8") if isinstance(body, bytes | bytearray) else str(body)
