"""The local cloud's faults on cue: which requests they hit, how they fail, and their control endpoint."""

from __future__ import annotations

import io
import json

import pytest

from demo.localcloud import chaos
from demo.localcloud.chaos import ChaosError, ChaosMiddleware, Fault, Faults, parse_fault


class FakeMoto:
    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [b"{}"]


def call(app, path="/", method="POST", target=None, body=b""):
    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if target:
        environ["HTTP_X_AMZ_TARGET"] = target
    answer = {}

    def start_response(status, headers):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    answer["body"] = json.loads(b"".join(app(environ, start_response)) or b"null")
    return answer


@pytest.fixture
def moto():
    return FakeMoto()


@pytest.fixture
def faults():
    return Faults(seed=7)


@pytest.fixture
def app(moto, faults):
    return ChaosMiddleware(moto, faults)


@pytest.mark.parametrize(
    ("target", "service"),
    [
        ("DynamoDB_20120810.GetItem", "dynamodb"),
        ("AmazonSQS.ReceiveMessage", "sqs"),
        ("AWSEvents.PutEvents", "events"),
        ("TrentService.GenerateDataKey", "kms"),
        ("AmazonSSM.GetParameter", "ssm"),
        ("AWSStepFunctions.StartExecution", "stepfunctions"),
    ],
)
def test_down_fails_every_call_of_that_service_as_an_aws_outage_and_only_that_service(
    app, moto, faults, target, service
):
    faults.set(service, "down")
    answer = call(app, target=target)
    assert answer["status"] == 503
    assert answer["body"]["__type"] == "ServiceUnavailable"
    assert answer["headers"]["Content-Type"] == "application/x-amz-json-1.0"
    assert "x-amzn-RequestId" in answer["headers"]
    assert moto.calls == 0
    other = next(t for t in chaos.TARGET_PREFIXES if chaos.TARGET_PREFIXES[t] != service)
    assert call(app, target=f"{other}.Anything")["status"] == 200
    assert faults.state()[service]["failed_calls"] == 1


def test_up_again_passes_everything(app, moto, faults):
    faults.set("dynamodb", "down")
    faults.set("dynamodb", "up")
    assert call(app, target="DynamoDB_20120810.PutItem")["status"] == 200
    assert moto.calls == 1


def test_requests_that_are_not_a_service_call_are_never_touched(app, moto, faults):
    for target in chaos.TARGETS:
        faults.set(target, "down")
    assert call(app, path="/")["status"] == 200  # no X-Amz-Target
    assert call(app, target="CloudFormation.CreateStack")["status"] == 200
    assert moto.calls == 2


def test_moto_s_own_api_is_not_served(app, moto):
    """Its dump holds the signing secret and every message body; its reset leaves the stack gone."""
    for path in ("/moto-api/data.json", "/moto-api/reset", "/moto-api/"):
        assert call(app, path=path)["status"] == 404
    assert moto.calls == 0


def test_errors_fail_about_that_fraction_with_the_services_internal_error(app, moto, faults):
    faults.set("dynamodb", "errors", 0.3)
    statuses = [call(app, target="DynamoDB_20120810.GetItem")["status"] for _ in range(1000)]
    failed = statuses.count(500)
    assert set(statuses) == {200, 500}
    assert 240 <= failed <= 360  # 0.3 of 1,000, seeded
    assert faults.state()["dynamodb"]["failed_calls"] == failed
    faults.set("sqs", "errors", 1)
    assert call(app, target="AmazonSQS.SendMessage")["body"]["__type"] == "InternalError"
    faults.set("kms", "errors", 1)
    assert call(app, target="TrentService.Decrypt")["body"]["__type"] == "InternalFailure"


def test_slow_waits_before_passing_the_call_on(app, moto, faults, monkeypatch):
    slept = []
    monkeypatch.setattr(chaos.time, "sleep", slept.append)
    faults.set("events", "slow", 250)
    assert call(app, target="AWSEvents.PutEvents")["status"] == 200
    assert slept == [0.25]
    assert moto.calls == 1
    assert faults.state()["events"]["slowed_calls"] == 1


def test_the_control_endpoint_sets_reads_and_resets(app, moto):
    set_ = call(
        app, path="/_chaos", body=json.dumps({"target": "dynamodb", "mode": "errors", "value": 0.5}).encode()
    )
    assert set_["status"] == 200
    assert set_["body"] == {"target": "dynamodb", "mode": "errors", "value": 0.5}
    state = call(app, path="/_chaos", method="GET")["body"]
    assert state["dynamodb"]["mode"] == "errors"
    assert state["sqs"]["mode"] == "up"
    reset = call(app, path="/_chaos/reset")
    assert all(fault["mode"] == "up" for fault in reset["body"].values())
    assert moto.calls == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "Expecting value"),
        (b"[1]", "JSON object"),
        (b'{"target": "s3", "mode": "down"}', "unknown target"),
        (b'{"target": "sqs", "mode": "melt"}', "unknown mode"),
        (b'{"target": "sqs", "mode": "errors"}', "fraction"),
        (b'{"target": "sqs", "mode": "errors", "value": 1.5}', "fraction"),
        (b'{"target": "sqs", "mode": "errors", "value": true}', "number"),
        (b'{"target": "sqs", "mode": "slow", "value": -1}', "milliseconds"),
        (b'{"target": "sqs", "mode": "down", "value": 3}', "takes no value"),
    ],
)
def test_bad_faults_are_refused_clearly_and_change_nothing(app, faults, body, message):
    answer = call(app, path="/_chaos", body=body)
    assert answer["status"] == 400
    assert answer["body"]["error"]["code"] == "bad_fault"
    assert message in answer["body"]["error"]["message"]
    assert all(fault["mode"] == "up" for fault in faults.state().values())


def test_an_unknown_control_path_is_a_404(app):
    assert call(app, path="/_chaos/explode")["status"] == 404


def test_parse_fault_names_and_aliases():
    assert parse_fault("EventBridge", "down") == ("events", Fault("down"))
    assert parse_fault("sfn", "slow", 100) == ("stepfunctions", Fault("slow", 100.0))
    assert Fault("errors", 0.25).describe() == "errors 0.25"
    assert Fault("slow", 500).describe() == "slow 500 ms"
    with pytest.raises(ChaosError, match="one of dynamodb, sqs"):
        parse_fault("s3", "down")


def test_botocore_reads_the_injected_errors_as_the_services_own():
    """What the SDK makes of the answer: the error code and the HTTP status it retries on."""
    from botocore.parsers import create_parser

    parser = create_parser("json")
    for status, code in ((503, "ServiceUnavailable"), (500, "InternalServerError")):
        body = json.dumps(chaos.error_body("dynamodb", status)).encode()
        parsed = parser.parse({"status_code": status, "headers": {}, "body": body}, None)
        assert parsed["Error"]["Code"] == code
