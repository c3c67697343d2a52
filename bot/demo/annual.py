"""The demo's board year: two more courses in 2026, the board's own figures imported, the annual report written."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo.personas import Persona, make_personas
from surveys.clock import Clock
from surveys.domain import waves
from surveys.domain.org_figures import COLUMNS, parse_figures
from surveys.domain.quizset import LikertItem, QuizSet
from surveys.domain.scoring import item_score
from surveys.domain.states import CheckInState
from surveys.domain.tokens import new_pseudonym
from surveys.reporting.period import Period
from surveys.reporting.report import build_report, write_report
from surveys.settings import Settings
from surveys.store.audit import SYSTEM
from surveys.store.courses import create_course
from surveys.store.figures import import_figures
from surveys.store.models import Answer, CheckIn, Enrolment

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


@dataclass(frozen=True)
class OtherCourse:
    """A course of the year beside the demo's own, answered straight into the store (no chat needed)."""

    code: str
    title: str
    level: int
    delivered_on: date
    waves: tuple[str, ...]
    attendees: int


OTHER_COURSES = (
    OtherCourse("DEMO-CSE-1", "CSE awareness, level 1", 1, date(2026, 1, 22), waves.DEFAULT_WAVES, 26),
    OtherCourse("DEMO-CSE-3", "CSE for designated leads, level 3", 3, date(2026, 6, 18), ("pre", "post", "3m"), 18),
)
# The board's monthly counts (a made-up area): a base and how much a month can vary.
MEASURES = {
    "Referrals to the MASH with CSE concerns": (22, 6),
    "CSE 1 forms completed": (11, 4),
    "CSE 2 forms completed": (4, 2),
    "Intelligence submissions about CSE": (15, 5),
}
# Response at each wave: the room on the day, fewer months later.
RESPONSE = {"pre": 1.0, "post": 0.95, "3m": 0.7, "6m": 0.55}


async def board_year(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    quiz: QuizSet,
    out: Path,
    echo: Callable[[str], None],
    seed: int = 7,
) -> list[Path]:
    """Add the year's other courses and the board's figures, then write the annual report into out/annual-report."""
    rng = random.Random(seed)
    figures_csv = out / "org-figures.csv"
    figures_csv.write_text(_figures_csv(rng), encoding="utf-8")
    async with sessions() as session, session.begin():
        for other in OTHER_COURSES:
            await _course(session, other, quiz, clock(), rng)
        rows = parse_figures(figures_csv.read_text(encoding="utf-8"))
        await import_figures(session, rows, now=clock(), actor=SYSTEM, source=figures_csv.name)
    async with sessions() as session, session.begin():
        report = await build_report(session, None, settings, now=clock(), period=YEAR)
    files = write_report(report, out / "annual-report")
    levels = ", ".join(str(r["level"]) for r in report["annual"]["course"] if not r.get("total"))
    echo(
        f"[annual] {len(report['courses'])} courses delivered in {YEAR.label} (levels {levels}); "
        f"{len(rows)} monthly figures in {len(MEASURES)} measures imported; annual report written."
    )
    return [figures_csv, files["html"], files["pdf"], files["json"]]


def _figures_csv(rng: random.Random) -> str:
    """Monthly figures from October 2025 to October 2026, as a board's spreadsheet would export them."""
    lines = [",".join(COLUMNS)]
    for month in range(13):
        year, m = 2025 + (9 + month) // 12, (9 + month) % 12 + 1
        start = date(year, m, 1)
        end = date(year + m // 12, m % 12 + 1, 1) - timedelta(days=1)
        for measure, (base, spread) in MEASURES.items():
            lines.append(f"{start},{end},{measure},{max(0, base + rng.randint(-spread, spread))}")
    return "\n".join(lines) + "\n"


async def _course(session: AsyncSession, other: OtherCourse, quiz: QuizSet, now: datetime, rng: random.Random) -> None:
    course = await create_course(
        session,
        code=other.code,
        title=other.title,
        delivered_on=other.delivered_on,
        level=other.level,
        quiz_ref=quiz.slug,
        now=now,
        waves=other.waves,
        expected_attendance=other.attendees + 3,
    )
    day = datetime.combine(other.delivered_on, time(9, 30), tzinfo=UTC)
    people = make_personas(other.attendees, seed=rng.randrange(1_000_000))
    enrolments = [
        Enrolment(
            pseudonym=new_pseudonym(),
            course_id=course.id,
            role=p.role,
            agency=p.agency,
            level=other.level,
            consented_at=day,
        )
        for p in people
    ]
    session.add_all(enrolments)
    await session.flush()  # ids for the check-ins; one flush per kind of row keeps this well under a second
    answered: list[tuple[CheckIn, Persona, str]] = []
    for person, enrolment in zip(people, enrolments, strict=True):
        for wave in other.waves:
            due = day if wave == waves.PRE else day + timedelta(hours=7, days=30 * waves.months(wave))
            answers = rng.random() < RESPONSE.get(wave, 0.5)
            check_in = CheckIn(
                enrolment_id=enrolment.id,
                wave=wave,
                state=CheckInState.COMPLETED if answers else CheckInState.EXPIRED,
                due_at=due,
                closes_at=due + timedelta(days=14),
                sent_at=due,
                completed_at=due + timedelta(minutes=6) if answers else None,
            )
            session.add(check_in)
            if answers:
                answered.append((check_in, person, wave))
    await session.flush()
    rows = []
    for check_in, person, wave in answered:
        for n, item in enumerate(quiz.items_for(wave)):
            value = _value(item, person, wave, rng)
            if value is None:
                continue  # free text: the chat scrubs what people type; nothing is typed here
            rows.append(
                {
                    "check_in_id": check_in.id,
                    "item_id": item.id,
                    "quiz_set_id": course.quiz_set_id,
                    "value": value,
                    "score": item_score(item, value),
                    "answered_at": check_in.due_at + timedelta(seconds=20 * n),
                }
            )
    await session.execute(insert(Answer), rows)


def _value(item: object, persona: Persona, wave: str, rng: random.Random) -> str | None:
    kind = getattr(item, "kind", "")
    if kind in ("single_choice", "true_false"):
        right = item.correct_value  # type: ignore[attr-defined]
        if rng.random() < persona.p_correct(wave, tuple(item.tags)):  # type: ignore[attr-defined]
            return right
        if kind == "true_false":
            return "false" if right == "true" else "true"
        return rng.choice([o.value for o in item.options if o.value != right])  # type: ignore[attr-defined]
    if isinstance(item, LikertItem):
        lean = persona.blame if item.construct_name in ("victim_blaming", "blaming_parents") else persona.efficacy
        lean += 0.8 if wave == waves.PRE and item.construct_name.startswith("victim") else 0.0
        score = min(5, max(1, round(rng.gauss(lean, 0.7))))
        return str(6 - score if item.reverse else score)
    if kind == "yes_no":
        return "yes" if rng.random() < persona.practice + 0.04 * waves.months(wave) else "no"
    if kind == "number":
        return str(rng.randint(item.min, item.max))  # type: ignore[attr-defined]
    return None
