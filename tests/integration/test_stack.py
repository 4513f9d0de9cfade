"""The one resources template: what the local cloud deployed from it, and that the app agrees with it."""

from __future__ import annotations

import json

from demo.aws.cfn import load_template
from demo.localcloud.cloud import LOCAL_PARAMETERS, TEMPLATE, stage_environment


def template():
    return load_template(TEMPLATE)


def test_the_app_listens_on_the_queues_the_template_creates(cloud):
    from chalicelib import bootstrap

    resources = template()["Resources"]
    names = {
        k: resources[k]["Properties"]["QueueName"]
        for k in ("NotificationsQueue", "WebhooksQueue", "AuditQueue", "ReviewsQueue")
    }
    assert names == {
        "NotificationsQueue": bootstrap.NOTIFICATIONS_QUEUE,
        "WebhooksQueue": bootstrap.WEBHOOKS_QUEUE,
        "AuditQueue": bootstrap.AUDIT_QUEUE,
        "ReviewsQueue": bootstrap.REVIEWS_QUEUE,
    }
    sqs_sources = [s for s in cloud.app_module.app.event_sources if type(s).__name__ == "SQSEventConfig"]
    assert sorted(s.queue for s in sqs_sources) == sorted(names.values())


def test_the_bus_routes_ledger_events_to_the_webhook_audit_and_review_queues(cloud, sqs):
    events = cloud.client("events")
    rules = events.list_rules(EventBusName="bank")["Rules"]
    targets = {
        rule["Name"]: [
            t["Arn"].rsplit(":", 1)[-1]
            for t in events.list_targets_by_rule(Rule=rule["Name"], EventBusName="bank")["Targets"]
        ]
        for rule in rules
    }
    assert sorted(q for qs in targets.values() for q in qs) == ["bank-audit", "bank-reviews", "bank-webhooks"]
    patterns = [json.loads(r["EventPattern"]) for r in rules]
    assert all("bank.ledger" in p["source"] for p in patterns)
    # the review desk hears of large payments, and of the workflow's requests for a decision
    [reviews] = [p for p in patterns if "bank.reviews" in p["source"]]
    assert sorted(reviews["detail-type"]) == ["LargePaymentFlagged", "ReviewRequested"]


def test_the_review_workflow_is_deployed_with_its_own_role(cloud):
    sfn = cloud.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=cloud.outputs["ReviewStateMachineArn"])
    assert machine["name"] == "large-payment-review"
    assert ":role/" in machine["roleArn"] and "ReviewWorkflowRole" in machine["roleArn"]
    assert "$$.Task.Token" in machine["definition"] and "${" not in machine["definition"]


def test_each_stage_names_the_table_the_template_creates_for_it(cloud):
    config = json.loads((TEMPLATE.parent / ".chalice" / "config.json").read_text())
    for stage in config["stages"]:
        assert stage_environment(stage)["LEDGER_TABLE"] == f"bank-ledger-{stage}"
    assert cloud.outputs["LedgerTableName"] == stage_environment("local")["LEDGER_TABLE"]


def test_the_queue_has_its_dlq_with_the_stage_retry_count(cloud, sqs, queue_url, dlq_url):
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert str(redrive["maxReceiveCount"]) == LOCAL_PARAMETERS["NotificationsMaxReceiveCount"]
    assert attributes["VisibilityTimeout"] == LOCAL_PARAMETERS["NotificationsVisibilityTimeout"]
    assert attributes["KmsMasterKeyId"] == cloud.outputs["BankKeyId"]


def test_the_signing_secret_is_a_securestring_under_the_bank_key(cloud):
    ssm = cloud.client("ssm")
    parameter = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [cloud.signing_secret_parameter]}]
    )["Parameters"][0]
    assert parameter["Type"] == "SecureString"
    assert parameter["KeyId"] == cloud.outputs["BankKeyId"]
    assert (
        ssm.get_parameter(Name=cloud.signing_secret_parameter)["Parameter"]["Value"] != cloud.signing_secret
    )
    decrypted = ssm.get_parameter(Name=cloud.signing_secret_parameter, WithDecryption=True)["Parameter"][
        "Value"
    ]
    assert decrypted == cloud.signing_secret


def test_the_ledger_table_is_keyed_for_the_single_table_layout(cloud):
    table = cloud.client("dynamodb").describe_table(TableName=cloud.outputs["LedgerTableName"])["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_the_client_url_is_stage_configuration_in_ssm(cloud):
    from chalicelib.bootstrap import container

    name = container().settings.client_webhook_url_parameter
    assert name == "/bank/local/client-webhook-url"
    assert cloud.client("ssm").get_parameter(Name=name)["Parameter"]["Value"] == cloud.client_url
