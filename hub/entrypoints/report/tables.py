"""The quarterly report's tables: counts read through `hub.store.queries.statistics`, labelled
in Danish and protected (`hub.services.reporting.suppression`) before anything is shown.

Every table is rows by columns of counts with margins; a hidden cell is hidden in the CSV, the
HTML page and the charts alike (they all read `Table.cells`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from hub.entrypoints import labels as da
from hub.policies.rules import RULES
from hub.services.reporting.quarters import Quarter, edges
from hub.services.reporting.suppression import THRESHOLD, Protected, protect
from hub.store.queries import statistics as stats

NOT_RECORDED = "ikke registreret"
OTHER_DISTRICTS = "øvrige områder (under 5 henvendelser hver)"
AGE_BANDS = (
    stats.AgeBand("0-11", 0, 12),
    stats.AgeBand("12-14", 12, 15),
    stats.AgeBand("15-17", 15, 18),
    stats.AgeBand("18-24", 18, 25),
    stats.AgeBand("25-29", 25, 30),
    stats.AgeBand("30+", 30, None),
)
AGE_LABELS = {b.key: (f"{b.low}-{b.high - 1} år" if b.high else f"{b.low} år og derover") for b in AGE_BANDS}
OUTCOME_133 = {
    stats.MET: "Afgjort af DKE inden for 24 timer",
    stats.LATE: "Afgjort efter fristen",
    stats.OPEN_OVERDUE: "Ikke afgjort, fristen er overskredet",
    stats.OPEN: "Ikke afgjort, fristen er ikke udløbet",
}


@dataclass(frozen=True)
class Table:
    """One table of the report. `id` names its CSV and PNG files."""

    id: str
    title: str
    row_header: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: Protected
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Frame:
    """What a table is built against: the quarter, its month edges, the trend's quarters."""

    quarter: Quarter
    as_of: datetime
    months: list[datetime]
    trend: list[Quarter]

    @classmethod
    def of(cls, quarter: Quarter, as_of: datetime, trend_quarters: int = 8) -> Frame:
        return cls(quarter, as_of, quarter.month_edges(), quarter.last(trend_quarters))


def _grid(counts: stats.Counts, keys: Sequence[str | None], width: int) -> list[list[int]]:
    return [[counts.get((k, b), 0) for b in range(width)] for k in keys]


def _keys(counts: stats.Counts, known: Iterable[str]) -> list[str | None]:
    """The known keys in their order, then any other key found, then None (not recorded)."""
    order: list[str | None] = list(known)
    found = {k for k, _ in counts}
    order += sorted(k for k in found if k is not None and k not in order)
    if None in found:
        order.append(None)
    return order


def _table(
    id_: str,
    title: str,
    header: str,
    counts: stats.Counts,
    keys: Sequence[str | None],
    name: Callable[[str | None], str],
    cols: Sequence[str],
    notes: Sequence[str] = (),
) -> Table:
    cells = protect(_grid(counts, keys, len(cols)))
    return Table(id_, title, header, tuple(name(k) for k in keys), tuple(cols), cells, tuple(notes))


def _named(table: Mapping[str, str]) -> Callable[[str | None], str]:
    return lambda key: NOT_RECORDED if key is None else table.get(key, key)


def _rekey(counts: stats.Counts, key_of: Callable[[str | None], str | None]) -> stats.Counts:
    merged: dict[tuple[str | None, int], int] = {}
    for (key, bucket), n in counts.items():
        new = key_of(key), bucket
        merged[new] = merged.get(new, 0) + n
    return merged


def build(session: Session, frame: Frame, source_kinds: Mapping[str, str]) -> list[Table]:
    """Every table of the quarterly report, in the order the page shows them."""
    return [builder(session, frame, source_kinds) for builder in BUILDERS]


def _months(frame: Frame) -> list[str]:
    return [m.capitalize() for m in frame.quarter.month_labels()]


def by_source(session: Session, frame: Frame, kinds: Mapping[str, str]) -> Table:
    counts = _rekey(stats.reports_by(session, "source", frame.months), lambda s: kinds.get(s or "", "other"))
    keys = _keys(counts, [k for k in da.SOURCE_KIND if any(k == c for c, _ in counts)])
    return _table("kilde", "Henvendelser efter afsender", "Afsender", counts, keys, _named(da.SOURCE_KIND),
                  _months(frame))  # fmt: skip


def by_queue(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by(session, "queue", frame.months)
    return _table("koe", "Henvendelser efter kø", "Kø", counts, _keys(counts, da.QUEUE), _named(da.QUEUE),
                  _months(frame))  # fmt: skip


def by_pillar(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by(session, "pillar", frame.months)
    note = "Søjlen er den, hubben foreslog ved modtagelsen (PRO-modellen)."
    return _table("soejle", "Henvendelser efter foreslået søjle", "Søjle", counts, _keys(counts, da.PILLAR),
                  _named(da.PILLAR), _months(frame), [note])  # fmt: skip


def by_level(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by(session, "level", frame.months)
    note = "Niveauet er det, hubben foreslog ved modtagelsen; henvendelser uden person har intet niveau."
    return _table("niveau", "Henvendelser efter foreslået niveau", "Niveau", counts, _keys(counts, da.LEVEL),
                  _named(da.LEVEL), _months(frame), [note])  # fmt: skip


def by_district(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    raw = _rekey(stats.reports_by(session, "district", frame.months), _district)
    totals: dict[str | None, int] = {}
    for (key, _bucket), n in raw.items():
        totals[key] = totals.get(key, 0) + n
    # A district is free text from the report: one seen under 5 times could point at a person.
    counts = _rekey(raw, lambda k: k if k is None or totals[k] >= THRESHOLD else OTHER_DISTRICTS)
    keys = _keys(counts, [])
    if OTHER_DISTRICTS in keys:  # last but one: before "not recorded"
        keys.remove(OTHER_DISTRICTS)
        keys.insert(len(keys) - (None in keys), OTHER_DISTRICTS)
    notes = [
        "Området/skoledistriktet er det, afsenderen har angivet for personen, som fritekst. Områder med "
        "under 5 henvendelser i kvartalet er lagt sammen, så et sjældent navn ikke peger på en person."
    ]
    title = "Henvendelser efter område/skoledistrikt"
    return _table("omraade", title, "Område/skoledistrikt", counts, keys, _named({}), _months(frame), notes)


def _district(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())[:60]
    return cleaned.capitalize() if cleaned else None


def by_age(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by_age(session, frame.months, AGE_BANDS)
    note = "Alder på modtagelsesdagen ud fra fødselsdato eller CPR-nummer; «ikke registreret»: ingen person " \
        "eller hverken fødselsdato eller CPR-nummer."  # fmt: skip
    return _table("alder", "Henvendelser efter alder", "Alder", counts, _keys(counts, AGE_LABELS),
                  _named(AGE_LABELS), _months(frame), [note])  # fmt: skip


def by_category(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by_category(session, frame.months)
    note = "En henvendelse kan have flere kategorier og tælles under hver; summen er derfor større end " \
        "antallet af henvendelser."  # fmt: skip
    named = _named({k: v.capitalize() for k, v in da.CATEGORY.items()})
    return _table("kategori", "Henvendelser efter kategori", "Kategori", counts, _keys(counts, da.CATEGORY), named,
                  _months(frame), [note])  # fmt: skip


def trend(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.reports_by(session, "queue", edges(frame.trend))
    queues = _keys(counts, da.QUEUE)
    # Rows are quarters, columns queues: (queue, bucket) counts read the other way round.
    grid = [[counts.get((q, b), 0) for q in queues] for b in range(len(frame.trend))]
    cells = protect(grid)
    cols = tuple(_named(da.QUEUE)(q) for q in queues)
    title = f"Udviklingen over de seneste {len(frame.trend)} kvartaler"
    return Table("udvikling", title, "Kvartal", tuple(q.short for q in frame.trend), cols, cells)


def notifications(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.notifications_133(session, frame.months, frame.as_of)
    notes = [
        "Fristen er barnets lovs 24 timer fra modtagelsen til vurdering; hubben måler den første "
        "afgørelse i DKE's triage. Om Børn, Kultur & Velfærd har vurderet underretningen og sendt "
        "kvittering inden for 6 arbejdsdage er ikke registreret i hubben.",
        f"Status pr. {da.when(frame.as_of)}.",
    ]
    return _table("underretninger", "Underretninger efter barnets lov § 133 og fristen på 24 timer", "Udfald",
                  counts, _keys(counts, OUTCOME_133), _named(OUTCOME_133), _months(frame), notes)  # fmt: skip


def referrals(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.referrals_by(session, edges([frame.quarter]))
    structures = sorted({k.split("/")[0] for k, _ in counts if k} | set(da.STRUCTURE))
    effects = list(da.EFFECT)
    grid = [[counts.get((f"{s}/{e}", 0), 0) for e in effects] for s in structures]
    cols = tuple(da.EFFECT[e].capitalize() for e in effects)
    rows = tuple(da.label(da.STRUCTURE, s) for s in structures)
    note = "Tilbageholdt: hubben afviste at videregive (ingen hjemmel eller ikke nødvendigt). " \
        "Kræver stillingtagen: en medarbejder skal tage stilling."  # fmt: skip
    return Table("henvisninger", "Henvisninger udstedt og tilbageholdt efter struktur", "Struktur", rows, cols,
                 protect(grid), (note,))  # fmt: skip


def withheld(session: Session, frame: Frame, _: Mapping[str, str]) -> Table:
    counts = stats.referrals_by(session, edges([frame.quarter]), by_reason=True)
    structures = sorted({k.split("/")[0] for k, _ in counts if k} | set(da.STRUCTURE))
    reasons = sorted({k.split("/", 1)[1] for k, _ in counts if k and "/" in k})
    grid = [[counts.get((f"{s}/{r}", 0), 0) for s in structures] for r in reasons] or [[0] * len(structures)]
    rows = tuple(_reason(r) for r in reasons) or ("Ingen tilbageholdte henvisninger",)
    cols = tuple(da.label(da.STRUCTURE, s) for s in structures)
    return Table("tilbageholdt", "Tilbageholdte henvisninger efter begrundelse", "Begrundelse (regel)", rows, cols,
                 protect(grid))  # fmt: skip


def _reason(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return f"{rule_id}: {rule.citation}" if rule else (rule_id or NOT_RECORDED)


BUILDERS: tuple[Callable[[Session, Frame, Mapping[str, str]], Table], ...] = (
    by_source, by_queue, by_pillar, by_level, by_district, by_age, by_category, trend, notifications,
    referrals, withheld,
)  # fmt: skip
