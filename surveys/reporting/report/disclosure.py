"""Complementary suppression: withhold more figures until none about fewer than k people can be worked out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass
class Cell:
    """One published figure (a count, or a count and a mean) about the people in some atoms of a table."""

    table: str  # cells of one table partition the same people (a breakdown), or are its totals
    atoms: np.ndarray  # bool per atom: the smallest groups every table is made of
    n: int  # people in the cell (known here, published only when shown)
    withheld: bool  # already withheld (fewer than k people) when protect is called
    withhold: Callable[[], None]  # blanks the figure where it is published
    total: bool = False


def _secrets(cells: list[Cell], k: int) -> Iterator[np.ndarray]:
    """What must stay unknown: each withheld cell about fewer than k people, and each table's withheld
    cells taken together when they hold fewer than k (their sum is the total minus the shown ones)."""
    for cell in cells:
        if cell.withheld and 0 < cell.n < k:
            yield cell.atoms
    for table in dict.fromkeys(c.table for c in cells):
        hidden = [c for c in cells if c.table == table and c.withheld and not c.total]
        if len(hidden) > 1 and 0 < sum(c.n for c in hidden) < k:
            yield np.logical_or.reduce([c.atoms for c in hidden])


def _derivable(secret: np.ndarray, shown: list[Cell]) -> bool:
    """True when the secret's people are a linear combination of shown cells (sums and differences)."""
    if not shown:
        return False
    basis = np.array([c.atoms for c in shown], dtype=float)
    return bool(np.linalg.matrix_rank(np.vstack([basis, secret])) == np.linalg.matrix_rank(basis))


def _complement(exposed: np.ndarray, shown: list[Cell]) -> Cell:
    """The shown cell to withhold next: a group before a total, the smallest first."""
    candidates = sorted(shown, key=lambda c: (c.total, c.n))
    # Best: one group whose loss alone hides the exposed figure.
    alone = next(
        (c for c in candidates if not c.total and not _derivable(exposed, [o for o in shown if o is not c])), None
    )
    if alone is not None:
        return alone
    # Else cut the way the figure is derived now (its other ways are cut in later rounds).
    basis = np.array([c.atoms for c in shown], dtype=float)
    weights = np.linalg.lstsq(basis.T, exposed.astype(float), rcond=None)[0]
    used = {id(c) for c, w in zip(shown, weights, strict=False) if abs(w) > 1e-9}
    return next(c for c in candidates if id(c) in used)


def protect(cells: list[Cell], k: int) -> None:
    """Withhold shown cells, smallest first, until no figure about fewer than k people can be derived.

    A figure can be derived when its people are a sum or difference of shown cells (a total minus the
    groups shown, a group equal to one in another breakdown). Each round withholds the smallest shown
    group whose loss alone hides the exposed figure, else the smallest cell (a group before a total) that
    one way of deriving it uses; it ends because every round withholds one more cell.
    """
    while True:
        shown = [c for c in cells if not c.withheld]
        exposed = next((s for s in _secrets(cells, k) if _derivable(s, shown)), None)
        if exposed is None:
            return
        choice = _complement(exposed, shown)
        choice.withheld = True
        choice.withhold()
