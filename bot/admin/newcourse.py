"""The /newcourse questions over the store: ask the draft's next question, take a press or a typed answer, create."""

from __future__ import annotations

from datetime import date

from bot import callbacks
from bot.admin.roles import Actor
from bot.admin.service import Admin
from bot.admin.wizard import STEPS, NewCourse, attendance_from_text, day_from_button, day_from_text
from bot.admin.wording import admin_line, admin_reply, sentence
from bot.replies import Button, Reply, Rows, Text
from bot.texts import label, render_text
from surveys.domain import lifecycle, waves
from surveys.domain.levels import LEVELS, LevelError, parse_level
from surveys.store.catalog import UnknownQuizSet, find_quiz_set, list_quiz_sets, parsed
from surveys.store.courses import (
    CODE_PATTERN,
    CodeTaken,
    CourseError,
    check_title,
    check_waves,
    check_zone,
    create_course,
    default_waves,
    find_course,
)

CANCEL_DATA = callbacks.encode("x", "cancel", "")


def step_text(step: str, problem: str = "", **values: object) -> str:
    """One part of newcourse.txt: a question, a confirmation, or the problem with a typed answer."""
    return render_text("newcourse.txt", step=step, problem=problem, **values)


def stale() -> Reply:
    """A wizard button that is not for the question on screen now."""
    return Reply(notice=admin_line("stale"))


def gone() -> Reply:
    """A wizard button with no /newcourse under way (finished, cancelled, timed out or restarted)."""
    return Reply(notice=admin_line("stale"), edit=Text(step_text("gone")))


async def start(admin: Admin, draft: NewCourse) -> Reply:
    """The quiz-set question with the latest version of each set; without any set, the wizard is finished."""
    async with admin.sessions() as session, session.begin():
        latest = {v.slug: v.ref for v in await list_quiz_sets(session)}  # ordered by version
    if not latest:
        draft.finished = True
        return admin_reply("no_quiz_sets")
    rows = tuple((Button(ref, callbacks.encode("x", "quiz", ref)),) for ref in latest.values())
    return Reply((_question(step_text("quiz", number=1, of=len(STEPS)), rows),))


def _question(text: str, rows: Rows = ()) -> Text:
    """A question with its buttons and, last, Cancel."""
    return Text(text, (*rows, (Button(label("admin.cancel"), CANCEL_DATA),)))


def ask(admin: Admin, draft: NewCourse, problem: str = "") -> Text:
    """The draft's next question, with buttons where there are fixed answers."""
    step = draft.step
    rows: Rows = ()
    values: dict[str, object] = {}
    if step == "level":
        buttons = [Button(str(n), callbacks.encode("x", "level", n)) for n in LEVELS]
        rows = (tuple(buttons[:3]), tuple(buttons[3:]))
    elif step == "date":
        rows = (
            (
                Button(label("admin.today"), callbacks.encode("x", "date", "today")),
                Button(label("admin.tomorrow"), callbacks.encode("x", "date", "tomorrow")),
            ),
        )
    elif step == "past":
        values["day"] = draft.delivered_on
        rows = (
            (
                Button(label("admin.past_yes"), callbacks.encode("x", "past", "yes")),
                Button(label("admin.past_no"), callbacks.encode("x", "past", "no")),
            ),
        )
    elif step == "waves":
        rows = tuple(
            (Button(", ".join(o), callbacks.encode("x", "waves", ".".join(o))),)
            for o in _wave_options(draft.quiz_waves)
        )
        values["known"] = ", ".join(draft.quiz_waves)
    elif step == "attendance":
        rows = ((Button(label("admin.not_known"), callbacks.encode("x", "attendance", "unknown")),),)
    elif step == "zone":
        values["zone"] = admin.settings.timezone
        rows = ((Button(admin.settings.timezone, callbacks.encode("x", "zone", "default")),),)
    return _question(step_text(step, problem, number=draft.number, of=len(STEPS), **values), rows)


def _set_day(admin: Admin, draft: NewCourse, day: date) -> None:
    """Take the course date; a past one waits for the officer's confirmation."""
    draft.delivered_on = day
    draft.date_confirmed = not lifecycle.day_has_passed(day, admin.settings.timezone, admin.clock())


async def press(admin: Admin, actor: Actor, draft: NewCourse, step: str, value: str) -> Reply:
    """A wizard button: fill the draft if it is the current question, then ask the next one (or create)."""
    if step != draft.step:
        return stale()
    chosen = await _apply_press(admin, draft, step, value)
    if chosen is None:
        return stale()
    edit = Text(step_text("chosen", label=chosen[0], value=chosen[1]))
    following = await _create(admin, actor, draft) if draft.step == "done" else Reply((ask(admin, draft),))
    return Reply(following.messages, notice=label("admin.picked"), edit=edit)


async def _apply_press(admin: Admin, draft: NewCourse, step: str, value: str) -> tuple[str, str] | None:
    """Apply one button to the draft; (what, shown) for the "chosen ✓" line, None for a value no button has."""
    if step == "quiz":
        async with admin.sessions() as session, session.begin():
            try:
                quiz = await find_quiz_set(session, value)
            except UnknownQuizSet:
                return None
        draft.quiz_ref, draft.quiz_waves = quiz.ref, parsed(quiz).waves
        return label("admin.quiz_set"), draft.quiz_ref
    if step == "level":
        try:
            draft.level = parse_level(value)
        except LevelError:
            return None
        return label("admin.level"), value
    if step == "date" and (day := day_from_button(value, admin.clock().astimezone(admin.settings.zone).date())):
        _set_day(admin, draft, day)
        return label("admin.date"), f"{day:%A} {day.isoformat()}"
    if step == "past" and value in ("yes", "no"):
        draft.date_confirmed = value == "yes"
        if not draft.date_confirmed:
            draft.delivered_on = None  # ask for the date again
        return label("admin.date"), label("admin.past_yes" if draft.date_confirmed else "admin.past_no")
    if step == "waves" and tuple(value.split(".")) in _wave_options(draft.quiz_waves):
        draft.waves = tuple(value.split("."))
        return label("admin.waves"), ", ".join(draft.waves)
    if step == "attendance" and value == "unknown":
        draft.attendance_given = True
        return label("admin.attendance"), label("admin.not_known")
    if step == "zone" and value == "default":
        draft.zone = admin.settings.timezone
        return label("admin.zone"), draft.zone
    return None


async def answer(admin: Admin, actor: Actor, draft: NewCourse, text: str) -> Reply:
    """Typed text during the wizard: the answer to the current question; anything unusable re-asks."""
    problem = await _apply_text(admin, draft, draft.step, text.strip())
    if problem is not None:
        return Reply((ask(admin, draft, problem),))
    if draft.step == "done":
        return await _create(admin, actor, draft)
    return Reply((ask(admin, draft),))


async def _apply_text(admin: Admin, draft: NewCourse, step: str, text: str) -> str | None:
    """Apply a typed answer to the draft; the problem to show under the question again, or None."""
    if step == "date":
        day = day_from_text(text)
        if day is None:
            return step_text("bad_date")
        _set_day(admin, draft, day)
    elif step == "code":
        if not CODE_PATTERN.match(text):
            return step_text("bad_code")
        async with admin.sessions() as session, session.begin():
            if await find_course(session, text) is not None:
                return step_text("code_taken", code=text)
        draft.code = text
    elif step == "title":
        try:
            draft.title = check_title(text)
        except CourseError as exc:
            return sentence(str(exc))
    elif step == "waves":
        try:
            chosen = waves.parse_list(text.replace(" ", ","))
            check_waves(draft.quiz_ref or "", draft.quiz_waves, chosen)
        except (waves.WaveError, CourseError) as exc:
            return sentence(str(exc))
        draft.waves = chosen
    elif step == "attendance":
        count = attendance_from_text(text)
        if count is None:
            return step_text("bad_attendance")
        draft.attendance, draft.attendance_given = count, True
    elif step == "zone":
        try:
            draft.zone = check_zone(text)
        except CourseError as exc:
            return sentence(str(exc))
    else:
        return step_text("tap_button")
    return None


async def _create(admin: Admin, actor: Actor, draft: NewCourse) -> Reply:
    """Store the course from a complete draft; a code taken meanwhile asks for another."""
    assert draft.quiz_ref and draft.level and draft.delivered_on and draft.code and draft.title
    assert draft.waves and draft.zone
    try:
        async with admin.sessions() as session, session.begin():
            course = await create_course(
                session,
                code=draft.code,
                title=draft.title,
                delivered_on=draft.delivered_on,
                level=draft.level,
                quiz_ref=draft.quiz_ref,
                now=admin.clock(),
                zone=draft.zone,
                waves=draft.waves,
                expected_attendance=draft.attendance,
                actor=actor.audited(admin.settings),
            )
            text = step_text(
                "created",
                code=course.code,
                title=course.title,
                day=course.delivered_on,
                level=course.level,
                quiz=draft.quiz_ref,
                waves=", ".join(course.waves),
                attendance=course.expected_attendance,
                zone=course.zone,
            )
    except CodeTaken as exc:
        draft.code = None
        return Reply((ask(admin, draft, sentence(str(exc))),))
    except CourseError as exc:
        draft.finished = True
        return Reply((Text(sentence(str(exc))),))
    draft.finished = True
    return Reply((Text(text),))


def _wave_options(known: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Wave lists offered as buttons: the default waves this quiz set has items for, then the same without pre."""
    default = default_waves(known)
    options = [default]
    if waves.PRE in default and len(default) > 1:
        options.append(tuple(w for w in default if w != waves.PRE))
    return options
