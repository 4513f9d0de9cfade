"""The bank's serverless side on Lambda, with Chalice playing the part Bref played for PHP.

Each handler is thin: parse the event, call the domain (demo.bank), answer.

- ``POST /notifications``: verify, validate, enqueue to SQS; 202. Writes nothing but the queue.
- the worker (SQS): applies each notification to the DynamoDB ledger, publishes its events.
- the dispatcher (SQS, from EventBridge): signed webhooks to the client, retried with backoff.
- the audit writer (SQS, from EventBridge): an append-only history per wallet.
- the review desk (SQS, from EventBridge): starts a large payment's review workflow (Step
  Functions, no Lambda inside) and files the task token the workflow waits with.
- ``GET /reviews``, ``POST /reviews/{review_id}/decision``: the compliance officer's side.
- ``GET /wallets/{wallet_id}/balance`` and ``GET /health``.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from chalice import Chalice, IAMAuthorizer, Response  # type: ignore[attr-defined]  # chalice re-exports them without __all__
from chalice.app import Request, SQSEvent, SQSRecord

from chalicelib import logs
from chalicelib.batch import process_partial
from chalicelib.bootstrap import AUDIT_QUEUE, NOTIFICATIONS_QUEUE, REVIEWS_QUEUE, WEBHOOKS_QUEUE, container
from chalicelib.outages import is_outage
from chalicelib.webhooks import Outbox
from demo.bank import notifications, reviews, service
from demo.bank.errors import BankError, ReplayRefused, ServiceUnavailable
from demo.bank.events import DomainEvent
from demo.bank.signature import SIGNATURE_HEADER
from demo.bank.webhooks import webhook_for

app = Chalice(app_name="bank", configure_logs=False)
log = logs.configure(app.log)  # JSON lines with a correlation id; no card number ever
# Balances and compliance decisions are not for everyone: on AWS, the balance and review routes
# take only requests signed (SigV4) by an IAM principal allowed to invoke them (`bankdemo` signs
# with your AWS credentials). The local cloud admits every request.
iam = IAMAuthorizer()


# --8<-- [start:json_errors]
def json_errors[**P, R](view: Callable[P, R]) -> Callable[P, R | Response]:
    """Answer a domain error with its status and ``{"error": {"code", "message"}}``; a service
    that is down (DynamoDB for a balance, say) with 503 and ``Retry-After``, not a bare 500."""

    @functools.wraps(view)
    def answer(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        try:
            return view(*args, **kwargs)
        except BankError as error:
            headers: dict[str, str | list[str]] = {"Retry-After": "5"} if error.status == 503 else {}
            return Response(status_code=error.status, body=error.to_dict(), headers=headers)
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("answering 503: %s", error)
            unavailable = ServiceUnavailable("a service the bank depends on is unavailable: retry later")
            return Response(status_code=503, body=unavailable.to_dict(), headers={"Retry-After": "5"})

    return answer
    # --8<-- [end:json_errors]


@app.middleware("http")
def chalice_errors_as_json(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Give Chalice's own errors (415, 405, 500) the same JSON shape as ours."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = re.sub(
            r"(?<!^)(?=[A-Z])", "_", str(body["Code"])
        ).lower()  # UnsupportedMediaType -> unsupported_media_type
        response.body = {"error": {"code": code, "message": body.get("Message", "")}}
    return response


@app.route("/notifications", methods=["POST"])
@json_errors
def receive_notification() -> Response:
    """The processor's webhook: ``{"webhook": ..., "webhook_id": ..., "object_payload": {...}}``."""
    request = app.current_request
    assert request is not None  # Chalice sets it before it calls a route's view
    logs.correlate(str((request.context or {}).get("requestId", "-")))
    deps = container()
    notification = service.receive(
        cast(bytes, request.raw_body),  # bytes: Chalice encodes a text body (typed str | bytes)
        request.headers.get(SIGNATURE_HEADER),
        secrets=deps.secrets,
        queue=deps.queue,
        now=time.time(),
    )
    logs.correlate(notification.notification_id)
    log.info("accepted %s for wallet %s", notification.webhook, notification.wallet_id)
    return Response(
        status_code=202, body={"notification_id": notification.notification_id, "status": "accepted"}
    )


@app.route("/wallets/{wallet_id}/balance", methods=["GET"], authorizer=iam)
@json_errors
def wallet_balance(wallet_id: str) -> dict[str, object]:
    return service.balance(container().ledger, wallet_id).to_dict()


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "stage": container().settings.stage}


@app.on_sqs_message(queue=NOTIFICATIONS_QUEUE, batch_size=10)
def apply_notifications(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """Worker. Event: ``{"Records": [{"messageId", "receiptHandle", "body": <envelope JSON>, ...}]}``.

    Applies each notification to the ledger, then publishes its events (again, for a duplicate:
    see ``service.apply_and_publish``). Failed records go back as ``batchItemFailures``.
    """
    deps = container()
    events = deps.events.batch()  # the batch's events, published together once it is applied

    def apply(record: SQSRecord) -> None:
        notification = notifications.parse(record.body.encode("utf-8"))
        logs.correlate(notification.notification_id)
        try:
            service.apply_and_publish(
                deps.ledger,
                events.of(record.to_dict()["messageId"]),
                notification,
                now=int(time.time()),
                review_threshold=deps.settings.review_threshold_cents,
                cards=deps.cards,
            )
        except ReplayRefused as refused:  # never applied, never published, never retried: counted
            log.warning("replay refused: %s", refused.message)
            deps.counters.add("replays_refused")

    return process_partial(event, apply, deps.requeue, finish=events.flush)


# --8<-- [start:deliver_webhooks]
@app.on_sqs_message(queue=WEBHOOKS_QUEUE, batch_size=10)
def deliver_webhooks(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """Dispatcher. Each record's body is an EventBridge event whose ``detail`` is a domain event.

    A failed delivery is retried later: its visibility is set to an exponential backoff, and
    after the queue's maxReceiveCount it moves to the dead-letter queue (``bankdemo redrive``).
    """
    deps = container()
    outbox = Outbox(deps.backoff)  # the batch's webhooks go out together: one slow answer, not ten

    def deliver(record: SQSRecord) -> None:
        webhook = webhook_for(DomainEvent.from_detail(json.loads(record.body)["detail"]))
        logs.correlate(webhook["webhook_id"])
        url, secret = deps.client_webhook_url.value(), deps.client_webhook_secret.value()
        outbox.add(record.to_dict(), url, secret, webhook)

    result = process_partial(event, deliver, deps.requeue, finish=outbox.send)
    if outbox.delivered:  # one write for the batch
        try:
            deps.counters.add("webhooks_delivered", outbox.delivered)
        except Exception as error:  # DynamoDB down: the webhooks went out, only their count is lost
            if not is_outage(error):
                raise
            log.warning("%d webhooks delivered but not counted: %s", outbox.delivered, error)
    return result
    # --8<-- [end:deliver_webhooks]


@app.on_sqs_message(queue=AUDIT_QUEUE, batch_size=10)
def write_audit(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """Audit writer: appends each event once to the wallet's history, the batch in one write."""
    deps = container()
    entries = deps.audit.batch()

    def record(r: SQSRecord) -> None:
        domain_event = DomainEvent.from_detail(json.loads(r.body)["detail"])
        logs.correlate(domain_event.event_id)
        entries.add(r.to_dict()["messageId"], domain_event)

    return process_partial(event, record, deps.requeue, finish=entries.flush)


# --8<-- [start:reviews]
@app.on_sqs_message(queue=REVIEWS_QUEUE, batch_size=10)
def review_desk(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """A ``LargePaymentFlagged`` event starts the payment's review workflow (its execution is
    named by the review id: a redelivery starts nothing); the workflow's ``ReviewRequested``
    brings the task token that a decision will resume it with."""
    deps = container()

    def handle(record: SQSRecord) -> None:
        event = json.loads(record.body)
        service.on_review_event(event["detail-type"], event["detail"], deps.reviews, deps.review_workflow)

    return process_partial(event, handle, deps.requeue)


@app.route("/reviews", methods=["GET"], authorizer=iam)
@json_errors
def list_reviews() -> dict[str, object]:
    """``?status=pending|approved|rejected|escalated|all`` (default: all)."""
    request = app.current_request
    assert request is not None  # Chalice sets it before it calls a route's view
    query: Mapping[str, str] = request.query_params or {}
    status = reviews.parse_status(query.get("status"))
    return {"reviews": [r.to_dict() for r in container().reviews.reviews(status)]}


@app.route("/reviews/{review_id}", methods=["GET"], authorizer=iam)
@json_errors
def get_review(review_id: str) -> dict[str, object]:
    return service.review(container().reviews, review_id).to_dict()


def _caller(context: dict[str, Any]) -> str:
    """Who sends the request: the IAM principal API Gateway's IAM authorizer verified (its ARN)."""
    identity = context.get("identity") or {}
    return identity.get("userArn") or identity.get("caller") or "unknown (no IAM principal)"


@app.route("/reviews/{review_id}/decision", methods=["POST"], authorizer=iam)
@json_errors
def decide_review(review_id: str) -> Response:
    """``{"decision": "approve"|"reject", "reason": "..."}``: resumes the waiting workflow, which
    records the decision (and, for a rejection, freezes the wallet)."""
    deps = container()
    request = app.current_request
    assert request is not None  # Chalice sets it before it calls a route's view
    body = cast(bytes, request.raw_body)  # bytes: Chalice encodes a text body (typed str | bytes)
    decision = service.submit_decision(
        deps.reviews, deps.review_workflow, review_id, body, decided_by=_caller(request.context)
    )
    return Response(
        status_code=202, body={"review_id": review_id, **decision.to_dict(), "status": "accepted"}
    )
    # --8<-- [end:reviews]
