"""The bank's serverless side on Lambda, with Chalice playing the part Bref played for PHP.

Three handlers, each thin: parse the event, call the domain (demo.bank), answer.

- ``POST /notifications``: verify, validate, enqueue to SQS; 202. Writes nothing but the queue.
- the SQS worker: applies each notification to the DynamoDB ledger, reports partial batch failures.
- ``GET /wallets/{wallet_id}/balance`` and ``GET /health``.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import SQSEvent

from chalicelib.bootstrap import NOTIFICATIONS_QUEUE, container
from demo.bank import notifications, service
from demo.bank.errors import BankError
from demo.bank.signature import SIGNATURE_HEADER

app = Chalice(app_name="bank")


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a domain error with its status and ``{"error": {"code", "message"}}``."""

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except BankError as error:
            return Response(status_code=error.status, body=error.to_dict())

    return answer


@app.middleware("http")
def chalice_errors_as_json(event: Any, get_response: Callable[[Any], Response]) -> Response:
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
    deps = container()
    notification = service.receive(
        request.raw_body,
        request.headers.get(SIGNATURE_HEADER),
        secrets=deps.secrets,
        queue=deps.queue,
        now=time.time(),
    )
    return Response(
        status_code=202, body={"notification_id": notification.notification_id, "status": "accepted"}
    )


@app.route("/wallets/{wallet_id}/balance", methods=["GET"])
@json_errors
def wallet_balance(wallet_id: str) -> dict[str, object]:
    return service.balance(container().ledger, wallet_id).to_dict()


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "stage": container().settings.stage}


@app.on_sqs_message(queue=NOTIFICATIONS_QUEUE, batch_size=10)
def apply_notifications(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """Worker. Event: ``{"Records": [{"messageId", "receiptHandle", "body": <envelope JSON>, ...}]}``.

    Each record is applied on its own; the ids of the failed ones go back as
    ``batchItemFailures``, so SQS retries only those (and moves them to the DLQ in the end).
    """
    ledger = container().ledger
    failures = []
    for record in event:
        try:
            service.apply(ledger, notifications.parse(record.body.encode("utf-8")))
        except Exception:
            app.log.exception("notification failed: message %s", record.to_dict().get("messageId"))
            failures.append({"itemIdentifier": record.to_dict()["messageId"]})
    return {"batchItemFailures": failures}
