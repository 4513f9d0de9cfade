"""The use cases, written once against the ports: receive, apply, read a balance.

Entry points (a Flask route, a Chalice handler, an SQS record handler) parse their transport's
event, call one of these, and map :class:`~demo.bank.errors.BankError` to their answer.
"""

from __future__ import annotations

from enum import StrEnum

from demo.bank import notifications, signature
from demo.bank.cards import CardVault
from demo.bank.errors import InvalidWalletId, ReplayRefused, SignatureMismatch, WalletNotFound
from demo.bank.events import events_for
from demo.bank.ledger import Balance, decide, is_refused
from demo.bank.notifications import Notification
from demo.bank.ports import (
    ConcurrentUpdate,
    EventPublisher,
    LedgerStore,
    NotificationQueue,
    SecretSource,
    WalletFrozen,
)


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


def apply(store: LedgerStore, notification: Notification, max_attempts: int = 8) -> Outcome:
    """Worker: apply a notification to the ledger exactly once, whatever the redeliveries.

    The store commits the "seen" marker and the balance change together; a concurrent change
    to the same authorization is retried from a fresh read. Wallets are rarely frozen, so the
    first attempt assumes it is not: a store that finds it frozen refuses the new hold, and the
    retry decides again, knowing.
    """
    frozen = False
    for _ in range(max_attempts):
        current = None
        if notification.authorization_id is not None:
            current = store.authorization(notification.wallet_id, notification.authorization_id)
        try:
            applied = store.commit(decide(notification, current, frozen=frozen))
        except WalletFrozen:
            frozen = True
            continue
        except ConcurrentUpdate:
            continue
        if not applied and notification.digest:
            stored = store.seen_digest(notification.notification_id)
            if stored and stored != notification.digest:
                raise ReplayRefused(f"{notification.notification_id} was applied before with another body")
        return Outcome.APPLIED if applied else Outcome.DUPLICATE
    raise ConcurrentUpdate(f"gave up on {notification.notification_id} after {max_attempts} attempts")


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
    Publishing again on every redelivery, with event ids derived from the notification, closes
    it: the redelivery that SQS makes after the crash publishes them, and consumers deduplicate.
    Payments of ``review_threshold`` cents or more are flagged for a compliance review (step 3).
    The card of an authorization goes to the vault, encrypted (step 4), once the notification is
    known not to be a replay.
    """
    n = notification
    outcome = apply(store, n)
    if cards is not None and n.card is not None and n.authorization_id is not None:
        cards.keep(n.wallet_id, n.authorization_id, n.card)
    balance = store.balance(n.wallet_id)
    if balance is None:  # cannot happen after a commit; a store that lost the wallet is broken
        raise RuntimeError(f"wallet {n.wallet_id} missing after its commit")
    refused = False
    if balance.frozen and n.authorization_id is not None:  # only then can it have been refused
        refused = is_refused(n, store.authorization(n.wallet_id, n.authorization_id), frozen=True)
    publisher.publish(events_for(n, balance, now, refused=refused, review_threshold=review_threshold))
    return outcome
    # --8<-- [end:apply_and_publish]


def balance(store: LedgerStore, wallet_id: str) -> Balance:
    """The balance of a wallet the ledger knows."""
    if not notifications.is_valid_id(wallet_id):
        raise InvalidWalletId("wallet_id must be 1 to 64 characters: letters, digits, '.', '_', ':' or '-'")
    found = store.balance(wallet_id)
    if found is None:
        raise WalletNotFound(f"no wallet {wallet_id!r}")
    return found
