"""Card numbers, digit by digit: the Luhn check, the masked form at its bounds, and what free text masks."""

from __future__ import annotations

import pytest

from demo.bank.pan import is_luhn, mask_card_numbers, mask_pan


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("0", True),
        ("18", True),  # 1 doubled: 2, + 8
        ("42", True),  # 4 doubled: 8 (under 5: no 9 taken off), + 2
        ("59", True),  # 5 doubled: 10 - 9 = 1, + 9
        ("125", True),  # only every second digit from the right is doubled
        ("79927398713", True),
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("1", False),
        ("43", False),
        ("58", False),
        ("126", False),
        ("79927398710", False),
        ("4111111111111112", False),
        ("5555555555554445", False),
        ("5488210000003691", False),  # the tests' card: a valid form, not a real number
    ],
)
def test_the_luhn_check(digits: str, valid: bool) -> None:
    assert is_luhn(digits) is valid


@pytest.mark.parametrize(
    ("pan", "masked"),
    [
        ("548821000091", "548821**0091"),
        ("5488210000003691", "548821******3691"),
        ("5488210000000003691", "548821*********3691"),
    ],
)
def test_a_pan_shows_its_first_six_and_last_four_digits(pan: str, masked: str) -> None:
    assert mask_pan(pan) == masked


@pytest.mark.parametrize(
    "pan", ["54882100009", "54882100000000003691", "5488 2100 0000 3691", "", "abcdefghijklm"]
)
def test_what_is_not_a_pan_cannot_be_masked_as_one(pan: str) -> None:
    with pytest.raises(ValueError, match=r"^a PAN is 12 to 19 digits$"):
        mask_pan(pan)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Cafe 4111111111111111", "Cafe 411111******1111"),
        ("4111 1111 1111 1111 paid", "411111******1111 paid"),
        ("card 4111-1111-1111-1111.", "card 411111******1111."),
        ("4222222222222", "422222***2222"),  # 13 digits: the shortest card number
        ("4000000000000000006", "400000*********0006"),  # 19 digits: the longest
        ("4111111111111111 and 5555555555554444", "411111******1111 and 555555******4444"),
        ("4222222222223", "4222222222223"),  # 13 digits, not Luhn-valid
        ("422222222222", "422222222222"),  # 12 digits: too short to be read as a card number
        ("4111  1111 1111 1111", "4111  1111 1111 1111"),  # two spaces: not one run
    ],
)
def test_a_free_text_has_its_card_numbers_masked_and_nothing_else(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked
