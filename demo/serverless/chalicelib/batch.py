"""Partial batch responses for SQS handlers: each record on its own, the failed ones reported."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalicelib.logs import correlate
from chalicelib.outages import OutageRequeue, is_outage

log = logging.getLogger("bank")


class RecordFailed(Exception):
    """An expected failure of one record (a client down, say): logged in one line, retried by SQS."""


# --8<-- [start:process_partial]
def process_partial(
    records: Any, handle: Callable[[Any], None], requeue: OutageRequeue | None = None
) -> dict[str, list[dict[str, str]]]:
    """Call ``handle`` per record; return ``batchItemFailures`` naming the records that raised.

    SQS then deletes the others and redelivers only these (with the event source mapping's
    ``FunctionResponseTypes: [ReportBatchItemFailures]``). With ``requeue``, a record that meets
    an outage (see :mod:`chalicelib.outages`) goes back to its queue, delayed, and so does the
    rest of the batch, untried: the service that is down is not called again in this batch.
    """
    failures = []
    outage: BaseException | None = None
    for record in records:
        message_id = record.to_dict()["messageId"]
        correlate(message_id)  # the handler narrows it to its notification or event id
        if outage is None:
            try:
                handle(record)
                continue
            except RecordFailed as error:
                log.warning("record %s failed (%s); SQS will redeliver it", message_id, error)
                failures.append({"itemIdentifier": message_id})
                continue
            except Exception as error:
                if requeue is None or not is_outage(error):
                    log.exception("record %s failed; SQS will redeliver it", message_id)
                    failures.append({"itemIdentifier": message_id})
                    continue
                outage = error
                log.warning("outage: %s; the batch goes back to its queue, delayed", _describe(error))
        assert requeue is not None  # an outage is only kept with a requeue
        if not _requeued(requeue, record, message_id):
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
    # --8<-- [end:process_partial]


def _requeued(requeue: OutageRequeue, record: Any, message_id: str) -> bool:
    try:
        seconds = requeue.later(record.to_dict())
    except Exception as error:  # the queue itself is down: the record's receive counts after all
        log.warning(
            "record %s cannot go back to its queue (%s); SQS will redeliver it", message_id, _describe(error)
        )
        return False
    if seconds is None:
        log.warning("record %s met too many outages; SQS will redeliver it", message_id)
        return False
    log.info("record %s requeued, next try in %s s", message_id, seconds)
    return True


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
