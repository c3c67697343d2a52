"""Storing the board's organisational figures: an import replaces a measure's identical periods, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.org_figures import FigureRow, FiguresError, overlaps, period_text
from surveys.store.audit import AuditActor, record
from surveys.store.models import OrgFigure


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    added: int
    replaced: int


async def import_figures(
    session: AsyncSession, rows: list[FigureRow], *, now: datetime, actor: AuditActor, source: str
) -> ImportResult:
    """Store checked rows in the caller's transaction: a stored figure for the same measure and the very
    same period is replaced (and the replacement audited); FiguresError, storing nothing, when a row's
    period overlaps a stored one it would not replace (one measure would count some days twice)."""
    keys = sorted({r.key for r in rows})
    stored = list(await session.scalars(select(OrgFigure).where(OrgFigure.measure_key.in_(keys))))
    problems, replaced = [], []
    for row in rows:
        for old in stored:
            if old.measure_key != row.key or not overlaps(
                old.period_start, old.period_end, row.period_start, row.period_end
            ):
                continue
            if (old.period_start, old.period_end) == (row.period_start, row.period_end):
                replaced.append((row, old))
            else:
                problems.append(
                    f"row {row.row}: {row.measure!r} {period_text(row.period_start, row.period_end)} overlaps the "
                    f"stored {period_text(old.period_start, old.period_end)} (re-import that exact period to "
                    "replace it)"
                )
    if problems:
        raise FiguresError(problems)
    for row, old in replaced:
        await record(
            session,
            actor,
            "figures.replace",
            now=now,
            target=f"{row.measure} {period_text(row.period_start, row.period_end)}",
            detail=f"{_shown(old.value)} → {_shown(row.value)} (from {source})",
        )
    if replaced:
        await session.execute(delete(OrgFigure).where(OrgFigure.id.in_([old.id for _, old in replaced])))
    session.add_all(
        OrgFigure(
            measure=row.measure,
            measure_key=row.key,
            period_start=row.period_start,
            period_end=row.period_end,
            value=row.value,
            source=source[:200],
            imported_at=now,
        )
        for row in rows
    )
    result = ImportResult(added=len(rows) - len(replaced), replaced=len(replaced))
    await record(
        session,
        actor,
        "figures.import",
        now=now,
        target=source,
        detail=f"{result.added} added, {result.replaced} replaced",
    )
    return result


async def stored_figures(session: AsyncSession, start: date | None = None, end: date | None = None) -> list[OrgFigure]:
    """Stored figures by measure and period; only those overlapping start–end when given."""
    query = select(OrgFigure).order_by(OrgFigure.measure_key, OrgFigure.period_start, OrgFigure.period_end)
    if start is not None:
        query = query.where(OrgFigure.period_end >= start)
    if end is not None:
        query = query.where(OrgFigure.period_start <= end)
    return list(await session.scalars(query))


def _shown(value: float) -> str:
    return f"{value:g}"
