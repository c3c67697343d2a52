"""The scheduler's messages: invitation and reminder, built from templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.messenger import Action, OutgoingMessage
from surveys.domain import waves
from surveys.domain.quizset import QuizSet
from surveys.language import ENGLISH, WELSH, current, say_date, speaking
from surveys.texts import label, render_text, wave_label


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
    language: str = ENGLISH  # the enrolment's: every message about its check-ins is in it


def quiz_size(quiz: QuizSet, wave: str) -> tuple[int, int]:
    """(questions asked at `wave`, the set's own estimate in minutes: what officers promised)."""
    return len(quiz.items_for(wave)), quiz.estimate_minutes


def local_day(moment: datetime | date, zone: str) -> str:
    """A day in the course's zone, in the current language: 'Thursday 5 February', 'dydd Iau 5 Chwefror'."""
    day = moment.astimezone(ZoneInfo(zone)).date() if isinstance(moment, datetime) else moment
    words = say_date(day, "EEEE d MMMM")
    # Mid-sentence in Welsh the day is lower case ("erbyn dydd Iau"); CLDR gives it as a heading.
    return words[0].lower() + words[1:] if current() == WELSH else words


def _context(info: CheckInInfo) -> dict[str, Any]:
    return {
        "wave": info.wave,
        "wave_label": wave_label(info.wave),
        "months": waves.months(info.wave),
        "course_title": info.course_title,
        "questions": info.questions,
        "minutes": info.minutes,
        "closes_on": local_day(info.closes_at, info.zone),
        "in_progress": info.in_progress,  # not a check-in state: the template's flag
    }


def invitation(info: CheckInInfo) -> OutgoingMessage:
    """The first message of a wave, with [Start now] [Remind me tomorrow], in the enrolment's language."""
    with speaking(info.language):
        return _invitation(info)


def reminder(info: CheckInInfo) -> OutgoingMessage:
    """A reminder for a check-in not finished yet, with [Start now|Carry on] [Remind me tomorrow], in its language."""
    with speaking(info.language):
        return _reminder(info)


def _invitation(info: CheckInInfo) -> OutgoingMessage:
    return OutgoingMessage(
        render_text("invitation.txt", **_context(info)),
        (
            Action(label("checkin.start"), "start", info.check_in_id),
            Action(label("checkin.snooze"), "snooze", info.check_in_id),
        ),
    )


def _reminder(info: CheckInInfo) -> OutgoingMessage:
    start = label("checkin.carry_on") if info.in_progress else label("checkin.start")
    return OutgoingMessage(
        render_text("reminder.txt", **_context(info)),
        (
            Action(start, "start", info.check_in_id),
            Action(label("checkin.snooze"), "snooze", info.check_in_id),
        ),
    )
