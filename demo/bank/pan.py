"""Card numbers (PANs) as data: the Luhn check, the masked form, and a free text's card numbers masked.

A processor, a merchant or an officer may type a card number where none belongs (a merchant's
name, a review's reason): the bank keeps none in clear, so such a run of digits is masked as it is
read, before anything stores, queues, publishes or logs it.
"""

from __future__ import annotations

import re

# 13 to 19 digits, single spaces or dashes between them allowed (as people type card numbers)
_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def is_luhn(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check (ISO/IEC 7812), as every card number does."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_pan(pan: str) -> str:
    """The first six digits (the issuer) and the last four, the rest starred: PCI DSS's most."""
    if not pan.isdigit() or not 12 <= len(pan) <= 19:
        raise ValueError("a PAN is 12 to 19 digits")
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def mask_card_numbers(text: str) -> str:
    """``text`` with every card-number-like run (13-19 digits, Luhn-valid) masked; the rest as is."""

    def masked(found: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", found.group())
        return mask_pan(digits) if 13 <= len(digits) <= 19 and is_luhn(digits) else found.group()

    return _CANDIDATE.sub(masked, text)
