"""The processor signing secret: cached, rotated with a window, re-read when a signature misses."""

from __future__ import annotations

import json
import time

import pytest
from envelopes import payin

from demo.bank import service
from demo.bank.errors import SignatureRejected
from demo.bank.memory import InMemoryQueue, StaticSecrets
from demo.bank.signature import sign
from demo.localcloud.session import chalicelib_module
from demo.parties.client import encode

secrets_module = chalicelib_module("secrets")
NAME = "/bank/unit/processor-signing-secret"


class FakeSsm:
    """The two SSM calls the secret source and the rotation make, in memory."""

    def __init__(self, current: str) -> None:
        self.values = {NAME: current}
        self.reads = 0
        self.writes: list[str] = []

    def get_parameters(self, Names, WithDecryption):
        self.reads += 1
        return {"Parameters": [{"Name": n, "Value": self.values[n]} for n in Names if n in self.values]}

    def get_parameter(self, Name, WithDecryption):
        return {"Parameter": {"Name": Name, "Value": self.values[Name]}}

    def put_parameter(self, Name, Value, **_):
        self.writes.append(Name)
        self.values[Name] = Value


def source(ssm, now=lambda: 1_000.0, **options):
    return secrets_module.SsmSigningSecret(ssm, NAME, clock=now, **options)


def test_the_secret_is_cached_for_its_ttl():
    ssm = FakeSsm("s1")
    secrets = source(ssm, ttl_seconds=60)
    assert secrets.signing_secrets() == ["s1"] and secrets.signing_secrets() == ["s1"]
    assert ssm.reads == 1


def test_a_rotation_keeps_the_previous_secret_for_its_window_only():
    ssm = FakeSsm("s1")
    rotated = secrets_module.rotate(ssm, NAME, "key", window_seconds=600, now=1_000.0)
    assert ssm.writes == [NAME + "-previous", NAME]  # the previous first: a reader in between has both
    assert json.loads(ssm.values[NAME + "-previous"]) == {"secret": "s1", "accepted_until": 1_600.0}
    clock = [1_000.0]
    secrets = source(ssm, now=lambda: clock[0], ttl_seconds=3600)
    assert secrets.signing_secrets() == [rotated["secret"], "s1"]
    clock[0] = 1_600.5  # the window is over: even a cached previous secret is no longer accepted
    assert secrets.signing_secrets() == [rotated["secret"]]


def test_a_negative_window_is_refused():
    with pytest.raises(ValueError):
        secrets_module.rotate(FakeSsm("s1"), NAME, "key", window_seconds=-1)


def test_a_refresh_rereads_at_most_once_per_interval():
    ssm = FakeSsm("s1")
    secrets = source(ssm, ttl_seconds=3600, min_refresh_seconds=30)
    secrets.signing_secrets()
    assert secrets.refresh() is True and ssm.reads == 2  # the first miss re-reads at once
    assert (
        secrets.refresh() is False and ssm.reads == 2
    )  # the next ones wait: forged requests cannot hammer SSM
    secrets._refreshed_at -= 31
    assert secrets.refresh() is True and ssm.reads == 3


def test_a_missing_parameter_says_which():
    ssm = FakeSsm("s1")
    del ssm.values[NAME]
    with pytest.raises(RuntimeError, match=NAME):
        source(ssm).signing_secrets()


def test_the_ingress_accepts_a_just_rotated_secret_despite_its_cache():
    ssm = FakeSsm("old")
    secrets = source(ssm, now=time.time, ttl_seconds=3600, min_refresh_seconds=0)
    secrets.signing_secrets()  # cached: ["old"]
    new = secrets_module.rotate(ssm, NAME, "key", window_seconds=60)["secret"]
    body = encode(payin("w-1", 100))
    queue = InMemoryQueue()
    service.receive(body, sign(new, body, int(time.time())), secrets=secrets, queue=queue, now=time.time())
    service.receive(body, sign("old", body, int(time.time())), secrets=secrets, queue=queue, now=time.time())
    assert len(queue.items) == 2


def test_a_source_that_cannot_refresh_still_refuses():
    body = encode(payin("w-1", 100))
    with pytest.raises(SignatureRejected):
        service.receive(
            body,
            sign("other", body, int(time.time())),
            secrets=StaticSecrets("s1"),
            queue=InMemoryQueue(),
            now=time.time(),
        )


def test_a_stale_or_malformed_signature_does_not_use_up_the_refresh():
    ssm = FakeSsm("s1")
    secrets = source(ssm, now=time.time, ttl_seconds=3600, min_refresh_seconds=30)
    body = encode(payin("w-1", 100))
    for header in (None, "garbage", sign("s1", body, int(time.time()) - 3600)):
        with pytest.raises(SignatureRejected):
            service.receive(body, header, secrets=secrets, queue=InMemoryQueue(), now=time.time())
    assert ssm.reads == 1  # only the first, cached read: no refresh was spent on them
