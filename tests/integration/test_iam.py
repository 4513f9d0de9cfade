"""Least privilege, proven on the template we ship to AWS (the local cloud does not enforce IAM).

One role per Lambda function, its policy the function's .chalice/policy-<function>.json, naming
only the actions its code calls (the table below, read from app.py and chalicelib/ and checked
against chalicelib's boto3 calls), on our own resources; ``Resource: "*"`` only where AWS allows
nothing narrower. cfn-lint finds no error in the packaged template, and the IaC security scanner
(cfripper) nothing outside a short list of justified findings.
"""

from __future__ import annotations

import ast
import json
import re
from importlib import resources

import pytest
from cfnlint.api import ManualArgs, lint_file

from demo.aws.cfn import load_template
from demo.aws.shipping import package
from demo.settings import SERVERLESS_PROJECT

CHALICE_DIR = SERVERLESS_PROJECT / ".chalice"
CONFIG = json.loads((CHALICE_DIR / "config.json").read_text())
DEV = CONFIG["stages"]["dev"]
ENV = {**CONFIG["environment_variables"], **DEV["environment_variables"]}

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}  # into the function's own log group
# What the SQS event source mapping does with the function's role, and the queue's key.
POLL = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "kms:Decrypt"}
# OutageRequeue (chalicelib.outages): during an outage a consumer sends its records back to its
# own queue, delayed (the URL looked up once; SQS encrypts what it is sent with the bank's key).
REQUEUE = {"sqs:GetQueueUrl", "sqs:SendMessage", "kms:GenerateDataKey"}
# Each function -> every action it needs, read from the code. kms:Decrypt through DynamoDB: every
# table is encrypted with the bank's key, and DynamoDB decrypts the table key as the caller.
NEEDS = {
    "api_handler": LOGS
    | {
        "ssm:GetParameters",  # SsmSigningSecret: <name> and <name>-previous, SecureStrings...
        "kms:Decrypt",  # ...decrypted by SSM; and the ledger's table key, through DynamoDB
        "sqs:GetQueueUrl",  # SqsNotificationQueue.url
        "sqs:SendMessage",  # SqsNotificationQueue.enqueue...
        "kms:GenerateDataKey",  # ...to a queue that SQS encrypts with the bank's key
        "dynamodb:GetItem",  # GET /wallets/{id}/balance, GET /reviews/{id}, the decision's review
        "dynamodb:Query",  # GET /reviews
        "dynamodb:UpdateItem",  # the decision's claim on its review (the REVIEW partition only)
        "states:SendTaskSuccess",  # POST /reviews/{id}/decision resumes the workflow
    },
    "apply_notifications": LOGS
    | POLL
    | REQUEUE
    | {
        "dynamodb:GetItem",  # DynamoDBLedger.read: the balance (a payin, a refund)
        "dynamodb:BatchGetItem",  # DynamoDBLedger.read: the balance and the authorization together
        "dynamodb:PutItem",  # the commit's marker, balance, authorization, card (TransactWriteItems); a card alone
        "dynamodb:UpdateItem",  # counters: replays_refused
        "events:PutEvents",  # EventBridgePublisher.publish
        "kms:Encrypt",  # KmsCardVault.seal: KMS encrypts each card, bound to its wallet and authorization
    },
    "deliver_webhooks": LOGS
    | POLL
    | REQUEUE
    | {
        "ssm:GetParameter",  # the client's URL and webhook secret (a SecureString: kms:Decrypt)
        "sqs:GetQueueUrl",  # SqsBackoff: the URL of the record's queue...
        "sqs:ChangeMessageVisibility",  # ...to delay its next delivery
        "dynamodb:UpdateItem",  # counters: webhooks_delivered
    },
    "write_audit": LOGS
    | POLL
    | REQUEUE
    | {"dynamodb:BatchWriteItem"},  # AuditTrail._write: a batch's entries
    "review_desk": LOGS
    | POLL
    | REQUEUE
    | {
        "states:StartExecution",  # StepFunctionsReviews.start
        "dynamodb:UpdateItem",  # DynamoDBReviews.file_token
    },
}
REQUEUES = {"OutageRequeue.later", "QueueUrls.url"}
# The chalicelib methods each function reaches (app.py, then demo.bank's use cases).
CALLS = {
    "api_handler": {
        "SsmSigningSecret._fetch",
        "SqsNotificationQueue.url",
        "SqsNotificationQueue.enqueue",
        "DynamoDBLedger.balance",
        "DynamoDBReviews.review",
        "DynamoDBReviews.reviews",
        "DynamoDBReviews.claim",
        "StepFunctionsReviews.resume",
    },
    "apply_notifications": {
        "DynamoDBLedger._get_all",
        "DynamoDBLedger.commit",
        "DynamoDBLedger.balance",
        "EventBridgePublisher._put",
        "Counters.add",
        "KmsCardVault.seal",
        "KmsCardVault.keep",
        *REQUEUES,
    },
    "deliver_webhooks": {"SsmParameter.value", "SqsBackoff.delay", "Counters.add", *REQUEUES},
    "write_audit": {"AuditTrail._write", *REQUEUES},
    "review_desk": {"StepFunctionsReviews.start", "DynamoDBReviews.file_token", *REQUEUES},
}
# chalicelib methods that call AWS from the command line or the local cloud, never from a Lambda.
NOT_FROM_LAMBDA = {
    "DynamoDBLedger.seen_digest": "bankdemo compare and the tour: which notifications were applied",
    "AuditTrail.count": "bankdemo status",
    "AuditTrail.history": "bankdemo history",
    "Counters.read": "bankdemo status",
    "KmsCardVault.reveal": "the card vault's tests and the data scan; no handler reveals a card",
    "rotate": "bankdemo secret rotate",
}
# boto3 client methods -> the IAM actions they need.
BOTO3 = {
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "batch_write_item": {"dynamodb:BatchWriteItem"},
    "transact_write_items": {"dynamodb:PutItem"},  # the ledger's transaction: Put items only
    "get_parameter": {"ssm:GetParameter"},
    "get_parameters": {"ssm:GetParameters"},
    "put_parameter": {"ssm:PutParameter"},
    "get_queue_url": {"sqs:GetQueueUrl"},
    "send_message": {"sqs:SendMessage"},
    "change_message_visibility": {"sqs:ChangeMessageVisibility"},
    "put_events": {"events:PutEvents"},
    "start_execution": {"states:StartExecution"},
    "send_task_success": {"states:SendTaskSuccess"},
    "generate_data_key": {"kms:GenerateDataKey"},
    "encrypt": {"kms:Encrypt"},
    "decrypt": {"kms:Decrypt"},
}
# (function, action) -> why its Resource is "*". The statement's Sid says it too.
JUSTIFIED_WILDCARDS = {
    ("api_handler", "states:SendTaskSuccess"): (
        "a task token names no resource: SendTaskSuccess has no resource-level permission "
        "(no resource type in the Service Authorization Reference), so IAM takes only '*'"
    ),
}
# cfn-lint rule id -> why its warning is acceptable. Errors are never allowed.
CFN_LINT_WARNINGS_ALLOWED: dict[str, str] = {}
# (cfripper rule, resource) -> why the finding stands.
CFRIPPER_ALLOWED = {
    ("GenericResourceWildcardPolicyRule", "BankKey"): (
        "the key policy's kms:* for the account's root is AWS's default statement: it hands the "
        "key's access control to IAM, where each role names its own uses (the tests above); "
        "without it the key cannot be administered"
    ),
    ("WildcardResourceRule", "ApiHandlerRole"): JUSTIFIED_WILDCARDS[
        ("api_handler", "states:SendTaskSuccess")
    ],
}

PSEUDO = {"${AWS::Partition}": "aws", "${AWS::Region}": "eu-west-1", "${AWS::AccountId}": "123456789012"}
BANK_KEY = "${BankKey.Arn}"  # the key's id is random: Fn::Sub names the exact key, no wildcard needed
# The service each use of the bank's key goes through -> the encryption context naming our resource.
VIA = {
    "sqs": "kms:EncryptionContext:aws:sqs:arn",
    "ssm": "kms:EncryptionContext:PARAMETER_ARN",
    "dynamodb": "kms:EncryptionContext:aws:dynamodb:tableName",
}
# cfn-lint's copy of the Service Authorization Reference: service -> actions -> resource types.
SERVICE_AUTHORIZATION = json.loads(
    resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    root = tmp_path_factory.mktemp("package")
    sam = package("dev", root / "out", root / "build")
    return sam, load_template(sam)


@pytest.fixture(scope="module")
def functions(packaged):
    """Chalice function name -> its AWS::Serverless::Function resource."""
    _, template = packaged
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            handler = resource["Properties"]["Handler"].split(".", 1)[1]
            found["api_handler" if handler == "app" else handler] = resource
    return found


def policy_file(function):
    return json.loads((CHALICE_DIR / f"policy-{function}.json").read_text())


def statements(function):
    return policy_file(function)["Statement"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def through(statement):
    """The service a use of the bank's key goes through (``kms:ViaService``), or None."""
    via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
    return None if via is None else via.split(".")[0]


def resolve(text):
    for placeholder, value in PSEUDO.items():
        text = text.replace(placeholder, value)
    return text


def subbed(node):
    """What the packaging makes of a policy file: its ``${...}`` strings in Fn::Sub."""
    if isinstance(node, str):
        return {"Fn::Sub": node} if "${" in node else node
    if isinstance(node, list):
        return [subbed(item) for item in node]
    return {key: subbed(value) for key, value in node.items()}


def test_every_function_has_its_own_role_whose_policy_is_its_file(packaged, functions):
    _, template = packaged
    assert set(functions) == set(NEEDS) == set(DEV["lambda_functions"]) == set(CALLS)
    assert DEV["autogen_policy"] is False
    roles = {}
    for name, function in functions.items():
        assert DEV["lambda_functions"][name]["iam_policy_file"] == f"policy-{name}.json"
        role_name, attribute = function["Properties"]["Role"]["Fn::GetAtt"]
        assert attribute == "Arn"
        roles[name] = role_name
        role = template["Resources"][role_name]
        assert role["Type"] == "AWS::IAM::Role"
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Sid": "",
            }
        ]
        assert "ManagedPolicyArns" not in role["Properties"]
        [policy] = role["Properties"]["Policies"]
        assert policy["PolicyDocument"] == subbed(policy_file(name)), name
    assert len(set(roles.values())) == len(roles), f"a role is shared: {roles}"


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_each_policy_grants_exactly_the_actions_its_function_needs(function):
    granted = {action for s in statements(function) for action in as_list(s["Action"])}
    assert not granted - NEEDS[function], f"{function} is granted more than it needs"
    assert not NEEDS[function] - granted, f"{function} lacks what it needs"


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_no_wildcard_action_and_no_wildcard_resource_but_the_justified(function):
    justified = {action for (f, action) in JUSTIFIED_WILDCARDS if f == function}
    for statement in statements(function):
        assert statement["Effect"] == "Allow" and statement["Sid"], statement
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), statement
        actions = as_list(statement["Action"])
        assert not any("*" in action or "?" in action for action in actions), statement
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                assert set(actions) <= justified, f"{function}: unjustified Resource '*' for {actions}"
            elif "*" in resource:  # a log group's streams, and nothing else
                assert ":logs:" in resource and resource.endswith(":*") and resource.count("*") == 1, resource
    for (f, action), why in JUSTIFIED_WILDCARDS.items():  # each entry still used, and still right
        assert (
            why
            and f in NEEDS
            and any(s["Resource"] == "*" and action in as_list(s["Action"]) for s in statements(f))
        ), f"stale justification: {f} {action}"
        service, name = action.split(":")
        assert SERVICE_AUTHORIZATION[service]["Actions"][name.lower()].get("Resources") is None, (
            f"{action} has resource types now: name them instead of '*'"
        )


def test_every_action_exists():
    for function in NEEDS:
        for statement in statements(function):
            for action in as_list(statement["Action"]):
                service, name = action.split(":")
                assert name.lower() in SERVICE_AUTHORIZATION[service]["Actions"], action


def test_the_table_of_needs_covers_what_the_code_calls():
    calls = {}  # "Class.method" (or "function") -> boto3 client methods called on a client
    for path in sorted((SERVERLESS_PROJECT / "chalicelib").glob("*.py")):
        tree = ast.parse(path.read_text())
        scopes = [(f"{c.name}.", c.body) for c in tree.body if isinstance(c, ast.ClassDef)]
        for prefix, body in [("", tree.body), *scopes]:
            for method in body:
                if not isinstance(method, ast.FunctionDef):
                    continue
                for node in ast.walk(method):
                    if (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute)
                        and ast.unparse(node.func.value)
                        in {"self._client", "self._kms", "self._dynamodb", "client"}
                    ):
                        name = node.func.attr
                        if name == "get_paginator":
                            name = node.args[0].value
                        calls.setdefault(prefix + method.name, set()).add(name)
    unknown = {name for names in calls.values() for name in names} - set(BOTO3)
    assert not unknown, f"add these boto3 calls to BOTO3 (and to the functions that make them): {unknown}"
    reached = {method for methods in CALLS.values() for method in methods}
    assert set(calls) == reached | set(NOT_FROM_LAMBDA), "a chalicelib method calls AWS: which function?"
    assert not reached & set(NOT_FROM_LAMBDA)
    for function, methods in CALLS.items():
        needed = {action for method in methods for name in calls[method] for action in BOTO3[name]}
        assert needed <= NEEDS[function], f"{function} calls {needed - NEEDS[function]}, not in NEEDS"


def our_resources():
    """The ARNs of what the bank's stack and stage hold (region and account made up)."""
    resources_template = load_template(SERVERLESS_PROJECT / "resources.yaml")["Resources"]
    arn = resolve("arn:${AWS::Partition}:{}:${AWS::Region}:${AWS::AccountId}:{}").format
    queues = [
        r["Properties"]["QueueName"]
        for r in resources_template.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    ]
    [machine] = [r for r in resources_template.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    parameters = [ENV[k] for k in ENV if k.endswith("_PARAMETER")]
    parameters.append(ENV["SIGNING_SECRET_PARAMETER"] + "-previous")  # chalicelib.secrets.PREVIOUS_SUFFIX
    return {
        *(arn("dynamodb", f"table/{ENV[k]}") for k in ("LEDGER_TABLE", "AUDIT_TABLE")),
        *(arn("sqs", name) for name in queues),
        *(arn("ssm", f"parameter{name}") for name in parameters),
        arn("events", f"event-bus/{ENV['EVENT_BUS']}"),
        arn("states", f"stateMachine:{machine['Properties']['StateMachineName']}"),
        BANK_KEY,
    }


def own_log_group(template, function):
    """The ARN the function's role may write logs to: its log group in the template."""
    group = template["Resources"][function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] > 0
    stage = template["Parameters"]["Stage"]["Default"]
    assert stage == ENV["BANK_STAGE"]  # the policies name the dev stage's resources
    name = group["Properties"]["LogGroupName"]["Fn::Sub"].replace("${Stage}", stage)
    return "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + name + ":*"


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_each_function_touches_only_our_resources_and_logs_only_to_its_own_group(
    packaged, functions, function
):
    ours = our_resources()
    log_group = own_log_group(packaged[1], functions[function])
    for statement in statements(function):
        for resource in as_list(statement["Resource"]):
            if any(action.startswith("logs:") for action in as_list(statement["Action"])):
                assert resource == log_group, statement
            else:
                assert resource == "*" or resolve(resource) in ours, f"{function}: {resource} is not ours"
    placeholders = set(re.findall(r"\$\{[^}]*\}", json.dumps(policy_file(function))))
    assert placeholders <= {*PSEUDO, BANK_KEY, "${AWS::URLSuffix}"}, "Fn::Sub could not resolve these"


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_each_consumer_polls_and_decrypts_its_own_queue_only(functions, function):
    events = functions[function]["Properties"].get("Events", {}).values()
    queues = [event["Properties"]["Queue"]["Fn::Sub"] for event in events if event["Type"] == "SQS"]
    polls = [s for s in statements(function) if "sqs:ReceiveMessage" in as_list(s["Action"])]
    decrypts = [
        s["Condition"]["StringEquals"][VIA["sqs"]]
        for s in statements(function)
        if as_list(s["Action"]) == ["kms:Decrypt"] and through(s) == "sqs"
    ]
    assert [s["Resource"] for s in polls] == queues
    assert all(set(as_list(s["Action"])) == POLL - {"kms:Decrypt"} for s in polls)
    assert decrypts == queues  # the event source mapping reads an encrypted queue as the function


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_the_bank_key_is_used_through_our_services_on_our_resources_or_for_cards_only(function):
    ours = our_resources()
    for statement in statements(function):
        actions = as_list(statement["Action"])
        if not any(action.startswith("kms:") for action in actions):
            continue
        assert statement["Resource"] == BANK_KEY
        assert set(actions) <= {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"}
        condition = statement["Condition"]
        service = through(statement)
        if service is None:  # the card vault: direct use, bound to a card's wallet and authorization
            assert (function, actions) == ("apply_notifications", ["kms:Encrypt"]), statement
            assert condition["StringEquals"] == {"kms:EncryptionContext:purpose": "card"}
            assert condition["Null"] == {
                "kms:EncryptionContext:wallet_id": "false",
                "kms:EncryptionContext:authorization_id": "false",
            }
            assert condition["ForAllValues:StringEquals"] == {
                "kms:EncryptionContextKeys": ["wallet_id", "authorization_id", "purpose"]
            }
            continue
        assert (
            condition["StringEquals"]["kms:ViaService"] == f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"
        )
        assert set(condition) == {"StringEquals"}
        assert set(condition["StringEquals"]) == {"kms:ViaService", VIA[service]}, statement
        for value in as_list(condition["StringEquals"][VIA[service]]):
            if service == "dynamodb":
                value = resolve(
                    f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{value}"
                )
            assert resolve(value) in ours, f"{function}: {value} is not ours"
        if "kms:GenerateDataKey" in actions:  # a producer: only to the queues it sends to
            sends_to = {
                resource
                for s in statements(function)
                if "sqs:SendMessage" in as_list(s["Action"])
                for resource in as_list(s["Resource"])
            }
            assert service == "sqs", statement
            assert set(as_list(condition["StringEquals"][VIA[service]])) <= sends_to, statement


@pytest.mark.parametrize("function", sorted(NEEDS))
def test_each_encrypted_resource_a_function_uses_comes_with_the_key_through_its_service(function):
    """SQS encrypts queues, SSM SecureStrings and DynamoDB tables with the bank's key, as the
    caller: each resource the function reads or writes has its key use, bound to it, and no other."""
    plain = {  # the parameters the template makes are Strings; the secrets are SecureStrings
        r["Properties"]["Name"]["Fn::Sub"].replace("${Stage}", ENV["BANK_STAGE"])
        for r in load_template(SERVERLESS_PROJECT / "resources.yaml")["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter"
    }
    used = {"sqs": set(), "ssm": set(), "dynamodb": set()}
    bound = {"sqs": set(), "ssm": set(), "dynamodb": set()}
    for statement in statements(function):
        service = as_list(statement["Action"])[0].split(":")[0]
        if service in used:
            resources = as_list(statement["Resource"])
            if service == "dynamodb":
                resources = [resource.rsplit("/", 1)[1] for resource in resources]
            if service == "ssm":
                resources = [r for r in resources if r.split(":parameter", 1)[1] not in plain]
            used[service] |= set(resources)
        elif through(statement):
            bound[through(statement)] |= set(
                as_list(statement["Condition"]["StringEquals"][VIA[through(statement)]])
            )
    assert used == bound


def test_cfn_lint_finds_no_error_and_no_unjustified_warning(packaged):
    sam, _ = packaged
    matches = lint_file(sam, config=ManualArgs(regions=["eu-west-1"]))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert not errors, errors
    warnings = [str(m) for m in matches if m.rule.id not in CFN_LINT_WARNINGS_ALLOWED]
    assert not warnings, warnings


def test_the_security_scanner_finds_nothing_but_the_justified(packaged):
    import pycfmodel
    from cfripper.cli import init_cfripper

    _, template = packaged
    config, processor = init_cfripper(None, None, None, None)
    result = processor.process_cf_template(pycfmodel.parse(template).resolve(), config)
    assert not result.exceptions, result.exceptions
    found = {(f.rule, resource) for f in result.failures for resource in f.resource_ids}
    assert found <= set(CFRIPPER_ALLOWED), [f.reason for f in result.failures]
    assert found == set(CFRIPPER_ALLOWED), f"stale entries: {set(CFRIPPER_ALLOWED) - found}"
