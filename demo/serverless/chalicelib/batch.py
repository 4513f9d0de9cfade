"""Partial batch responses for SQS handlers: each record on its own, the failed ones reported."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from chalicelib.logs import correlate, correlation_id
from chalicelib.outages import OutageRequeue, is_outage

if TYPE_CHECKING:  # for the annotations only: importing chalice.app is app.py's business
    from chalice.app import SQSRecord

log = logging.getLogger("bank")

# What a batch's last step (``finish``) returns: the records it could not complete, by message id
Unfinished = Mapping[str, BaseException]


class RecordFailed(Exception):
    """An expected failure of one record (a client down, say): logged in one line, retried by SQS."""


# --8<-- [start:process_partial]
def process_partial(
    records: Iterable[SQSRecord],
    handle: Callable[[SQSRecord], None],
    requeue: OutageRequeue | None = None,
    *,
    finish: Callable[[], Unfinished] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Call ``handle`` per record; return ``batchItemFailures`` naming the records that raised.

    SQS then deletes the others and redelivers only these (with the event source mapping's
    ``FunctionResponseTypes: [ReportBatchItemFailures]``). With ``requeue``, a record that meets
    an outage (see :mod:`chalicelib.outages`) goes back to its queue, delayed, and so does the
    rest of the batch, untried: the service that is down is not called again in this batch.

    ``finish`` is the batch's last step, for the work done once for all its records (one
    PutEvents for the events of ten notifications, one write for ten audit entries, ten webhooks
    posted at once): it returns the records it could not complete, which then fail (or go back,
    for an outage) as if their ``handle`` had raised.
    """
    by_id = {record.to_dict()["messageId"]: record for record in records}
    errors: dict[str, tuple[BaseException, str]] = {}  # message id -> (error, correlation id)
    outage: BaseException | None = None
    for message_id, record in by_id.items():
        correlate(message_id)  # the handler narrows it to its notification or event id
        if outage is not None:
            errors[message_id] = (outage, message_id)  # untried: the service is still down
            continue
        try:
            handle(record)
        except Exception as error:
            errors[message_id] = (error, correlation_id.get())
            if requeue is not None and is_outage(error):
                outage = error
                log.warning("outage: %s; the batch goes back to its queue, delayed", _describe(error))
    if finish is not None and len(errors) < len(by_id):
        unfinished = {m: e for m, e in finish().items() if m in by_id and m not in errors}
        for cause in {id(e): e for e in unfinished.values() if is_outage(e)}.values():
            log.warning("outage: %s; its records go back to their queue, delayed", _describe(cause))
        errors.update({m: (e, m) for m, e in unfinished.items()})
    failures = []
    for message_id, (failure, correlated) in errors.items():
        correlate(correlated)
        if not _settled(by_id[message_id], message_id, failure, requeue):
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
    # --8<-- [end:process_partial]


def _settled(record: SQSRecord, message_id: str, error: BaseException, requeue: OutageRequeue | None) -> bool:
    """Deal with a record that raised: True if it went back to its queue, False if SQS must redeliver it."""
    if requeue is not None and is_outage(error):
        return _requeued(requeue, record, message_id)
    if isinstance(error, RecordFailed):
        log.warning("record %s failed (%s); SQS will redeliver it", message_id, error)
    else:
        log.error("record %s failed; SQS will redeliver it", message_id, exc_info=error)
    return False


def _requeued(requeue: OutageRequeue, record: SQSRecord, message_id: str) -> bool:
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
