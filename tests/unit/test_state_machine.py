"""The review workflow's definition, checked statically: valid Amazon States Language, no Lambda,
every service task guarded, and a role that grants exactly what the tasks call."""

from __future__ import annotations

import json
import re

import pytest

from demo.aws import workflow_costs
from demo.aws.cfn import inline_definitions, load_template
from demo.settings import SERVERLESS_PROJECT

DEFINITION = workflow_costs.REVIEW_DEFINITION
STATES = json.loads(DEFINITION.read_text())["States"]
TERMINAL_TYPES = {"Succeed", "Fail"}
# The direct integrations the workflow may use, and the IAM action each one needs.
INTEGRATIONS = {
    "arn:aws:states:::dynamodb:putItem": "dynamodb:PutItem",
    "arn:aws:states:::dynamodb:updateItem": "dynamodb:UpdateItem",
    "arn:aws:states:::events:putEvents": "events:PutEvents",
    "arn:aws:states:::events:putEvents.waitForTaskToken": "events:PutEvents",
}


def template():
    return load_template(SERVERLESS_PROJECT / "resources.yaml")


def test_it_is_jsonpath_and_starts_at_a_state():
    definition = json.loads(DEFINITION.read_text())
    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"  # moto runs JSONPath only
    assert definition["StartAt"] in STATES
    for name, state in STATES.items():
        assert state.get("QueryLanguage", "JSONPath") == "JSONPath", name
        assert not {"Arguments", "Output", "Assign"} & set(state), f"{name} uses JSONata fields"


def test_every_transition_names_a_state():
    for name, state in STATES.items():
        for target in workflow_costs.successors(state):
            assert target in STATES, f"{name} goes to {target!r}, which is not a state"


def test_every_state_is_reachable_and_every_way_through_ends():
    definition = json.loads(DEFINITION.read_text())
    reached = {state for path in workflow_costs.paths(definition) for state in path}
    assert reached == set(STATES), f"unreachable: {set(STATES) - reached}"
    for name, state in STATES.items():
        ends = state["Type"] in TERMINAL_TYPES or state.get("End") is True
        if state["Type"] == "Choice":
            assert state["Choices"] and "End" not in state and "Next" not in state, name
        else:
            assert ends != ("Next" in state), f"{name} must have exactly one of Next and End"
    assert any(s["Type"] == "Succeed" or s.get("End") for s in STATES.values())
    assert any(s["Type"] == "Fail" for s in STATES.values())


def test_no_lambda_and_only_the_direct_integrations_we_grant():
    for name, state in STATES.items():
        if state["Type"] == "Task":
            assert "lambda" not in state["Resource"].lower(), f"{name} calls a Lambda"
            assert state["Resource"] in INTEGRATIONS, (
                f"{name}: {state['Resource']} is not an allowed integration"
            )


@pytest.mark.parametrize("name", [n for n, s in STATES.items() if s["Type"] == "Task"])
def test_every_service_task_retries_and_catches(name):
    state = STATES[name]
    assert state.get("Retry"), f"{name} has no Retry"
    assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), f"{name} catches nothing"
    for retrier in state["Retry"]:
        # a retried Timeout would re-ask for a decision: the callback's timeout must escalate
        assert "States.Timeout" not in retrier["ErrorEquals"] and "States.ALL" not in retrier["ErrorEquals"]


def test_the_decision_wait_times_out_into_the_escalation():
    [waiting] = [s for s in STATES.values() if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert waiting["TimeoutSecondsPath"] == "$.decision_timeout_seconds"
    timeout = next(c for c in waiting["Catch"] if c["ErrorEquals"] == ["States.Timeout"])
    assert STATES[timeout["Next"]]["Parameters"]["ExpressionAttributeValues"][":closed"] == {"S": "escalated"}
    assert "$$.Task.Token" in json.dumps(waiting["Parameters"])


def test_every_path_expression_is_a_path_or_an_intrinsic_function():
    def check(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith(".$"):
                    assert isinstance(value, str) and re.match(r"^(\$|States\.)", value), f"{where}.{key}"
                check(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                check(value, f"{where}[{i}]")

    for name, state in STATES.items():
        check(state.get("Parameters", {}), name)


def test_the_substitutions_the_definition_needs_are_all_given():
    machine = template()["Resources"]["ReviewStateMachine"]["Properties"]
    needed = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", DEFINITION.read_text()))
    assert needed == set(machine["DefinitionSubstitutions"])
    assert machine["DefinitionS3Location"] == str(DEFINITION.relative_to(SERVERLESS_PROJECT))


def test_inlining_keeps_the_definition_byte_for_byte_but_the_placeholders():
    resources = inline_definitions(template(), SERVERLESS_PROJECT)["Resources"]
    parts = resources["ReviewStateMachine"]["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "${" + _placeholder(p) + "}" for p in parts)
    assert text == DEFINITION.read_text()
    assert "$$.Task.Token" in text  # moto's !Sub would have turned it into "$.Task.Token"


def _placeholder(value):
    return {"Ref": "LedgerTable", "Fn::GetAtt": "EventBusName"}[next(iter(value))]


def test_the_workflow_role_grants_exactly_what_its_tasks_call_on_our_resources():
    role = template()["Resources"]["ReviewWorkflowRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "states.amazonaws.com"
    }
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    # the ledger table's KMS key, through DynamoDB only, for that table only
    [key] = [s for s in statements if s["Action"] == "kms:Decrypt"]
    condition = key["Condition"]["StringEquals"]
    assert key["Resource"] == {"Fn::GetAtt": ["BankKey", "Arn"]}
    assert condition["kms:EncryptionContext:aws:dynamodb:tableName"] == {"Ref": "LedgerTable"}
    assert "dynamodb." in json.dumps(condition["kms:ViaService"])
    granted = {
        a
        for s in statements
        if s is not key
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    used = {INTEGRATIONS[s["Resource"]] for s in STATES.values() if s["Type"] == "Task"}
    assert granted == used
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] != "*"
        assert "*" not in json.dumps(statement["Action"])


def test_the_interpreter_of_the_local_cloud_parses_it():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    text = re.sub(r"\$\{([A-Za-z0-9_]+)\}", "placeholder", DEFINITION.read_text())
    program, _ = AmazonStateLanguageParser.parse(text)
    assert program is not None
