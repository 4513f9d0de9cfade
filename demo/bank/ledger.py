"""The wallet ledger: what each notification does to a wallet, decided without any storage.

Balances, in the words BaaS users know:

- ``current_balance``: the money really there;
- ``authorizations``: the sum of pending card holds;
- ``authorized_balance = current_balance - authorizations``: what the card may still spend.

Delivery is at least once and in any order: a settlement may arrive before its authorization.
The ledger still converges, because each authorization keeps its own state: whether it was
authorized (and for how much) and whether it is closed (settled or reversed). A hold exists
exactly while an authorization is authorized and not closed, whatever the order of arrival, and
it holds the largest amount any notice of that authorization carried.
Duplicates are the store's job: it commits each ``notification_id`` at most once.

A wallet frozen by a rejected compliance review (step 3) refuses further card authorizations:
a notice that would add or raise a hold changes nothing, and its event says ``refused``.

Each wallet's balance carries a ``version``, one more at each notification applied: a store
writes the balance it was read at, plus the entry's deltas, only if nobody changed the wallet in
between (optimistic concurrency). The balance right after a notification is then known from the
write itself, and kept with the notification's "seen" marker, so that a redelivery publishes
exactly the events the first delivery published.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from demo.bank.cards import SealedCard
from demo.bank.notifications import (
    CARD_AUTHORIZATION,
    CARD_REFUND,
    CARD_REVERSAL,
    CARD_SETTLEMENT,
    CURRENCY,
    PAYIN_RECEIVED,
    Notification,
)


@dataclass(frozen=True)
class Balance:
    wallet_id: str
    current_balance: int
    authorizations: int
    currency: str = CURRENCY
    frozen: bool = False
    # notifications applied to the wallet (0: never stored): the store's concern, not part of the
    # balance's value (two balances with the same amounts are equal) nor shown to clients
    version: int = field(default=0, compare=False)

    @property
    def authorized_balance(self) -> int:
        return self.current_balance - self.authorizations

    def to_dict(self) -> dict[str, object]:
        return {
            "wallet_id": self.wallet_id,
            "currency": self.currency,
            "current_balance": self.current_balance,
            "authorizations": self.authorizations,
            "authorized_balance": self.authorized_balance,
            "frozen": self.frozen,
        }


@dataclass(frozen=True)
class Authorization:
    """What the ledger knows of one card authorization.

    ``version`` is the store's optimistic-concurrency counter (0: not stored yet). ``refused``:
    its first notice came when the wallet was frozen, so it never held anything.
    """

    wallet_id: str
    authorization_id: str
    authorized_amount: int | None = None
    closed: bool = False
    version: int = 0
    refused: bool = False

    @property
    def held(self) -> int:
        """The amount this authorization holds on the wallet right now."""
        if self.authorized_amount is None or self.closed or self.refused:
            return 0
        return self.authorized_amount


@dataclass(frozen=True)
class LedgerEntry:
    """The effect of one notification: balance deltas and the authorization's next state."""

    notification_id: str
    wallet_id: str
    current_delta: int = 0
    authorizations_delta: int = 0
    authorization: Authorization | None = None
    digest: str = ""  # of the notification's body, kept with its "seen" marker
    card: SealedCard | None = None  # the authorization's card, sealed, kept in the same write

    def balance_after(self, before: Balance | None) -> Balance:
        """The wallet's balance once this entry is applied to ``before`` (None: a new wallet)."""
        before = before or Balance(self.wallet_id, 0, 0)
        return replace(
            before,
            current_balance=before.current_balance + self.current_delta,
            authorizations=before.authorizations + self.authorizations_delta,
            version=before.version + 1,
        )


@dataclass(frozen=True)
class WalletState:
    """What a store read for one notification: its wallet's balance and its authorization (if any).

    ``token`` is the store's own note of what it read (a DynamoDB item, say), opaque to the domain,
    handed back to the store with the entry to commit.
    """

    balance: Balance | None = None
    authorization: Authorization | None = None
    token: object = None

    @property
    def frozen(self) -> bool:
        return self.balance is not None and self.balance.frozen


@dataclass(frozen=True)
class Committed:
    """What the ledger holds for a notification once it is committed.

    ``applied`` is False for a notification applied before (a redelivery): nothing changed now,
    and ``balance``, ``applied_at`` and ``digest`` are those kept when it was first applied.
    """

    applied: bool
    balance: Balance
    applied_at: int
    digest: str = ""


# --8<-- [start:decide]
def decide(
    notification: Notification, authorization: Authorization | None = None, *, frozen: bool = False
) -> LedgerEntry:
    """The ledger entry for ``notification``, given its authorization's stored state (if any)
    and whether the wallet is frozen."""
    n = notification
    entry = LedgerEntry(notification_id=n.notification_id, wallet_id=n.wallet_id, digest=n.digest)
    if n.webhook in (PAYIN_RECEIVED, CARD_REFUND):
        return replace(entry, current_delta=_amount(n))
    if n.authorization_id is None:
        raise ValueError(f"{n.webhook} needs an authorization_id")
    before = authorization or Authorization(n.wallet_id, n.authorization_id)
    if n.webhook == CARD_AUTHORIZATION:
        # Several notices for one authorization hold the largest amount: a rule that gives the
        # same result in any order of arrival.
        amount = max(before.authorized_amount or 0, _amount(n))
        if amount == before.authorized_amount or before.refused:
            return entry
        if frozen:  # refused: no hold is added or raised; a new authorization is marked refused
            if before.authorized_amount is not None:
                return entry
            return replace(entry, authorization=replace(before, refused=True))
        after = replace(before, authorized_amount=amount)
        return replace(entry, authorizations_delta=after.held - before.held, authorization=after)
    if n.webhook == CARD_SETTLEMENT:
        after = replace(before, closed=True)
        return replace(
            entry,
            current_delta=-_amount(n),
            authorizations_delta=after.held - before.held,
            authorization=after,
        )
    if n.webhook == CARD_REVERSAL:
        if before.closed:
            return entry
        after = replace(before, closed=True)
        return replace(entry, authorizations_delta=after.held - before.held, authorization=after)
    raise ValueError(f"unknown webhook type {n.webhook!r}")
    # --8<-- [end:decide]


def is_refused(notification: Notification, authorization: Authorization | None, frozen: bool) -> bool:
    """Whether the ledger refused this authorization notice (from the state it stored): the same
    answer for the first delivery and for every redelivery."""
    n = notification
    if not frozen or n.webhook != CARD_AUTHORIZATION:
        return False
    if authorization is None or authorization.refused:
        return True
    return (authorization.authorized_amount or 0) < _amount(n)


def _amount(n: Notification) -> int:
    if n.amount is None:
        raise ValueError(f"{n.webhook} needs an amount")
    return n.amount
