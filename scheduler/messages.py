"""The scheduler's messages: invitation, reminder and 'it has closed', built from templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.messenger import Action, OutgoingMessage
from surveys.domain import waves
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


def quiz_size(definition: dict[str, Any], wave: str) -> tuple[int, int]:
    """(questions asked at `wave`, estimated minutes) from a quiz-set definition read as a plain dict."""
    items = definition.get("items") or []
    questions = sum(1 for item in items if wave in (item.get("waves") or ()))
    # The set's own estimate is what officers promised; without one, about 20 s a question.
    minutes = definition.get("estimate_minutes") or max(1, round(questions / 3))
    return questions, int(minutes)


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
        "in_progress": info.in_progress,
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


def closed(course_title: str, next_due: datetime | None, zone: str) -> str:
    """Told to someone who comes to a check-in after it closed: when the next one comes, if any."""
    next_on = local_day(next_due, zone) if next_due else None
    return render_text("closed.txt", course_title=course_title, next_on=next_on)
