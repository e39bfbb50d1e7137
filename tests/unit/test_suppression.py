"""Statistical disclosure control (`hub.services.reporting.suppression`) on crafted tables:
small cells hidden, and no row or column (totals included) with exactly one hidden cell."""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.services.reporting.suppression import protect, single_hidden_lines


def hidden_cells(cells: list[list[int]]) -> set[tuple[int, int]]:
    t = protect(cells)
    return {(i, j) for i, j in product(range(t.rows + 1), range(t.cols + 1)) if t.hidden[i][j]}


def test_nothing_small_nothing_hidden() -> None:
    t = protect([[10, 20], [30, 40]])
    assert not t.any_hidden
    assert t.grid == ((10, 20, 30), (30, 40, 70), (40, 60, 100))
    assert t.shown(2, 2) == "100"


def test_zero_is_shown() -> None:
    assert hidden_cells([[0, 20], [30, 40]]) == set()


def test_one_small_cell_gets_partners_in_its_row_and_column() -> None:
    # 3 alone in row 0 would follow from the row total 33 - 30; in column 0 from 53 - 50.
    cells = [[3, 30, 40], [50, 60, 70], [80, 90, 99]]
    hidden = hidden_cells(cells)
    assert (0, 0) in hidden
    assert (0, 1) in hidden  # the row's next-smallest
    assert (1, 0) in hidden  # the column's next-smallest
    # The partners make new lines with one hidden cell: row 1 and column 1 get theirs too.
    assert (1, 1) in hidden
    t = protect(cells)
    assert single_hidden_lines(t) == []
    assert t.shown(0, 0) == "–" and t.value(0, 0) is None


def test_two_small_cells_in_a_row_protect_each_other_in_that_row() -> None:
    cells = [[2, 3, 40], [50, 60, 70], [80, 90, 100]]
    t = protect(cells)
    assert t.hidden[0][0] and t.hidden[0][1]
    assert not t.hidden[0][2]  # the row already has two hidden cells: 40 stays
    assert not t.hidden[0][3]  # and so does the row total
    assert single_hidden_lines(t) == []


def test_small_cell_whose_row_and_column_both_need_a_partner() -> None:
    cells = [[20, 30, 40], [50, 4, 70], [80, 90, 100]]
    t = protect(cells)
    # Row 1: 4 and its next-smallest 50; column 1: 4 and its next-smallest 30.
    assert t.hidden[1][1] and t.hidden[1][0] and t.hidden[0][1]
    assert single_hidden_lines(t) == []


def test_a_small_total_is_hidden_and_its_line_protected() -> None:
    # Row 0 totals 3: every cell in it is small, and the total is too.
    t = protect([[1, 2, 0], [40, 50, 60]])
    assert t.hidden[0][0] and t.hidden[0][1] and t.hidden[0][3]
    assert single_hidden_lines(t) == []


def test_a_single_column_table() -> None:
    t = protect([[3], [20], [30]])
    assert t.hidden[0][0] and t.hidden[0][1]  # the cell, and its row total (the same number)
    assert t.hidden[1][0]  # the column's partner: 20, the next-smallest
    assert single_hidden_lines(t) == []


def test_partner_is_the_smallest_non_zero_shown_cell() -> None:
    t = protect([[3, 0, 0, 12, 9], [10, 10, 10, 10, 10]])
    assert not t.hidden[0][1] and not t.hidden[0][2]  # zeros tell nothing: 9 is hidden instead
    assert t.hidden[0][4]


def test_totals_never_reveal_a_hidden_cell() -> None:
    """For every hidden cell, the shown cells and totals leave at least two unknowns in each of
    its lines: subtracting the shown cells from a shown total gives only a sum of hidden cells."""
    t = protect([[1, 7, 9, 30], [6, 2, 8, 11], [12, 13, 1, 14], [40, 41, 42, 4]])
    assert single_hidden_lines(t) == []
    for i, j in product(range(t.rows + 1), range(t.cols + 1)):
        if 0 < t.grid[i][j] < 5:
            assert t.hidden[i][j]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda w: st.lists(st.lists(st.integers(0, 30), min_size=w, max_size=w), min_size=1, max_size=8)
    )
)
def test_any_table(cells: list[list[int]]) -> None:
    t = protect(cells)
    assert single_hidden_lines(t) == []
    for i, j in product(range(t.rows + 1), range(t.cols + 1)):
        if 0 < t.grid[i][j] < 5:
            assert t.hidden[i][j], (i, j)
    assert t.grid[t.rows][t.cols] == sum(map(sum, cells))
