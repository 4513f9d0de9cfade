"""Faults on cue, in the local cloud: a WSGI middleware in front of the emulated AWS services.

The app's code has no ``if chaos:`` branch: the faults live where AWS's own failures live, on the
wire between the app and the service. Each target is an AWS service, recognised by the
``X-Amz-Target`` header of its JSON protocol (every service the bank uses speaks it), and is in
one of four modes:

- ``up``: normal;
- ``down``: every call fails as an AWS service outage does: HTTP 503 ``ServiceUnavailable``;
- ``errors P``: a fraction P of the calls fail with HTTP 500 (``InternalServerError`` for
  DynamoDB, ``InternalFailure`` elsewhere), the rest pass;
- ``slow MS``: every call waits MS milliseconds first (outside the one-request-at-a-time lock,
  so a slow service slows its callers, not the whole cloud).

The SDK retries 5xx answers (with backoff) before the app sees an error, as on AWS. Every caller
of the local cloud sees the faults: the app's handlers, Step Functions' service tasks, the
pollers that play Lambda's event source mappings, and ``bankdemo status`` itself.

Control: ``GET /_chaos`` (the modes and the calls failed so far), ``POST /_chaos``
``{"target": "dynamodb", "mode": "errors", "value": 0.3}``, ``POST /_chaos/reset`` (all up).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from demo import control_guard

# X-Amz-Target prefix of each service's JSON protocol -> the target name used by `bankdemo chaos`
TARGET_PREFIXES = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "TrentService": "kms",
    "AmazonSSM": "ssm",
    "AWSStepFunctions": "stepfunctions",
}
TARGETS = tuple(TARGET_PREFIXES.values())
MODES = ("up", "down", "errors", "slow")
MAX_SLOW_MS = 30_000
CONTROL_PATH = "/_chaos"

# Error codes as the services name them (botocore reads the part after '#').
_INTERNAL = {"dynamodb": "InternalServerError", "sqs": "InternalError"}


class ChaosError(ValueError):
    """A fault that cannot be set: unknown target or mode, or a value out of range."""


@dataclass(frozen=True)
class Fault:
    mode: str = "up"
    value: float = 0.0  # errors: the fraction that fails; slow: milliseconds

    def describe(self) -> str:
        if self.mode == "errors":
            return f"errors {self.value:g}"
        if self.mode == "slow":
            return f"slow {self.value:g} ms"
        return self.mode


def parse_fault(target: str, mode: str, value: float | None = None) -> tuple[str, Fault]:
    """Validate a fault as the CLI and the control endpoint receive it."""
    target = {"eventbridge": "events", "sfn": "stepfunctions"}.get(target.lower(), target.lower())
    if target not in TARGETS:
        raise ChaosError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    if mode not in MODES:
        raise ChaosError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    if mode == "errors":
        if value is None or not 0 < value <= 1:
            raise ChaosError("errors needs the fraction of calls that fail, in (0, 1], e.g. `errors 0.3`")
        return target, Fault("errors", float(value))
    if mode == "slow":
        if value is None or not 0 < value <= MAX_SLOW_MS:
            raise ChaosError(f"slow needs the added latency in milliseconds, in (0, {MAX_SLOW_MS}]")
        return target, Fault("slow", float(value))
    if value is not None:
        raise ChaosError(f"{mode} takes no value")
    return target, Fault(mode)


class Faults:
    """The current fault of each target, and the calls failed so far (thread-safe)."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = dict.fromkeys(TARGETS, Fault())
        self._failed: dict[str, int] = dict.fromkeys(TARGETS, 0)
        self._delayed: dict[str, int] = dict.fromkeys(TARGETS, 0)
        self._random = random.Random(seed)  # noqa: S311 - which calls fail, not cryptography
        self.changed: list[Callable[[], None]] = []  # told after every change (pollers wake up)

    def set(self, target: str, mode: str, value: float | None = None) -> Fault:
        target, fault = parse_fault(target, mode, value)
        with self._lock:
            self._faults[target] = fault
        self._tell()
        return fault

    def reset(self) -> None:
        with self._lock:
            self._faults = dict.fromkeys(TARGETS, Fault())
        self._tell()

    def _tell(self) -> None:
        for listener in list(self.changed):
            listener()

    def get(self, target: str) -> Fault:
        with self._lock:
            return self._faults[target]

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                target: {
                    **asdict(fault),
                    "failed_calls": self._failed[target],
                    "slowed_calls": self._delayed[target],
                }
                for target, fault in self._faults.items()
            }

    def decide(self, target: str) -> tuple[float, int | None]:
        """For one call to ``target``: seconds to wait first, and the HTTP status to fail with (or None)."""
        with self._lock:
            fault = self._faults[target]
            if fault.mode == "slow":
                self._delayed[target] += 1
                return fault.value / 1000, None
            if fault.mode == "down" or (fault.mode == "errors" and self._random.random() < fault.value):
                self._failed[target] += 1
                return 0.0, 503 if fault.mode == "down" else 500
            return 0.0, None


def target_of(environ: dict[str, Any]) -> str | None:
    """The chaos target a request is for (None: not a service we inject faults into)."""
    return target_of_amz_target(environ.get("HTTP_X_AMZ_TARGET", ""))


def target_of_amz_target(amz_target: str) -> str | None:
    """The chaos target of an ``X-Amz-Target`` header's value (``AmazonSQS.SendMessage`` -> sqs)."""
    return TARGET_PREFIXES.get(amz_target.split(".", 1)[0])


def error_body(target: str, status: int) -> dict[str, str]:
    if status == 503:
        return {"__type": "ServiceUnavailable", "message": f"{target} is unavailable (bankdemo chaos)"}
    code = _INTERNAL.get(target, "InternalFailure")
    return {"__type": code, "message": f"{target} failed this request (bankdemo chaos)"}


def error_response(target: str, status: int) -> tuple[int, dict[str, str], bytes]:
    """The answer of a service that fails: status, headers and body, as AWS's JSON protocol sends them."""
    data = json.dumps(error_body(target, status)).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": str(len(data)),
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    return status, headers, data


StartResponse = Callable[..., Any]


class ChaosMiddleware:
    """Wraps moto's WSGI app: answers the control endpoint, injects the faults, passes the rest."""

    def __init__(
        self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], faults: Faults
    ) -> None:
        self._app = app
        self.faults = faults

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH or path.startswith(CONTROL_PATH + "/"):
            why = control_guard.refusal(environ.get("REQUEST_METHOD", "GET"), _headers(environ))
            if why is not None:
                return _json(start_response, 403, {"error": {"code": "forbidden", "message": why}})
            return self._control(environ, start_response)
        if path.startswith("/moto-api/"):  # moto's own: a dump of every secret and message body, a reset
            message = "moto's own API is not served by the local cloud (its dump holds every secret)"
            return _json(start_response, 404, {"error": {"code": "not_found", "message": message}})
        target = target_of(environ)
        if target is not None:
            delay, status = self.faults.decide(target)
            if delay:
                time.sleep(delay)
            if status is not None:
                _drain(environ)
                status, headers, data = error_response(target, status)
                start_response(f"{status} {_REASONS[status]}", list(headers.items()))
                return [data]
        return self._app(environ, start_response)

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        try:
            if method == "GET" and path == CONTROL_PATH:
                return _json(start_response, 200, self.faults.state())
            if method == "POST" and path == CONTROL_PATH + "/reset":
                self.faults.reset()
                return _json(start_response, 200, self.faults.state())
            if method == "POST" and path == CONTROL_PATH:
                request = json.loads(_drain(environ) or b"{}")
                if not isinstance(request, dict):
                    raise ChaosError("the body must be a JSON object")
                value = request.get("value")
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                    raise ChaosError("value must be a number")
                fault = self.faults.set(str(request.get("target", "")), str(request.get("mode", "")), value)
                return _json(start_response, 200, {"target": request["target"], **asdict(fault)})
        except (ChaosError, ValueError) as error:
            return _json(start_response, 400, {"error": {"code": "bad_fault", "message": str(error)}})
        return _json(start_response, 404, {"error": {"code": "not_found", "message": f"{method} {path}"}})


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """A WSGI request's headers by their names (``HTTP_SEC_FETCH_SITE`` -> ``sec-fetch-site``)."""
    return {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}


def _drain(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, 1024 * 1024)) if length else b""


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {_REASONS[status]}", headers)
    return [data]
