"""Danish CPR numbers (personal identification numbers): format and date validation.

DDMMYY-SSSS; the 7th digit with the two-digit year gives the century (CPR-kontoret's
table). The modulus-11 check is not applied: numbers issued since 2007 need not pass it.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

# ASCII digits only and the whole text (`fullmatch`): `\d` would take Arabic-Indic or
# full-width digits and `$` a trailing newline, and one person would get several case keys.
_CPR = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})-?([0-9]{4})")


def century(year2: int, digit7: int) -> int:
    """The century of a CPR number's birth year."""
    if digit7 <= 3:
        return 1900
    if digit7 in (4, 9):
        return 2000 if year2 <= 36 else 1900
    return 2000 if year2 <= 57 else 1800


@functools.lru_cache(maxsize=4096)
def birth_date(cpr: str) -> date:
    """The birth date encoded in a CPR number. Raises ValueError when there is none.

    Cached: one report asks several times (validation, date checks, the policy's age)."""
    match = _CPR.fullmatch(cpr)
    if match is None:
        raise ValueError("CPR-nummer skal have formen DDMMÅÅ-LLLL (10 cifre)")
    day, month, year2, serial = (int(g) if i < 3 else g for i, g in enumerate(match.groups()))
    assert isinstance(serial, str)
    full_year = century(int(year2), int(serial[0])) + int(year2)
    try:
        return date(full_year, int(month), int(day))
    except ValueError:
        raise ValueError("CPR-nummeret indeholder ikke en gyldig dato") from None


def normalise(cpr: str) -> str:
    """Validate and return the number in the canonical DDMMYY-SSSS form."""
    birth_date(cpr)
    digits = cpr.replace("-", "")
    return f"{digits[:6]}-{digits[6:]}"


Cpr = Annotated[str, AfterValidator(normalise)]


def make_cpr(born: date, serial: int) -> str:
    """A well-formed CPR number for `born` (for test and demo data: `serial` picks the last
    three digits; the 7th digit is chosen so the century decodes correctly)."""
    year2 = born.year % 100
    digit7 = 1 if 1900 <= born.year <= 1999 else (4 if 2000 <= born.year <= 2036 else 5)
    cpr = f"{born:%d%m}{year2:02d}-{digit7}{serial % 1000:03d}"
    if birth_date(cpr) != born:
        raise ValueError("no CPR number encodes this birth date")
    return cpr
