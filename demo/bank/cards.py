"""Card data: what the bank may show of a card, and the port of the vault that seals the rest.

A card's PAN and holder name are stored only encrypted (the vault seals them); in clear the bank
keeps the masked PAN, enough to tell cards apart: ``548821******3691``. The ledger keeps the
sealed card with its authorization, in the same write as the notification that brought it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from demo.bank.notifications import Card
from demo.bank.pan import mask_pan as mask_pan  # where the masked PAN is made


@dataclass(frozen=True)
class SealedCard:
    """The card of an authorization as it is kept: the masked PAN in clear, PAN and holder sealed
    (``ciphertext``) by the key service, bound to the wallet and the authorization."""

    wallet_id: str
    authorization_id: str
    masked_pan: str
    ciphertext: bytes


class CardVault(Protocol):
    def seal(self, wallet_id: str, authorization_id: str, card: Card) -> SealedCard:
        """The card of an authorization, PAN and holder encrypted, bound to the wallet."""
        ...

    def keep(self, card: SealedCard) -> None:
        """Store a sealed card on its own (the ledger keeps it with the commit that applies its
        authorization; this is for a redelivery, when the card could not be sealed the first time)."""
        ...

    def reveal(self, wallet_id: str, authorization_id: str) -> Card | None:
        """The card in clear (for whoever may decrypt it), or None if none is kept."""
        ...
