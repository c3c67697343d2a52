"""Response progress of a course: enrolled, and per wave how many were asked and answered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.states import CheckInState
from surveys.store.models import CheckIn, Course, Enrolment


@dataclass(frozen=True)
class WaveProgress:
    """One wave of one course: counts by state, and the response rate against attendance."""

    wave: str
    counts: dict[str, int]
    attendance: int | None

    @property
    def completed(self) -> int:
        """Check-ins answered to the end."""
        return self.counts.get(CheckInState.COMPLETED, 0)

    @property
    def asked(self) -> int:
        """Check-ins that have been sent (or were due and closed unanswered)."""
        return sum(n for state, n in self.counts.items() if state not in (CheckInState.SCHEDULED, CheckInState.MISSED))

    @property
    def rate(self) -> float | None:
        """Completed over expected attendance (the honest denominator), or None without one."""
        return self.completed / self.attendance if self.attendance else None


@dataclass(frozen=True)
class CourseProgress:
    """A course's enrolment and its waves."""

    course: Course
    enrolled: int
    withdrawn: int
    waves: list[WaveProgress]

    def lines(self) -> list[str]:
        """Plain-text lines for the CLI and the chat."""
        c = self.course
        head = (
            f"{c.code} — {c.title} ({c.delivered_on}, level {c.level}, {c.quiz_set.ref})\n"
            f"Enrolled {self.enrolled}"
            + (f" of {c.expected_attendance} attending" if c.expected_attendance else "")
            + (f", {self.withdrawn} withdrew" if self.withdrawn else "")
        )
        rows = [head]
        for w in self.waves:
            rate = f" = {w.rate:.0%} of attendance" if w.rate is not None else ""
            pending = w.counts.get(CheckInState.SCHEDULED, 0)
            rows.append(
                f"  {w.wave:>4}: {w.completed} answered of {w.asked} asked{rate}"
                + (f"; {pending} not yet due" if pending else "")
                + (f"; {lapsed} lapsed" if (lapsed := w.counts.get(CheckInState.EXPIRED)) else "")
            )
        return rows


async def course_progress(session: AsyncSession, course: Course) -> CourseProgress:
    """Count enrolments and check-in states per wave in two aggregate queries."""
    enrolled, withdrawn = (
        await session.execute(
            select(func.count(), func.count(Enrolment.withdrawn_at)).where(Enrolment.course_id == course.id)
        )
    ).one()
    rows = await session.execute(
        select(CheckIn.wave, CheckIn.state, func.count())
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(Enrolment.course_id == course.id)
        .group_by(CheckIn.wave, CheckIn.state)
    )
    per_wave: dict[str, dict[str, int]] = {w: {} for w in course.waves}
    for wave, state, count in rows.all():
        per_wave.setdefault(wave, {})[state] = count
    waves = [WaveProgress(w, per_wave[w], course.expected_attendance) for w in per_wave]
    return CourseProgress(course, enrolled, withdrawn, waves)
