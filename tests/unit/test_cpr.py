from datetime import date

import pytest

from hub.schemas.cpr import birth_date, make_cpr, normalise


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("010112-4123", date(2012, 1, 1)),  # 7th digit 4, year <= 36: 2000s
        ("010150-4123", date(1950, 1, 1)),  # 7th digit 4, year > 36: 1900s
        ("311299-1234", date(1999, 12, 31)),  # 7th digit 0-3: 1900s
        ("010140-5123", date(2040, 1, 1)),  # 7th digit 5-8, year <= 57: 2000s
        ("010160-6123", date(1860, 1, 1)),  # 7th digit 5-8, year > 57: 1800s
        ("0101129123", date(2012, 1, 1)),  # no dash
    ],
)
def test_century_from_seventh_digit(cpr: str, born: date) -> None:
    assert birth_date(cpr) == born


@pytest.mark.parametrize("bad", ["320112-4123", "011312-4123", "12345", "abcdef-ghij", "010112-41234"])
def test_invalid_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise(bad)


def test_make_cpr_round_trips() -> None:
    for born in (date(2012, 2, 29), date(1975, 6, 1), date(2030, 1, 15)):
        assert birth_date(make_cpr(born, 42)) == born
    assert normalise("0101124123") == "010112-4123"


@pytest.mark.parametrize(
    "lookalike",
    [
        "٠١٠١١٢-٤١٢٣",  # Arabic-Indic digits
        "۰۱۰۱۱۲-۴۱۲۳",  # Extended Arabic-Indic digits
        "０１０１１２-４１２３",  # full-width digits
        "010112-4123\n",  # a trailing newline (`$` would allow it)
        "010112-4123\r\n",
        " 010112-4123",
        "010112-4123 ",
        "0101124123\n",
        "010112-4１23",  # one full-width digit among ASCII ones
    ],
)
def test_only_ascii_digits_and_the_whole_text_make_a_cpr_number(lookalike: str) -> None:
    # Each of these would otherwise become a second case key for the person 010112-4123.
    with pytest.raises(ValueError):
        normalise(lookalike)
    with pytest.raises(ValueError):
        birth_date(lookalike)
