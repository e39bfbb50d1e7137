"""Statistical disclosure control for count tables: small cells hidden, and enough other cells
hidden that no row or column total gives a hidden cell away.

Pure: a table of counts in, the same table with its totals and a mask out.

The rule, applied to the table *with* its margins (a total row, a total column, the grand
total), because a published total is as good as a published cell to someone subtracting:
1. primary: every count from 1 to `threshold - 1` is hidden (zeros are shown: a zero is the
   common case in a small municipality and hiding it would hide most of the report);
2. complementary: in every row and every column (the totals row and column included) the
   number of hidden cells is 0 or at least 2. A line with exactly one hidden cell gets a
   partner: its smallest shown non-zero cell (the least information lost), or its smallest
   shown cell if all are zero. Repeat until nothing changes (a partner can make another line
   hold exactly one hidden cell).
This is the classic "no line with a single suppression" rule, not an exact linear-programming
audit: with many hidden cells in a large table, sums over several lines could still narrow a
cell down. The report's tables are small (at most ~20 rows by a handful of columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 5
Position = tuple[int, int]


@dataclass(frozen=True)
class Protected:
    """A count table with its margins: `grid[i][j]` for i < rows and j < cols is a cell,
    `grid[i][cols]` row i's total, `grid[rows][j]` column j's total, `grid[rows][cols]` the
    grand total. `hidden` has the same shape."""

    grid: tuple[tuple[int, ...], ...]
    hidden: tuple[tuple[bool, ...], ...]

    @property
    def rows(self) -> int:
        return len(self.grid) - 1

    @property
    def cols(self) -> int:
        return len(self.grid[0]) - 1

    def shown(self, i: int, j: int, mark: str = "–") -> str:
        """The cell as published: its count, or `mark` where it is hidden."""
        return mark if self.hidden[i][j] else str(self.grid[i][j])

    def value(self, i: int, j: int) -> int | None:
        """The cell's count, or None where it is hidden (what a chart may draw)."""
        return None if self.hidden[i][j] else self.grid[i][j]

    @property
    def any_hidden(self) -> bool:
        return any(any(row) for row in self.hidden)


def with_margins(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The table with a total column and a total row appended."""
    if not cells or not cells[0]:
        raise ValueError("a table needs at least one row and one column")
    width = len(cells[0])
    if any(len(row) != width for row in cells):
        raise ValueError("every row needs the same number of cells")
    if any(v < 0 for row in cells for v in row):
        raise ValueError("counts cannot be negative")
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(grid[i][j] for i in range(len(cells))) for j in range(width + 1)])
    return grid


def _lines(rows: int, cols: int) -> list[list[Position]]:
    """Every row and every column of the table with margins (sizes rows+1 by cols+1)."""
    across = [[(i, j) for j in range(cols + 1)] for i in range(rows + 1)]
    down = [[(i, j) for i in range(rows + 1)] for j in range(cols + 1)]
    return across + down


def _partner(grid: list[list[int]], hidden: set[Position], line: list[Position]) -> Position:
    shown = [p for p in line if p not in hidden]
    nonzero = [p for p in shown if grid[p[0]][p[1]] > 0]
    # Smallest count first; among equals the first in reading order (deterministic output).
    return min(nonzero or shown, key=lambda p: (grid[p[0]][p[1]], p))


def protect(cells: Sequence[Sequence[int]], threshold: int = THRESHOLD) -> Protected:
    """The table with margins and which of its cells to hide (see the module docstring)."""
    grid = with_margins(cells)
    rows, cols = len(grid) - 1, len(grid[0]) - 1
    hidden = {(i, j) for i in range(rows + 1) for j in range(cols + 1) if 0 < grid[i][j] < threshold}
    lines = _lines(rows, cols)
    changed = True
    while changed:  # every pass hides at least one more cell or stops: it ends
        changed = False
        for line in lines:
            if sum(p in hidden for p in line) == 1:
                hidden.add(_partner(grid, hidden, line))
                changed = True
    return Protected(
        grid=tuple(tuple(row) for row in grid),
        hidden=tuple(tuple((i, j) in hidden for j in range(cols + 1)) for i in range(rows + 1)),
    )


def single_hidden_lines(table: Protected) -> list[list[Position]]:
    """The lines (rows and columns, margins included) with exactly one hidden cell: from each,
    that cell follows by subtraction. Empty for every table `protect` returns."""
    return [
        line for line in _lines(table.rows, table.cols) if sum(table.hidden[i][j] for i, j in line) == 1
    ]
