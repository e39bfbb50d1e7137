"""`hub triage`: the statutory clocks in Danish, each state, times in Danish local time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hub.entrypoints.cli.case_text import deadline_short as _deadline_short
from hub.entrypoints.cli.case_text import deadline_text
from hub.store.queries import DeadlineView, QueueRow

DUE = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen
CLOCK = DeadlineView("assessment", "pending", DUE, DUE - timedelta(hours=4), None, None, None)


@pytest.mark.parametrize(
    ("clock", "text"),
    [
        (CLOCK, "Vurdering (24 timer): løber, frist 03.12.2026 10:00"),
        (replace(CLOCK, state="approaching"), "Vurdering (24 timer): nærmer sig, frist 03.12.2026 10:00"),
        (replace(CLOCK, state="breached"), "Vurdering (24 timer): overskredet, frist 03.12.2026 10:00"),
        (
            replace(CLOCK, state="breached", met_at=DUE + timedelta(hours=2)),
            "Vurdering (24 timer): overskredet 03.12.2026 10:00, afsluttet 03.12.2026 12:00",
        ),
        (
            replace(CLOCK, kind="receipt", state="met", met_at=DUE - timedelta(days=1)),
            "Kvittering (6 hverdage): overholdt 02.12.2026 10:00 (frist 03.12.2026 10:00)",
        ),
    ],
)
def test_each_state_in_danish(clock: DeadlineView, text: str) -> None:
    assert deadline_text(clock) == text


def test_the_list_shows_the_assessment_and_an_unmet_receipt() -> None:
    row = QueueRow(
        report_ref="DKE-1",
        received_at=DUE - timedelta(days=1),
        source_id="skole",
        source_kind=None,
        queue="reactive",
        status="open",
        suggested_level=None,
        suggested_pillar=None,
        categories=(),
        police_alert=False,
        children_notification=True,
        assess_by=DUE,
        receipt_due_by=DUE + timedelta(days=7),
        decided_at=None,
        assessment_deadline=replace(CLOCK, state="approaching"),
        receipt_deadline=replace(CLOCK, kind="receipt", state="met", met_at=DUE),
    )
    assert _deadline_short(row) == "  frist 03.12.2026 10:00 (nærmer sig)"
    late = replace(row, receipt_deadline=replace(CLOCK, kind="receipt", state="breached"))
    assert _deadline_short(late).endswith("kvittering 03.12.2026 10:00 (overskredet)")
