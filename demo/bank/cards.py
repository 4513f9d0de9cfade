"""Card data: what the bank may show of a card, and the port of the vault that keeps the rest.

A card's PAN and holder name are stored only encrypted (the vault's business); in clear the bank
keeps the masked PAN, enough to tell cards apart: ``548821******3691``.
"""

from __future__ import annotations

from typing import Protocol

from demo.bank.notifications import Card


def mask_pan(pan: str) -> str:
    """The first six digits (the issuer) and the last four, the rest starred: PCI DSS's most."""
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        raise ValueError("a PAN is 12 to 19 digits")
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


class CardVault(Protocol):
    def keep(self, wallet_id: str, authorization_id: str, card: Card) -> None:
        """Store the card of an authorization: PAN and holder encrypted, bound to the wallet."""
        ...

    def reveal(self, wallet_id: str, authorization_id: str) -> Card | None:
        """The card in clear (for whoever may decrypt it), or None if none is kept."""
        ...
