"""The cross-agency pattern rule (`hub.policies.patterns`): a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.policies.patterns import PATTERN_CROSS_AGENCY, PriorReport, cross_agency

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _prior(*reports: tuple[str, timedelta]) -> list[PriorReport]:
    return [PriorReport(source, NOW - ago) for source, ago in reports]


CASES = [
    # (what, source of the new report, the person's other reports, window, flagged, agencies)
    ("no other report", "skole", [], 30, False, 1),
    ("the same agency again", "skole", [("skole", 3 * DAY)], 30, False, 1),
    ("another agency 3 days ago", "politi", [("skole", 3 * DAY)], 30, True, 2),
    ("another agency exactly at the window's edge", "politi", [("skole", 30 * DAY)], 30, True, 2),
    ("another agency just outside the window", "politi", [("skole", 30 * DAY + timedelta(seconds=1))], 30, False, 1),
    ("a shorter window of the agreement", "politi", [("skole", 8 * DAY)], 7, False, 1),
    ("three agencies", "bkv", [("skole", DAY), ("politi", 2 * DAY), ("skole", 4 * DAY)], 30, True, 3),
    ("old reports of others, a recent one of the same", "skole", [("politi", 40 * DAY), ("skole", DAY)], 30, False, 1),
    ("another process stored one a moment later", "politi", [("skole", -timedelta(seconds=2))], 30, True, 2),
]


@pytest.mark.parametrize(("what", "source", "prior", "window", "flagged", "agencies"), CASES, ids=[c[0] for c in CASES])
def test_cross_agency(
    what: str, source: str, prior: list[tuple[str, timedelta]], window: int, flagged: bool, agencies: int
) -> None:
    flag = cross_agency(source, NOW, _prior(*prior), window)
    assert (flag is not None) is flagged, what
    if flag is not None:
        assert flag.rule_id == PATTERN_CROSS_AGENCY and flag.agencies == agencies and flag.window_days == window
        assert flag.da == (
            f"To eller flere myndigheder har indberettet bekymring om samme person inden for {window} dage"
        )
        assert str(window) in flag.en


def test_the_reason_names_no_agency() -> None:
    flag = cross_agency("politi-vestegn", NOW, _prior(("herstedlund-skole", DAY)), 30)
    assert flag is not None
    assert "politi" not in flag.da + flag.en and "skole" not in flag.da + flag.en
