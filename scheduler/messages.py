"""The scheduler's messages: invitation and reminder, built from templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.messenger import Action, OutgoingMessage
from surveys.domain import waves
from surveys.domain.quizset import QuizSet
from surveys.texts import label, render_text


@dataclass(frozen=True)
class CheckInInfo:
    """What a message about one check-in needs to say."""

    check_in_id: int
    wave: str
    course_title: str
    zone: str
    closes_at: datetime
    in_progress: bool
    questions: int
    minutes: int


def quiz_size(quiz: QuizSet, wave: str) -> tuple[int, int]:
    """(questions asked at `wave`, the set's own estimate in minutes: what officers promised)."""
    return len(quiz.items_for(wave)), quiz.estimate_minutes


def local_day(moment: datetime | date, zone: str) -> str:
    """A day as people say it, in the course's zone: 'Thursday 5 February'."""
    day = moment.astimezone(ZoneInfo(zone)).date() if isinstance(moment, datetime) else moment
    return f"{day:%A} {day.day} {day:%B}"


def _context(info: CheckInInfo) -> dict[str, Any]:
    return {
        "wave": info.wave,
        "wave_label": waves.label(info.wave),
        "months": waves.months(info.wave),
        "course_title": info.course_title,
        "questions": info.questions,
        "minutes": info.minutes,
        "closes_on": local_day(info.closes_at, info.zone),
        "in_progress": info.in_progress,  # not a check-in state: the template's flag
    }


def invitation(info: CheckInInfo) -> OutgoingMessage:
    """The first message of a wave, with [Start now] [Remind me tomorrow]."""
    return OutgoingMessage(
        render_text("invitation.txt", **_context(info)),
        (
            Action(label("checkin.start"), "start", info.check_in_id),
            Action(label("checkin.snooze"), "snooze", info.check_in_id),
        ),
    )


def reminder(info: CheckInInfo) -> OutgoingMessage:
    """A reminder for a check-in not finished yet, with [Start now|Carry on] [Remind me tomorrow]."""
    start = label("checkin.carry_on") if info.in_progress else label("checkin.start")
    return OutgoingMessage(
        render_text("reminder.txt", **_context(info)),
        (
            Action(start, "start", info.check_in_id),
            Action(label("checkin.snooze"), "snooze", info.check_in_id),
        ),
    )
