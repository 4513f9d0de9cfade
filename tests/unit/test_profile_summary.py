"""benchmarks/cpu_profile.py reads py-spy's raw stacks into shares by hop, by package and by function,
wherever the checkout lies."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cpu_profile as bench_profile  # noqa: E402 - benchmarks/cpu_profile.py, by path

SITE = next(p for p in sys.path if p.endswith("site-packages"))


def frame(function: str, file: str) -> str:
    return f"{function} ({file}:1)"


def test_samples_are_shared_by_hop_package_and_function_wherever_the_checkout_is():
    thread = frame("Thread.run", "/usr/lib/python3.13/threading.py")
    raw = "\n".join(
        [
            ";".join(
                [
                    thread,
                    frame("apply_notifications", "app.py"),
                    frame("_make_api_call", f"{SITE}/botocore/client.py"),
                ]
            )
            + " 3",
            ";".join([thread, frame("SqsPoller._run", f"{ROOT}/demo/localcloud/pollers.py")]) + " 1",
        ]
    )
    found = bench_profile.summarize(raw, bench_profile.HOPS["functions' process"])
    assert found["samples"] == 4
    assert found["by_hop"] == [
        {"hop": "the worker (apply_notifications)", "percent": 75.0},
        {"hop": "the event source mappings (receive, delete)", "percent": 25.0},
    ]
    assert found["by_package"] == [
        {"package": "botocore", "percent": 75.0},
        {"package": "the local cloud (demo/localcloud/)", "percent": 25.0},
    ]
    # a chain in half the samples or more (a thread's loop, a dispatcher) says nothing: left out
    assert found["top_functions"] == [
        {"function": "SqsPoller._run (demo/localcloud/pollers.py)", "percent": 25.0}
    ]


def test_an_emulator_sample_is_named_by_the_aws_operation_it_served():
    handler = frame("DynamoHandler.call_action", f"{SITE}/moto/dynamodb/responses.py")
    operation = frame("DynamoHandler.transact_write_items", f"{SITE}/moto/dynamodb/responses.py")
    parsing = frame("BaseResponse.setup_class", f"{SITE}/moto/core/responses.py")
    raw = f"{handler};{operation} 2\n{parsing} 2\n"
    found = bench_profile.summarize(raw, bench_profile.HOPS["emulator process"])
    assert {row["hop"]: row["percent"] for row in found["by_hop"]} == {
        "dynamodb.transact_write_items": 50.0,
        "moto's request handling (routing, parsing, serializing)": 50.0,
    }
