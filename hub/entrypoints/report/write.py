"""Writing the quarterly report to a directory: `index.html` (Danish, self-contained: inline
CSS, charts embedded), one PNG chart and one CSV table per table.

CSV: semicolon-separated UTF-8 with a byte-order mark, as Danish spreadsheet programs open it;
a hidden cell is "–" in the CSV as on the page.
"""

from __future__ import annotations

import base64
import csv
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from hub.entrypoints import labels as da
from hub.entrypoints.report import charts
from hub.entrypoints.report.tables import BUILDERS, Frame, Table
from hub.services.reporting.quarters import Quarter
from hub.services.reporting.suppression import THRESHOLD
from hub.store import queries

HIDDEN = "–"
Step = Callable[[str], None]  # told the name of each step as it starts (a progress bar)


@dataclass(frozen=True)
class Written:
    directory: Path
    files: tuple[Path, ...]
    tables: tuple[Table, ...]


def write_quarterly(
    engine: Engine,
    source_kinds: Mapping[str, str],
    quarter: Quarter,
    out: Path,
    *,
    as_of: datetime,
    municipality: str,
    step: Step = lambda _: None,
) -> Written:
    frame = Frame.of(quarter, as_of)
    out.mkdir(parents=True, exist_ok=True)
    tables: list[Table] = []
    with queries.reading(engine) as session:
        for k, build in enumerate(BUILDERS, 1):
            step(f"Tæller op: tabel {k} af {len(BUILDERS)}")
            tables.append(build(session, frame, source_kinds))
    files: list[Path] = []
    for table in tables:
        step(f"Tegner: {table.title}")
        png = out / f"{table.id}.png"
        charts.draw(table, png)
        files += [png, write_csv(table, out / f"{table.id}.csv")]
    step("Skriver index.html")
    page = out / "index.html"
    page.write_text(render_html(tables, frame, municipality, out), encoding="utf-8")
    return Written(out, (page, *files), tuple(tables))


def write_csv(table: Table, path: Path) -> Path:
    cells = table.cells
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow([table.row_header, *table.cols, "I alt"])
        for i, name in enumerate(table.rows):
            out.writerow([name, *(cells.shown(i, j, HIDDEN) for j in range(cells.cols + 1))])
        out.writerow(["I alt", *(cells.shown(cells.rows, j, HIDDEN) for j in range(cells.cols + 1))])
    return path


FOOTNOTE = (
    f"{HIDDEN} betyder, at tallet er undertrykt: tal fra 1 til {THRESHOLD - 1} vises ikke, og hvor en række "
    "eller kolonne ellers ville have netop ét undertrykt tal, undertrykkes også det næstmindste, så tallet "
    "ikke kan regnes ud fra totalerne."
)
CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.45}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-top:1px solid #ccc;
padding-top:1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.95rem}caption{text-align:left;font-weight:bold;
padding-bottom:.3rem}
th,td{border:1px solid #bbb;padding:.25rem .6rem}td{text-align:right}th{background:#f0f0f0;text-align:left}
tr.total th,tr.total td{font-weight:bold;border-top:2px solid #555}
img{max-width:100%;height:auto}.note{font-size:.9rem;color:#333}.meta{color:#444}
@media print{body{margin:0;max-width:none}h2{page-break-before:auto}figure,table{page-break-inside:avoid}}
"""


def render_html(tables: list[Table], frame: Frame, municipality: str, out: Path) -> str:
    e = html.escape
    q = frame.quarter
    parts = [
        "<!doctype html>",
        '<html lang="da"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Kvartalsrapport {e(q.label)} – DKE</title><style>{CSS}</style></head><body>",
        f"<h1>Kvartalsrapport for {e(q.label)}</h1>",
        f'<p class="meta">Den Kriminalpræventive Enhed (DKE), {e(municipality)}. '
        f"Perioden er {e(q.month_labels()[0])}–{e(q.month_labels()[-1])} {q.year} efter dansk tid. "
        f"Dannet {e(da.when(frame.as_of))}.</p>",
        "<p>Rapporten indeholder kun optællinger; den indeholder ingen navne, CPR-numre eller fritekst.</p>",
        f'<p class="note">{e(FOOTNOTE)}</p>',
        "<nav><h2>Indhold</h2><ol>",
        *(f'<li><a href="#{t.id}">{e(t.title)}</a></li>' for t in tables),
        "</ol></nav>",
    ]
    for table in tables:
        parts += _section(table, out)
    parts.append("</body></html>")
    return "\n".join(parts)


def _section(table: Table, out: Path) -> list[str]:
    e = html.escape
    cells = table.cells
    png = (out / f"{table.id}.png").read_bytes()
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in (table.row_header, *table.cols, "I alt"))
    body = []
    for i, name in enumerate(table.rows):
        tds = "".join(f"<td>{e(cells.shown(i, j, HIDDEN))}</td>" for j in range(cells.cols + 1))
        body.append(f'<tr><th scope="row">{e(name)}</th>{tds}</tr>')
    tds = "".join(f"<td>{e(cells.shown(cells.rows, j, HIDDEN))}</td>" for j in range(cells.cols + 1))
    body.append(f'<tr class="total"><th scope="row">I alt</th>{tds}</tr>')
    notes = [f'<p class="note">{e(n)}</p>' for n in table.notes]
    if cells.any_hidden:
        notes.append(f'<p class="note">{HIDDEN}: undertrykt, se forklaringen øverst.</p>')
    image = base64.b64encode(png).decode("ascii")
    return [
        f'<section id="{table.id}"><h2>{e(table.title)}</h2>',
        f'<figure><img src="data:image/png;base64,{image}" alt="Diagram: {e(table.title)}. '
        f'Tallene står i tabellen nedenfor."></figure>',
        f"<table><caption>{e(table.title)}</caption><thead><tr>{head}</tr></thead>",
        f"<tbody>{''.join(body)}</tbody></table>",
        *notes,
        f'<p class="note">Tabellen som CSV: <a href="{table.id}.csv">{table.id}.csv</a></p>',
        "</section>",
    ]
