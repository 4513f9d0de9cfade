"""Partial batch responses for SQS handlers: each record on its own, the failed ones reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalicelib.logs import correlate

log = logging.getLogger("bank")


class RecordFailed(Exception):
    """An expected failure of one record (a client down, say): logged in one line, retried by SQS."""


def process_partial(records: Any, handle: Callable[[Any], None]) -> dict[str, list[dict[str, str]]]:
    """Call ``handle`` per record; return ``batchItemFailures`` naming the records that raised.

    SQS then deletes the others and redelivers only these (with the event source mapping's
    ``FunctionResponseTypes: [ReportBatchItemFailures]``).
    """
    failures = []
    for record in records:
        message_id = record.to_dict()["messageId"]
        correlate(message_id)  # the handler narrows it to its notification or event id
        try:
            handle(record)
        except RecordFailed as error:
            log.warning("record %s failed (%s); SQS will redeliver it", message_id, error)
            failures.append({"itemIdentifier": message_id})
        except Exception:
            log.exception("record %s failed; SQS will redeliver it", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
