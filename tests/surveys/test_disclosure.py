"""Complementary suppression: no withheld figure about fewer than k people is a sum or difference of shown ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.reporting.report.disclosure import Cell, protect

K = 5


def _cells(people: list[tuple[int, int]]) -> list[Cell]:
    """A total and two breakdowns (a, b) of people given as (a group, b group) pairs; small groups withheld."""
    atoms = list(dict.fromkeys(people))
    count = {atom: people.count(atom) for atom in atoms}
    cells = [Cell("total", np.ones(len(atoms), dtype=bool), len(people), len(people) < K, lambda: None, total=True)]
    for position, table in enumerate(("a", "b")):
        for group in sorted({p[position] for p in people}):
            inside = np.array([atom[position] == group for atom in atoms])
            n = sum(count[atom] for atom, i in zip(atoms, inside, strict=False) if i)
            cells.append(Cell(table, inside, n, n < K, lambda: None))
    return cells


def _derivable(vector: np.ndarray, shown: list[Cell]) -> bool:
    if not shown:
        return False
    rows = np.array([c.atoms for c in shown], dtype=float)
    return np.linalg.matrix_rank(np.vstack([rows, vector])) == np.linalg.matrix_rank(rows)


def test_one_small_group_takes_the_next_smallest_with_it_and_the_total_stays():
    cells = _cells([(0, 0)] * 3 + [(1, 1)] * 6 + [(2, 2)] * 10)
    protect(cells, K)
    withheld = {(c.table, c.n) for c in cells if c.withheld}
    assert withheld == {("a", 3), ("a", 6), ("b", 3), ("b", 6)}


def test_a_group_equal_to_a_group_of_another_breakdown_is_withheld_with_it():
    # b splits a's big group only: b's 3-person group equals a's.
    cells = _cells([(0, 0)] * 3 + [(1, 1)] * 7 + [(1, 2)] * 8)
    protect(cells, K)
    assert all(c.withheld for c in cells if c.n == 3)
    small = next(c for c in cells if c.n == 3)
    assert not _derivable(small.atoms, [c for c in cells if not c.withheld])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40))
def test_no_withheld_small_group_can_be_derived_from_the_shown_cells(people):
    cells = _cells(people)
    protect(cells, K)
    shown = [c for c in cells if not c.withheld]
    for cell in cells:
        if cell.withheld and 0 < cell.n < K:
            assert not _derivable(cell.atoms, shown)
    for table in ("a", "b"):
        hidden = [c for c in cells if c.table == table and c.withheld]
        together = sum(c.n for c in hidden)
        if 0 < together < K:
            assert not _derivable(np.logical_or.reduce([c.atoms for c in hidden]), shown)
