"""PNG charts of the quarterly report's tables (matplotlib, Agg backend: no display needed).

Each chart draws what the table shows and nothing more: a hidden cell is no bar, with
"undertrykt" where the bar would be. Danish labels, the title says the finding, the same
colour for the same thing on every chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.entrypoints.report.tables import NOT_RECORDED, OTHER_DISTRICTS, Table

BLUE, GREY = "#1f5f8b", "#8a8a8a"
UNIT = {"underretninger": "Antal underretninger", "henvisninger": "Antal henvisninger",
        "tilbageholdt": "Antal tilbageholdte henvisninger", "kategori": "Antal henvendelser med kategorien"}
SERIES = ("#1f5f8b", "#d9822b", "#3a8a3a", "#a03c78", "#6b6b6b")  # colour-blind safe enough, distinct in grey


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: files only, no display
    import matplotlib.pyplot as plt

    return plt


def _finding(table: Table, values: list[int | None]) -> str:
    vague = (NOT_RECORDED, OTHER_DISTRICTS)
    shown = [(v, label) for v, label in zip(values, table.rows, strict=True) if v and label not in vague]
    total = table.cells.value(table.cells.rows, table.cells.cols)
    if not shown:
        return "Ingen at vise i perioden"
    top, label = max(shown)
    of = f" af {total}" if total is not None else ""
    # A hidden partner cell may be larger than every shown one: do not claim "most" then.
    lead = "Flest af de viste" if None in values else "Flest"
    return f"{lead}: {label} ({top}{of})"


def totals_chart(table: Table, path: Path) -> None:
    """Horizontal bars: each row's total for the quarter."""
    plt = _pyplot()
    cells = table.cells
    values = [cells.value(i, cells.cols) for i in range(cells.rows)]
    height = max(2.6, 0.42 * len(values) + 1.4)
    fig, ax = plt.subplots(figsize=(8.5, height), dpi=110)
    ys = list(range(len(values)))[::-1]
    ax.barh(ys, [v or 0 for v in values], color=BLUE, height=0.6)
    top = max([v for v in values if v] or [1])
    for y, v in zip(ys, values, strict=True):
        text = "undertrykt" if v is None else str(v)
        ax.text((v or 0) + top * 0.01, y, text, va="center", fontsize=9, color=GREY if v is None else "black")
    ax.set_yticks(ys, [_short(r) for r in table.rows], fontsize=9)
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel(UNIT.get(table.id, "Antal henvendelser"))
    ax.set_title(f"{table.title}\n{_finding(table, values)}", fontsize=11, loc="left")
    _finish(fig, ax, path)


def trend_chart(table: Table, path: Path) -> None:
    """Stacked bars per quarter, one colour per column (queue); a hidden cell is left out and
    its quarter marked."""
    plt = _pyplot()
    cells = table.cells
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    xs = list(range(cells.rows))
    bottoms = [0] * cells.rows
    for j, name in enumerate(table.cols):
        heights = [cells.value(i, j) or 0 for i in xs]
        ax.bar(xs, heights, bottom=bottoms, color=SERIES[j % len(SERIES)], label=name, width=0.65)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for i in xs:
        total = cells.value(i, cells.cols)
        partial = any(cells.hidden[i][j] for j in range(cells.cols))
        text = ("–" if total is None else str(total)) + ("*" if partial else "")
        ax.text(i, bottoms[i], text, ha="center", va="bottom", fontsize=9)
    ax.set_xticks(xs, list(table.rows), fontsize=9)
    ax.set_ylabel("Antal henvendelser")
    ax.set_ylim(0, max([*bottoms, 1]) * 1.12)
    # Beside the plot, not over it: the bars may reach any height.
    ax.legend(title="Kø", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    first, last = cells.value(0, cells.cols), cells.value(cells.rows - 1, cells.cols)
    change = f"{table.rows[0]}: {first if first is not None else '–'}, {table.rows[-1]}: " \
        f"{last if last is not None else '–'}"  # fmt: skip
    marked = any(cells.hidden[i][j] for i in xs for j in range(cells.cols))
    ax.set_title(f"{table.title}\n{change}" + ("   (* en kø er undertrykt)" if marked else ""), fontsize=11, loc="left")
    _finish(fig, ax, path)


def grouped_chart(table: Table, path: Path) -> None:
    """Horizontal grouped bars: rows (structures) by columns (shared, withheld, ...)."""
    plt = _pyplot()
    cells = table.cells
    fig, ax = plt.subplots(figsize=(8.5, max(2.8, 0.9 * cells.rows + 1.4)), dpi=110)
    width = 0.8 / cells.cols
    top = max([cells.value(i, j) or 0 for i in range(cells.rows) for j in range(cells.cols)] + [1])
    for j, name in enumerate(table.cols):
        ys = [cells.rows - 1 - i + (cells.cols / 2 - j - 0.5) * width for i in range(cells.rows)]
        values = [cells.value(i, j) for i in range(cells.rows)]
        ax.barh(ys, [v or 0 for v in values], height=width * 0.9, color=SERIES[j % len(SERIES)], label=name)
        for y, v in zip(ys, values, strict=True):
            ax.text((v or 0) + top * 0.01, y, "undertrykt" if v is None else str(v), va="center", fontsize=8)
    ax.set_yticks(range(cells.rows)[::-1], list(table.rows))
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("Antal henvisninger")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    totals = ", ".join(f"{c.lower()}: {cells.shown(cells.rows, j)}" for j, c in enumerate(table.cols))
    ax.set_title(f"{table.title}\nI alt {totals}", fontsize=11, loc="left")
    _finish(fig, ax, path)


def _short(label: str, width: int = 56) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _finish(fig: Any, ax: Any, path: Path) -> None:
    from matplotlib.ticker import FixedLocator, MaxNLocator

    for axis in (ax.xaxis, ax.yaxis):
        if not isinstance(axis.get_major_locator(), FixedLocator):  # a count axis, not the labels
            axis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 on an axis
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    _pyplot().close(fig)


def draw(table: Table, path: Path) -> None:
    """The chart that suits this table."""
    if table.id == "udvikling":
        trend_chart(table, path)
    elif table.id == "henvisninger":
        grouped_chart(table, path)
    else:
        totals_chart(table, path)
