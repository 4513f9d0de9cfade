"""A simulated card processor: a seeded stream of payment notifications, and what they should add up to.

The stream tells a plausible story per wallet (money comes in, cards are authorized, then settled
or reversed, sometimes refunded), then is delivered the way real processors deliver: shuffled
(not ordered) and with duplicates (at least once). The expected balances are computed here, from
the story itself, independently of the ledger that the bank runs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from demo.bank import notifications as n

HOLDERS = ("ALEX OAK", "SAM BIRCH", "NOOR CEDAR", "KAI MAPLE", "LEA ROWAN", "TOM ALDER")
MERCHANTS = (
    ("Corner Grocery", "5411"),
    ("Rail Tickets", "4111"),
    ("Book Nook", "5942"),
    ("Cafe Lumen", "5814"),
)


@dataclass
class ExpectedBalance:
    wallet_id: str
    current_balance: int = 0
    holds: dict[str, int] = field(default_factory=dict)

    @property
    def authorizations(self) -> int:
        return sum(self.holds.values())

    @property
    def authorized_balance(self) -> int:
        return self.current_balance - self.authorizations


@dataclass
class Stream:
    """``deliveries`` in the order they are sent; ``expected`` per wallet; ``distinct`` envelopes."""

    deliveries: list[dict[str, Any]]
    expected: dict[str, ExpectedBalance]
    distinct: int

    @property
    def duplicates(self) -> int:
        return len(self.deliveries) - self.distinct


def luhn_pan(rng: random.Random, prefix: str = "548821") -> str:
    """A 16-digit test card number with a valid Luhn check digit."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    total = 0
    for i, digit in enumerate(reversed(body)):
        d = int(digit) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def envelope(
    webhook: str, payload: dict[str, Any], *, rng: random.Random, created_at: int, obj: str
) -> dict[str, Any]:
    """A notification envelope as the processor sends it (DESIGN.md section 4)."""
    return {
        "webhook": webhook,
        "webhook_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "webhook_created_at": created_at,
        "object": obj,
        "object_id": f"{obj[:3]}-{rng.getrandbits(40):010x}",
        "object_payload": {**payload, "currency": n.CURRENCY},
    }


class _Story:
    def __init__(self, rng: random.Random, wallets: list[str], created_at: int) -> None:
        self.rng = rng
        self.created_at = created_at
        self.expected = {w: ExpectedBalance(w) for w in wallets}
        self.cards = {w: (luhn_pan(rng), rng.choice(HOLDERS)) for w in wallets}
        self.open: dict[str, list[tuple[str, int]]] = {w: [] for w in wallets}
        self.events: list[dict[str, Any]] = []

    def emit(self, webhook: str, payload: dict[str, Any], obj: str) -> None:
        self.created_at += 1
        self.events.append(envelope(webhook, payload, rng=self.rng, created_at=self.created_at, obj=obj))

    def payin(self, wallet: str, amount: int) -> None:
        self.expected[wallet].current_balance += amount
        self.emit(n.PAYIN_RECEIVED, {"wallet_id": wallet, "amount": amount}, "payin")

    def refund(self, wallet: str) -> None:
        amount = self.rng.randrange(100, 5_000)
        self.expected[wallet].current_balance += amount
        self.emit(n.CARD_REFUND, {"wallet_id": wallet, "amount": amount}, "cardtransaction")

    def authorize(self, wallet: str) -> None:
        # from the seeded generator: the same seed gives the same ids, two seeds do not collide
        auth_id = f"auth-{self.rng.getrandbits(48):012x}"
        amount = self.rng.randrange(200, 20_000)
        pan, holder = self.cards[wallet]
        name, mcc = self.rng.choice(MERCHANTS)
        payload = {
            "wallet_id": wallet,
            "authorization_id": auth_id,
            "amount": amount,
            "card": {"pan": pan, "holder": holder},
            "merchant": {"name": name, "mcc": mcc},
        }
        self.expected[wallet].holds[auth_id] = amount
        self.open[wallet].append((auth_id, amount))
        self.emit(n.CARD_AUTHORIZATION, payload, "cardtransaction")

    def settle(self, wallet: str) -> None:
        auth_id, amount = self.open[wallet].pop(self.rng.randrange(len(self.open[wallet])))
        if self.rng.random() < 0.2:  # tips and currency rounding: clearing may differ from the hold
            amount += self.rng.randrange(-100, 300)
        self.expected[wallet].holds.pop(auth_id)
        self.expected[wallet].current_balance -= amount
        payload = {"wallet_id": wallet, "authorization_id": auth_id, "amount": amount}
        self.emit(n.CARD_SETTLEMENT, payload, "cardtransaction")

    def reverse(self, wallet: str) -> None:
        auth_id, _ = self.open[wallet].pop(self.rng.randrange(len(self.open[wallet])))
        self.expected[wallet].holds.pop(auth_id)
        self.emit(n.CARD_REVERSAL, {"wallet_id": wallet, "authorization_id": auth_id}, "cardtransaction")


def generate(
    count: int = 200,
    *,
    seed: int = 42,
    wallets: int = 4,
    duplicates: float = 0.2,
    shuffle: bool = True,
    created_at: int = 1_764_412_800,
    wallet_prefix: str = "w-",
) -> Stream:
    """A stream of ``count`` deliveries, about ``duplicates`` of them repeats of earlier ones."""
    if count < 1 or wallets < 1 or not 0 <= duplicates < 1:
        raise ValueError("count and wallets must be positive, duplicates in [0, 1)")
    rng = random.Random(seed)
    wallet_ids = [f"{wallet_prefix}{i + 1}" for i in range(wallets)]
    distinct = max(1, round(count * (1 - duplicates)))
    story = _Story(rng, wallet_ids, created_at)
    for wallet in wallet_ids[:distinct]:
        story.payin(wallet, rng.randrange(50_000, 200_000))
    while len(story.events) < distinct:
        wallet = rng.choice(wallet_ids)
        roll = rng.random()
        has_open = bool(story.open[wallet])
        if roll < 0.15:
            story.payin(wallet, rng.randrange(1_000, 50_000))
        elif roll < 0.55 or not has_open:
            story.authorize(wallet)
        elif roll < 0.80:
            story.settle(wallet)
        elif roll < 0.92:
            story.reverse(wallet)
        else:
            story.refund(wallet)
    deliveries = list(story.events)
    if shuffle:
        rng.shuffle(deliveries)
    for _ in range(count - distinct):
        deliveries.insert(rng.randrange(len(deliveries) + 1), rng.choice(story.events))
    return Stream(deliveries=deliveries, expected=story.expected, distinct=distinct)
