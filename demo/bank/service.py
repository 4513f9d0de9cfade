"""The use cases, written once against the ports: receive, apply, read a balance; start, feed and
resume a large payment's review.

Entry points (a Flask route, a Chalice handler, an SQS record handler) parse their transport's
event, call one of these, and map :class:`~demo.bank.errors.BankError` to their answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any, NoReturn

from demo.bank import notifications, reviews, signature
from demo.bank.cards import CardVault, SealedCard
from demo.bank.errors import (
    DecisionConflict,
    InvalidWalletId,
    ReplayRefused,
    ReviewClosed,
    ReviewNotFound,
    ReviewNotReady,
    SignatureMismatch,
    WalletNotFound,
)
from demo.bank.events import events_for
from demo.bank.ledger import Balance, Committed, decide, is_refused
from demo.bank.notifications import Notification
from demo.bank.ports import (
    ConcurrentUpdate,
    EventPublisher,
    LedgerStore,
    NotificationQueue,
    ReviewStore,
    ReviewWorkflow,
    SecretSource,
)
from demo.bank.reviews import DecisionRequest, Review, Status


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


def receive(
    body: bytes,
    signature_header: str | None,
    *,
    secrets: SecretSource,
    queue: NotificationQueue,
    now: float,
) -> Notification:
    """Ingress: check size and signature, validate, enqueue. Writes nothing but the queue.

    A well-formed, fresh signature that matches none of the cached secrets gets one more chance
    with freshly read ones (the secret may have just been rotated); the source decides how often
    that may happen. A missing, malformed or stale signature gets no second chance: no secret
    could help it.
    """
    notifications.check_size(body)
    try:
        signature.verify(secrets.signing_secrets(), body, signature_header, now)
    except SignatureMismatch:
        if not secrets.refresh():
            raise
        signature.verify(secrets.signing_secrets(), body, signature_header, now)
    notification = notifications.parse(body)
    queue.enqueue(notification, body.decode("utf-8"))
    return notification


def commit(
    store: LedgerStore,
    notification: Notification,
    now: int,
    cards: CardVault | None = None,
    max_attempts: int = 10,
    pause: Callable[[float], None] = time.sleep,
) -> Committed:
    """Worker: apply a notification to the ledger exactly once, whatever the redeliveries.

    Read the wallet (and the authorization), decide, commit: the store writes the entry with the
    "seen" marker only if nothing changed since the read, else it is read again and decided again,
    after a random pause that doubles at each conflict (writers racing on one wallet spread out).
    A redelivery finds the marker and gets back what the first delivery committed, unless its
    body differs from the one applied (a replay: refused).

    The card of an authorization is sealed by the vault first, and kept in the same write
    (step 4). If it cannot be sealed (the key service is down), the ledger goes on without it,
    then the error is raised: the record comes back, and its redelivery keeps the card.
    """
    n = notification
    sealed: SealedCard | None = None
    unsealed: Exception | None = None
    if cards is not None and n.card is not None and n.authorization_id is not None:
        try:
            sealed = cards.seal(n.wallet_id, n.authorization_id, n.card)
        except Exception as error:  # raised once the ledger has gone on without the card
            unsealed = error
    for attempt in range(max_attempts):
        state = store.read(n.wallet_id, n.authorization_id)
        entry = decide(n, state.authorization, frozen=state.frozen)
        try:
            committed = store.commit(entry if sealed is None else replace(entry, card=sealed), state, now)
        except ConcurrentUpdate:
            pause(random.uniform(0, min(0.2, 0.002 * 2**attempt)))  # noqa: S311 - jitter, not a secret
            continue
        if not committed.applied and n.digest and committed.digest and committed.digest != n.digest:
            raise ReplayRefused(f"{n.notification_id} was applied before with another body")
        if unsealed is not None:
            raise unsealed
        if sealed is not None and not committed.applied and cards is not None:
            cards.keep(sealed)  # a redelivery: the first delivery may have gone on without its card
        return committed
    raise ConcurrentUpdate(f"gave up on {n.notification_id} after {max_attempts} attempts")


def apply(store: LedgerStore, notification: Notification, now: int | None = None) -> Outcome:
    """:func:`commit`, told as applied or duplicate (the monolith's worker, the tests)."""
    committed = commit(store, notification, int(time.time()) if now is None else now)
    return Outcome.APPLIED if committed.applied else Outcome.DUPLICATE


# --8<-- [start:apply_and_publish]
def apply_and_publish(
    store: LedgerStore,
    publisher: EventPublisher,
    notification: Notification,
    now: int,
    review_threshold: int | None = None,
    cards: CardVault | None = None,
) -> Outcome:
    """Worker (step 2): apply, then publish the notification's events, duplicate or not.

    Publishing after the commit leaves a gap: a crash between the two would lose the events.
    Publishing again on every redelivery closes it: the redelivery that SQS makes after the crash
    publishes them, and consumers deduplicate by event id. A redelivery publishes the very same
    events: their ids derive from the notification, and their balance and time are the ones the
    ledger kept with the notification's marker.
    Payments of ``review_threshold`` cents or more are flagged for a compliance review (step 3).
    The card of an authorization is sealed by the vault and kept with the commit (step 4).
    """
    n = notification
    committed = commit(store, n, now, cards)
    refused = False
    if committed.balance.frozen and n.authorization_id is not None:  # only then can it have been refused
        refused = is_refused(n, store.read(n.wallet_id, n.authorization_id).authorization, frozen=True)
    events = events_for(
        n, committed.balance, committed.applied_at, refused=refused, review_threshold=review_threshold
    )
    publisher.publish(events)
    return Outcome.APPLIED if committed.applied else Outcome.DUPLICATE
    # --8<-- [end:apply_and_publish]


def balance(store: LedgerStore, wallet_id: str) -> Balance:
    """The balance of a wallet the ledger knows."""
    if not notifications.is_valid_id(wallet_id):
        raise InvalidWalletId("wallet_id must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'")
    found = store.balance(wallet_id)
    if found is None:
        raise WalletNotFound(f"no wallet {wallet_id!r}")
    return found


# The review of a large payment (step 3): the workflow runs it, these start, feed and resume it.
# --8<-- [start:reviews]
def on_review_event(
    detail_type: str, detail: dict[str, Any], store: ReviewStore, workflow: ReviewWorkflow
) -> str:
    """The review desk's queue: a flagged payment starts its review (once); the workflow's
    ``ReviewRequested`` hands over the task token that a decision resumes it with."""
    if detail_type == reviews.LARGE_PAYMENT_FLAGGED:
        started = workflow.start(reviews.ReviewRequest.from_dict(detail["payload"]))
        return "started" if started else "already started"
    if detail_type == reviews.REVIEW_REQUESTED:
        store.file_token(detail["review_id"], detail["task_token"])
        return "token filed"
    raise ValueError(f"the review desk does not handle {detail_type!r} events")


def review(store: ReviewStore, review_id: str) -> Review:
    """The review of that id; :class:`ReviewNotFound` if there is none (or the id is malformed)."""
    review_id = review_id.lower()  # ids are lower-case wherever they are keyed
    found = store.review(review_id) if reviews.is_review_id(review_id) else None
    if found is None:
        raise ReviewNotFound(f"no review {review_id!r}")
    return found


def submit_decision(
    store: ReviewStore, workflow: ReviewWorkflow, review_id: str, body: bytes, decided_by: str
) -> DecisionRequest:
    """Hand a decision to the waiting workflow (which records it and acts on it).

    Exactly one decision wins: it is accepted by a conditional write on the review before the
    workflow is resumed; a decision that comes second, even at the same instant, gets
    :class:`DecisionConflict`, which names the decision that stands and who made it.
    """
    decision = replace(reviews.parse_decision(body), decided_by=decided_by)
    found = review(store, review_id)
    won, current = store.claim(found.review_id, decision)
    if not won:
        _refuse(current)
    assert current.task_token is not None  # a claim holds only on a pending review with its token
    workflow.resume(current.task_token, decision)
    return decision


def _refuse(standing: Review) -> NoReturn:
    """Why a decision was not accepted: the review is closed, not ready, or decided by another."""
    rid = standing.review_id
    if standing.status is not Status.PENDING:
        by = f" ({standing.decision} by {standing.decided_by})" if standing.decided_by else ""
        raise ReviewClosed(f"review {rid} is {standing.status}{by}: it no longer takes a decision")
    if standing.claimed is not None:
        raise DecisionConflict(
            f"review {rid} already has a decision: {standing.claimed} by {standing.claimed_by}; it stands"
        )
    raise ReviewNotReady(f"review {rid} is being opened: try again in a few seconds")
    # --8<-- [end:reviews]
