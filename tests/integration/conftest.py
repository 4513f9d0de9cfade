"""One embedded local cloud for the whole integration session (it takes seconds to start)."""

from __future__ import annotations

import uuid

import pytest

from demo.localcloud import LocalCloud
from demo.parties.client import BankApi
from demo.parties.fintech import FintechClient


@pytest.fixture(scope="session")
def fintech():
    """The fintech client the local cloud's webhooks go to."""
    with FintechClient(port=0, control_port=0) as running:
        yield running


@pytest.fixture(scope="session")
def cloud(fintech):
    with LocalCloud(aws_port=0, api_port=0, client_url=fintech.webhook_url) as running:
        yield running


@pytest.fixture
def api(cloud):
    with BankApi(cloud.api_url, cloud.signing_secret) as client:
        yield client


@pytest.fixture
def wallet():
    """A wallet id no other test uses."""
    return f"w-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sqs(cloud):
    return cloud.client("sqs")


@pytest.fixture
def dlq_url(cloud, sqs):
    return sqs.get_queue_url(QueueName="bank-notifications-dlq")["QueueUrl"]


@pytest.fixture
def queue_url(cloud, sqs):
    return sqs.get_queue_url(QueueName="bank-notifications")["QueueUrl"]


@pytest.fixture
def systems(cloud, fintech):
    """Both systems of the scenarios: a fresh monolith, and serverless on this worker's local cloud."""
    from demo.parties.fintech import Mode
    from demo.resilience.compare import MonolithSystem, ServerlessSystem

    monolith = MonolithSystem()
    serverless = ServerlessSystem(cloud, fintech)
    yield monolith, serverless
    monolith.stop()
    cloud.faults.reset()
    fintech.set_mode(Mode.UP)
    for poller in cloud.pollers:
        poller.resume()
