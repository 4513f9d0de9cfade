"""``bankdemo reset``: a running system put back to a clean state in seconds, without a restart."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from demo import settings
from demo.operations.reviews import STATE_MACHINE
from demo.workshop.stage import (
    BadInput,
    NothingRunning,
    Stage,
    check_url,
    client_log,
    cloud_faults,
    get_json,
    http,
)


@dataclass
class ResetReport:
    done: list[tuple[str, str]] = field(default_factory=list)  # (what, how it went)
    seconds: float = 0.0


def reset(
    aws_endpoint: str,
    client_control: str = settings.CLIENT_CONTROL_URL,
    monolith_url: str | None = settings.MONOLITH_URL,
    stage: str = "local",
) -> ResetReport:
    """Put the running local cloud (and the client, and the monolith if they run) back to a clean state.

    Nothing is restarted: faults off, the client up with an empty log, every queue and DLQ purged,
    the review executions stopped and forgotten (the state machine created again, same ARN), the
    bank's tables emptied (ledger, counters, reviews, cards, audit). The signing secrets are kept.
    Raises NothingRunning, or BadInput before anything is changed.
    """
    started = time.perf_counter()
    aws_endpoint = check_url("--aws-endpoint", aws_endpoint)
    client_control = check_url("--client-control", client_control)
    if monolith_url is not None:
        monolith_url = check_url("--monolith", monolith_url)
    faults = cloud_faults(aws_endpoint)
    if faults is None:
        raise NothingRunning(aws_endpoint)
    target = Stage("", aws_endpoint, client_control, "", stage)
    tables = [t for t in _list_tables(target) if t.startswith("bank-") and t.endswith(f"-{stage}")]
    if f"bank-ledger-{stage}" not in tables:
        raise BadInput(f"no table bank-ledger-{stage} at {aws_endpoint}: is --stage {stage!r} right?")
    report = ResetReport()
    _reset_faults(aws_endpoint, faults, report)
    _reset_client(client_control, report)
    _reset_reviews(target, report)
    _purge_queues(target, report)
    for table in tables:
        report.done.append((f"table {table}", f"{_clear_table(target, table)} item(s) deleted"))
    _purge_queues(target, None)  # what a handler still under way added meanwhile
    _reset_client(client_control, None)
    if monolith_url is not None:
        _reset_monolith(monolith_url, report)
    report.seconds = time.perf_counter() - started
    return report


def _list_tables(stage: Stage) -> list[str]:
    names: list[str] = []
    for page in stage.aws("dynamodb").get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def _post(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http().post(url, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _reset_faults(aws_endpoint: str, faults: dict[str, Any], report: ResetReport) -> None:
    on = [f"{t} {f['mode']}" for t, f in sorted(faults.items()) if f.get("mode") != "up"]
    _post(f"{aws_endpoint}/_chaos/reset")
    report.done.append(("faults", f"mended: {', '.join(on)}" if on else "none was on"))


def _reset_client(control_url: str, report: ResetReport | None) -> None:
    found = client_log(control_url)
    if found is None:
        if report is not None:
            report.done.append(("fintech client", f"none answers at {control_url} (`bankdemo client up`)"))
        return
    _post(f"{control_url}/mode", {"mode": "up"})
    _post(f"{control_url}/reset")
    if report is not None:
        mode = "up" if found["mode"] == "up" else f"{found['mode']} -> up"
        report.done.append(("fintech client", f"{mode}, {found['stats']['received']} webhook(s) forgotten"))


def _reset_reviews(stage: Stage, report: ResetReport) -> None:
    sfn = stage.aws("stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    if STATE_MACHINE not in machines:
        report.done.append(("review workflow", f"no {STATE_MACHINE} state machine"))
        return
    arn = machines[STATE_MACHINE]
    executions = [
        e for p in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn) for e in p["executions"]
    ]
    running = [e["executionArn"] for e in executions if e["status"] == "RUNNING"]
    for execution in running:  # a waiting one would wake up at its timeout and publish
        sfn.stop_execution(executionArn=execution, cause="bankdemo reset")
    if executions:  # Step Functions never forgets an execution: the state machine is created again
        machine = sfn.describe_state_machine(stateMachineArn=arn)
        sfn.delete_state_machine(stateMachineArn=arn)
        sfn.create_state_machine(
            name=machine["name"],
            definition=machine["definition"],
            roleArn=machine["roleArn"],
            type=machine["type"],
        )
    report.done.append(
        ("review workflow", f"{len(executions)} execution(s) forgotten, {len(running)} stopped")
    )


def _purge_queues(stage: Stage, report: ResetReport | None, settle: float = 10.0) -> None:
    """Purge the queues and DLQs that hold messages, until they stay empty (a handler under way may add some)."""
    sqs = stage.aws("sqs")
    before = depths = stage.depths()
    deadline = time.monotonic() + settle
    quiet = 0
    while quiet < 2:
        held = [name for name, depth in sorted(depths.items()) if any(depth.values())]
        for name in held:
            _purge(sqs, name)
        quiet = 0 if held else quiet + 1
        if quiet == 2 or (report is None and quiet == 1):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the queues did not stay empty within {settle:.0f} s: {depths}")
        time.sleep(0.2)
        depths = stage.depths()
    if report is not None:
        counts = {q: sum(d.values()) for q, d in sorted(before.items()) if any(d.values())}
        text = ", ".join(f"{q} {count}" for q, count in counts.items()) if counts else "all were empty"
        report.done.append((f"{len(before)} queues", f"purged: {text}"))


def _purge(sqs: Any, name: str) -> None:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    try:
        sqs.purge_queue(QueueUrl=url)
    except sqs.exceptions.PurgeQueueInProgress:  # at most once a minute on AWS: delete what is visible
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


def _clear_table(stage: Stage, table: str) -> int:
    """Delete every item of ``table`` (scan the keys, delete them 25 at a time); how many."""
    dynamodb = stage.aws("dynamodb")
    keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
    names = {f"#k{i}": key for i, key in enumerate(keys)}
    deleted = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
        ConsistentRead=True,
    )
    for page in pages:
        items = page["Items"]
        for i in range(0, len(items), 25):
            pending: dict[str, Any] = {table: [{"DeleteRequest": {"Key": key}} for key in items[i : i + 25]]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        deleted += len(items)
    return deleted


def _reset_monolith(url: str, report: ResetReport) -> None:
    if get_json(f"{url}/_admin/status", 3) is None:
        report.done.append(("monolith", f"none answers at {url}: nothing to reset"))
        return
    for fault in ("database-up", "worker-start"):
        _post(f"{url}/_admin/faults/{fault}")
    report.done.append(
        ("monolith", "database up, worker running; its ledger and broker are kept (restart it to empty them)")
    )
