"""The access document (indsigt): what the municipality hands a person who asks what the hub
holds about them and who was told what. Danish, plain language, times in Danish local time,
only the person's own data (no reporter, no description, no other person).

`AccessDocument` is the data; `render_html` the page (self-contained, printable). Who opened
the person's cases comes from the workspace's access log (`hub.store.queries.access.staff_views`):
when, which case, on what ground, and the member of staff by username and role (what the
municipality's jurist can look up); the written break-glass reason stays out of the letter.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from hub.config.registry import Registry
from hub.entrypoints import labels as da
from hub.policies.fields import FIELD_LABELS_DA
from hub.store.queries import access


@dataclass(frozen=True)
class AccessDocument:
    municipality: str
    made_at: datetime
    name: str | None
    born: date | None
    reports: tuple[access.ReceivedReport, ...]
    disclosures: tuple[access.AccessDisclosure, ...]
    # Who opened the person's cases (the staff workspace's access log).
    staff_views: tuple[access.StaffView, ...] = ()


def build(session: Session, person: access.Person, municipality: str, now: datetime) -> AccessDocument:
    return AccessDocument(
        municipality=municipality,
        made_at=now,
        name=person.name,
        born=person.born,
        reports=tuple(access.reports_about(session, person)),
        disclosures=tuple(access.disclosures_about(session, person)),
        staff_views=tuple(access.staff_views(session, person)),
    )


def _field(key: str) -> str:
    return FIELD_LABELS_DA.get(key, key)


def _org(registry: Registry, key: str) -> str:
    partner, source = registry.partner(key), registry.source(key)
    return partner.name if partner else source.name if source else key


def _who_decided(item: access.AccessDisclosure) -> str:
    if item.decided_by:
        return f"medarbejder i DKE ({item.decided_by}), {da.when(item.decided_at)}"
    return "hubben selv, fordi loven kræver det (ingen medarbejder skulle tage stilling)"


CSS = """body{font-family:Arial,Helvetica,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a}h1{font-size:1.7rem}h2{font-size:1.25rem;margin-top:2rem}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
article{border-top:1px solid #bbb;padding:.6rem 0}table{border-collapse:collapse}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}
@media print{body{margin:0;max-width:none}article{page-break-inside:avoid}}"""


def render_html(doc: AccessDocument, registry: Registry) -> str:
    e = html.escape
    who = ", ".join(
        part for part in (e(doc.name) if doc.name else "", f"født {doc.born:%d.%m.%Y}" if doc.born else "") if part
    )
    parts = [
        '<!doctype html><html lang="da"><head><meta charset="utf-8">',
        f"<title>Indsigt – {e(doc.municipality)}</title><style>{CSS}</style></head><body>",
        "<h1>Indsigt i oplysninger om dig</h1>",
        f"<p>{e(doc.municipality)}, Den Kriminalpræventive Enhed (DKE). Udskrevet {da.when(doc.made_at)}.</p>",
        f"<p>Dette brev gælder {who or 'dig'}.</p>" if who else "",
        "<p>Du har bedt om at få at vide, hvilke oplysninger kommunens henvisningssystem har om dig, og hvem "
        "der har fået oplysninger om dig. Her er alt, hvad systemet har registreret. Oplysninger om andre "
        "personer, for eksempel den der skrev henvendelsen, står ikke i brevet.</p>",
        "<h2>Henvendelser om dig</h2>",
    ]
    if not doc.reports:
        parts.append("<p>Der er ikke registreret henvendelser om dig.</p>")
    else:
        parts.append('<table><thead><tr><th scope="col">Modtaget</th><th scope="col">Fra</th>'
                     '<th scope="col">Hvad bekymringen handlede om</th></tr></thead><tbody>')  # fmt: skip
        for r in doc.reports:
            cats = ", ".join(da.label(da.CATEGORY, c) for c in r.categories)
            parts.append(f"<tr><td>{da.when(r.received_at)}</td><td>{e(_org(registry, r.source_id))}</td>"
                         f"<td>{e(cats)}</td></tr>")  # fmt: skip
        parts.append("</tbody></table>")
    parts.append("<h2>Hvem har fået oplysninger om dig</h2>")
    if not doc.disclosures:
        parts.append("<p>Der er ikke registreret videregivelser om dig.</p>")
    for item in doc.disclosures:
        parts += _disclosure(item, registry)
    parts += _views(doc.staff_views)
    parts += [
        "<h2>Dine rettigheder</h2>",
        "<p>Hvis du mener, at en oplysning er forkert, kan du bede kommunen rette den. Du kan klage over "
        "kommunens behandling af dine oplysninger til Datatilsynet. Spørgsmål kan du stille til kommunen.</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


GROUND_EXPLAINED = (
    "<p>Egen sag: medarbejderen havde taget sagen for at behandle den. Tildelt: sagen var givet til "
    "medarbejderen. Nødadgang: medarbejderen åbnede sagen uden at have den, skrev en begrundelse, og "
    "opslaget blev sendt til kontrol hos kommunens jurist. Indsigtsanmodning: kommunens jurist slog "
    "oplysningerne op for at besvare en anmodning om indsigt.</p>"
)


def staff_member(view: access.StaffView) -> str:
    """Who, as the letter names them: DKE, the username and the role (not the full name: the
    username is what the municipality's jurist can look up in the access log)."""
    role = f", {da.label(da.STAFF_ROLE, view.role).lower()}" if view.role else ""
    return f"medarbejder i DKE ({view.staff}{role})"


def _views(views: tuple[access.StaffView, ...]) -> list[str]:
    e = html.escape
    parts = ["<h2>Hvem har set oplysningerne</h2>"]
    if not views:
        return [*parts, "<p>Ingen registrerede opslag.</p>"]
    parts.append("<p>Hver gang en medarbejder har åbnet en sag om dig i DKE's arbejdsrum, er det registreret:</p>")
    parts.append('<table><thead><tr><th scope="col">Tidspunkt</th><th scope="col">Medarbejder</th>'
                 '<th scope="col">Sag</th><th scope="col">Grundlag</th></tr></thead><tbody>')  # fmt: skip
    for v in views:
        parts.append(f"<tr><td>{da.when(v.viewed_at)}</td><td>{e(staff_member(v))}</td><td>{e(v.report_ref)}</td>"
                     f"<td>{e(da.label(da.ACCESS_GROUND, v.ground))}</td></tr>")  # fmt: skip
    return [*parts, "</tbody></table>", GROUND_EXPLAINED]


def _disclosure(item: access.AccessDisclosure, registry: Registry) -> list[str]:
    e = html.escape
    d = item.disclosure
    shared = d.effect == "share"
    kind = da.label(da.DISCLOSURE_KIND, d.kind).capitalize()
    head = f"{kind} til {_org(registry, d.recipient)}"
    if d.structure:
        head += f" ({da.label(da.STRUCTURE, d.structure)})"
    verdict = "Oplysningerne blev givet videre." if shared else "Oplysningerne blev ikke givet videre."
    rows = [
        ("Hvornår", da.when(d.created_at)),
        ("Resultat", verdict),
        ("Hvilke oplysninger", ", ".join(_field(f) for f in sorted(d.fields)) or "ingen"),
        ("Lovgrundlag", "; ".join(dict.fromkeys(d.legal_basis)) or "–"),  # each basis once
        ("Formål", da.label(da.PURPOSE, d.purpose)),
        ("Besluttet af", _who_decided(item)),
    ]
    if not shared:
        rows.append(("Begrundelse", " ".join(r.da for r in d.reasons) or "–"))
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    return [f"<article><h3>{e(head)}</h3><dl>{items}</dl></article>"]
