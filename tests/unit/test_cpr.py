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
