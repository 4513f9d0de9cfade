"""Idle pollers sleep, and the local cloud wakes them when a message may be there.

Each poller here waits up to 60 s between two empty polls (the local cloud's own wait up to 2 s):
a message handled within seconds proves the wake-up, not the timer, brought it.
"""

from __future__ import annotations

import uuid

import pytest
from polling import poll_until

from demo.localcloud.pollers import SqsPoller

SLEEPY = 60.0


@pytest.fixture
def queue(cloud):
    sqs = cloud.client("sqs")
    name = f"wakeup-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def sleepy_poller(cloud, sqs, url, handler, visibility_timeout=None) -> SqsPoller:
    poller = SqsPoller(
        sqs,
        url,
        "arn:aws:sqs:eu-west-1:123456789012:wakeup",
        handler,
        "wakeup-test",
        concurrency=1,
        wakeup=cloud.wakeups.of(url.rsplit("/", 1)[-1]),
        visibility_timeout=visibility_timeout,
    )
    poller.idle_wait = poller.max_idle_wait = SLEEPY
    poller.start()
    poll_until(lambda: poller.polls >= 1, timeout=10, interval=0.02)  # it polled the empty queue: asleep
    return poller


def test_a_message_sent_wakes_the_idle_poller(cloud, queue):
    sqs, url = queue
    bodies: list[str] = []
    poller = sleepy_poller(
        cloud, sqs, url, lambda event, _: bodies.extend(r["body"] for r in event["Records"])
    )
    try:
        sqs.send_message(QueueUrl=url, MessageBody="now")
        sqs.send_message(QueueUrl=url, MessageBody="in a second", DelaySeconds=1)
        poll_until(lambda: bodies == ["now", "in a second"], timeout=15, interval=0.05)
    finally:
        poller.stop()


def test_a_failed_record_is_retried_when_it_is_visible_again(cloud, queue):
    """Back after the visibility the handler set (ChangeMessageVisibility), or after the queue's."""
    sqs, url = queue
    seen: list[str] = []

    def fail_first_times(event, _):
        failures = []
        for record in event["Records"]:
            seen.append(record["body"])
            if seen.count(record["body"]) == 1:
                failures.append({"itemIdentifier": record["messageId"]})
                if record["body"] == "backoff":  # the webhook dispatcher's way: a backoff of its own
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=1
                    )
        return {"batchItemFailures": failures}

    poller = sleepy_poller(cloud, sqs, url, fail_first_times)
    try:
        sqs.send_message(QueueUrl=url, MessageBody="backoff")
        poll_until(lambda: seen.count("backoff") == 2, timeout=15, interval=0.05)
    finally:
        poller.stop()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    poller = sleepy_poller(cloud, sqs, url, fail_first_times, visibility_timeout=1)
    try:
        sqs.send_message(QueueUrl=url, MessageBody="plain failure")
        poll_until(lambda: seen.count("plain failure") == 2, timeout=15, interval=0.05)
    finally:
        poller.stop()


def test_stopping_an_idle_poller_does_not_wait_for_its_timer(cloud, queue):
    sqs, url = queue
    poller = sleepy_poller(cloud, sqs, url, lambda event, _: None)
    poller.stop()
    assert not any(thread.is_alive() for thread in poller._threads)


def test_the_pollers_host_switches_threads_every_20_ms_while_the_cloud_runs(cloud):
    # a dozen pollers and the API's threads in one process: Python's default 5 ms forced switches
    # cost a tenth of the CPU in a flood (demo/localcloud/wire.py says why 20 ms)
    import sys

    from demo.localcloud.wire import GIL_SWITCH_SECONDS

    assert GIL_SWITCH_SECONDS == 0.02
    assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_SECONDS)
