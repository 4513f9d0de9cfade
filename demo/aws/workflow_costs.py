"""What a workflow costs, from its real definition and the public prices in ``demo/aws/prices.yaml``.

Step Functions bills a Standard workflow per state transition (each state entered, retries
included) and an Express workflow per request and per GB-second. The transitions of each way
through the review workflow are counted by walking its definition, not typed in.

The prices come through ``demo.aws.costs.prices``, the one copy of the price file that the
monthly model of step 6 (``demo.aws.costs``) reads too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.aws.costs import prices
from demo.settings import SERVERLESS_PROJECT

REVIEW_DEFINITION = SERVERLESS_PROJECT / "statemachines" / "large-payment-review.asl.json"


def load_definition(path: Path = REVIEW_DEFINITION) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(path.read_text())
    return definition


def successors(state: dict[str, Any]) -> list[str]:
    """Every state this one can go to: Next, each Choice and the Default, each Catch."""
    names = [state["Next"]] if "Next" in state else []
    names += [choice["Next"] for choice in state.get("Choices", [])]
    names += [state["Default"]] if "Default" in state else []
    names += [catcher["Next"] for catcher in state.get("Catch", [])]
    return names


def paths(definition: dict[str, Any]) -> list[list[str]]:
    """Every way through the workflow, from StartAt to a state that ends it (no loops here)."""
    states = definition["States"]
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        state = states[path[-1]]
        following = [name for name in successors(state) if name not in path]
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            found.append(path)
        for name in dict.fromkeys(following):
            walk([*path, name])

    walk([definition["StartAt"]])
    return found


def outcome_paths(definition: dict[str, Any]) -> dict[str, list[str]]:
    """The successful ways through the review, named by the event that ends them."""
    named = {}
    for path in paths(definition):
        last = definition["States"][path[-1]]
        if last["Type"] == "Task" and "Entries" in last.get("Parameters", {}):
            named[last["Parameters"]["Entries"][0]["DetailType"]] = path
    return named


@dataclass(frozen=True)
class WorkflowCost:
    outcome: str
    transitions: int
    standard_per_execution: float
    express_per_execution: float | None  # None: Express cannot run this way through

    def per(self, executions: int) -> tuple[float, float | None]:
        express = None if self.express_per_execution is None else self.express_per_execution * executions
        return self.standard_per_execution * executions, express


def express_cost(seconds: float, memory_mb: int = 64) -> float:
    """One Express execution of ``seconds`` using ``memory_mb``: request plus duration."""
    p = prices()["stepfunctions"]["express"]
    billed_seconds = math.ceil(seconds * 1000 / p["duration_rounding_ms"]) * p["duration_rounding_ms"] / 1000
    billed_gb = math.ceil(memory_mb / p["memory_chunk_mb"]) * p["memory_chunk_mb"] / 1024
    cost: float = p["per_request"] + billed_gb * billed_seconds * p["per_gb_second"]
    return cost


def review_costs(
    decision_wait_seconds: float, service_seconds: float = 1.0, definition: dict[str, Any] | None = None
) -> list[WorkflowCost]:
    """The cost of one review per outcome, Standard (as deployed) and Express (as it would be).

    ``decision_wait_seconds``: how long the workflow waits for the human; ``service_seconds``:
    the time of its service calls. Express cannot wait for a task token and stops at 5 minutes,
    so it cannot run a way through that waits for a person (its cost is then None).
    """
    definition = definition or load_definition()
    p = prices()["stepfunctions"]
    costs = []
    for outcome, path in sorted(outcome_paths(definition).items()):
        waits = any(
            definition["States"][name].get("Resource", "").endswith(".waitForTaskToken") for name in path
        )
        runs_on_express = not waits or p["express"]["supports_wait_for_task_token"]
        seconds = service_seconds + (decision_wait_seconds if waits else 0)
        express = (
            express_cost(seconds)
            if runs_on_express and seconds <= p["express"]["max_duration_seconds"]
            else None
        )
        costs.append(
            WorkflowCost(outcome, len(path), len(path) * p["standard"]["per_state_transition"], express)
        )
    return costs


def standard_monthly_cost(transitions_per_month: int) -> float:
    """A month of Standard executions, after the free tier."""
    p = prices()["stepfunctions"]["standard"]
    cost: float = max(0, transitions_per_month - p["free_transitions_per_month"]) * p["per_state_transition"]
    return cost
