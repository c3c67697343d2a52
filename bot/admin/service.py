"""The admin tools' orchestration: each request is one DB transaction, audited, returning an AdminReply."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import callbacks
from bot.admin.roles import EVALUATOR, Actor
from bot.admin.wizard import STEPS, NewCourse, attendance_from_text, day_from_button, day_from_text
from bot.journey import Button, Text
from scheduler.enrolment import release_post_wave
from surveys.audit import record
from surveys.catalog import UnknownQuizSet, find_quiz_set, import_quiz_set, list_quiz_sets, parsed
from surveys.clock import Clock
from surveys.codebook import SelectionError
from surveys.domain import lifecycle, waves
from surveys.domain.levels import LEVELS, LevelError, parse_level
from surveys.courses import (
    CODE_PATTERN,
    CodeTaken,
    CourseError,
    check_title,
    check_waves,
    check_zone,
    create_course,
    default_waves,
    find_course,
    list_courses,
)
from surveys.export import ExportError, codebook_path, export
from surveys.invite_sheet import qr_png
from surveys.invites import CourseClosed, deep_link, invite_course
from surveys.progress import course_progress
from surveys.quizset import QuizSetInvalid, load_quiz_set
from surveys.report import build_report, write_report
from surveys.settings import Settings
from surveys.texts import label, render_text

MAX_MESSAGE = 4096  # Telegram's limit for one message's text
MAX_UPLOAD = 512 * 1024  # a quiz set is a few KB; anything this big is not one
# Charts are drawn with matplotlib's global pyplot state: one report at a time per process.
_RENDERING = asyncio.Lock()


@dataclass(frozen=True)
class Photo:
    """An image to send, with a caption."""

    data: bytes
    caption: str


@dataclass(frozen=True)
class Document:
    """A file to send, read into memory (the temporary folder it came from is already gone)."""

    data: bytes
    filename: str
    caption: str = ""


AdminOut = Text | Photo | Document


@dataclass(frozen=True)
class AdminReply:
    """What to do in the officer's chat; `done` ends a /newcourse draft."""

    messages: tuple[AdminOut, ...] = ()
    notice: str | None = None
    edit: Text | None = None
    done: bool = False


def say(kind: str, **values: object) -> AdminReply:
    """One message from admin.txt."""
    return AdminReply((Text(render_text("admin.txt", kind=kind, **values)),))


def chunks(lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join lines into as few messages as fit under `limit` characters; an overlong line is cut."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def _step_text(step: str, problem: str = "", **values: object) -> str:
    return render_text("newcourse.txt", step=step, problem=problem, **values)


class Admin:
    """Orchestrates the officer's and evaluator's chat tools over the store, like Journey does for practitioners."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    async def _audit(self, session: AsyncSession, actor: Actor, action: str, target: str | None = None,
                     outcome: str = "ok") -> None:
        await record(session, actor.audited(self.settings), action, now=self.clock(), target=target, outcome=outcome)

    async def audited(self, actor: Actor, action: str, target: str | None = None, outcome: str = "ok") -> None:
        """Record one event in its own transaction (for outcomes decided outside the service)."""
        async with self.sessions() as session, session.begin():
            await self._audit(session, actor, action, target, outcome)

    async def refuse(self, actor: Actor, action: str, roles: frozenset[str]) -> AdminReply:
        """Someone without the role tried an admin command: audited as denied, and a refusal naming who may."""
        await self.audited(actor, action, outcome="denied")
        text = render_text("admin.txt", kind="refused", evaluators=EVALUATOR in roles)
        return AdminReply((Text(text),), notice=text)

    # --- looking ------------------------------------------------------------------------
    async def courses(self, actor: Actor) -> AdminReply:
        """Every course with enrolment and answered/asked per wave."""
        async with self.sessions() as session, session.begin():
            lines = []
            now = self.clock()
            for course in await list_courses(session):
                progress = await course_progress(session, course)
                lines.append({
                    "code": course.code, "title": course.title, "day": course.delivered_on,
                    "state": lifecycle.status(course, now), "enrolled": progress.enrolled,
                    "attendance": course.expected_attendance,
                    "waves": "  ".join(f"{w.wave} {w.completed}/{w.asked}" for w in progress.waves),
                })
            await self._audit(session, actor, "course.list")
        if not lines:
            return say("no_courses")
        return AdminReply(tuple(Text(c) for c in chunks(render_text("admin_courses.txt", courses=lines).split("\n"))))

    async def course(self, actor: Actor, code: str) -> AdminReply:
        """One course's response rates per wave."""
        async with self.sessions() as session, session.begin():
            course = await find_course(session, code)
            if course is None:
                return say("unknown_course", code=code)
            progress = await course_progress(session, course)
            await self._audit(session, actor, "course.show", course.code)
        return AdminReply(tuple(Text(c) for c in chunks(progress.lines())))

    async def quiz_sets(self, actor: Actor) -> AdminReply:
        """Stored quiz-set versions."""
        async with self.sessions() as session, session.begin():
            versions = [
                {"ref": v.ref, "title": v.title, "item_count": len(parsed(v).items),
                 "day": f"{v.created_at:%Y-%m-%d}"}
                for v in await list_quiz_sets(session)
            ]
            await self._audit(session, actor, "quizset.list")
        if not versions:
            return say("no_quiz_sets")
        return AdminReply(tuple(Text(c) for c in chunks(render_text("admin_quiz_sets.txt", versions=versions).split("\n"))))

    # --- changing -----------------------------------------------------------------------
    def refuse_upload(self, filename: str, size: int) -> AdminReply | None:
        """Why a document cannot be a quiz set (not .yaml, too big), before downloading it; None if it may be."""
        if not filename.lower().endswith((".yaml", ".yml")) or size > MAX_UPLOAD:
            return say("upload_not_yaml", limit_kb=MAX_UPLOAD // 1024)
        return None

    async def upload(self, actor: Actor, filename: str, data: bytes) -> AdminReply:
        """A quiz-set file: every problem with its line, or stored as a new version (or 'unchanged')."""
        if refused := self.refuse_upload(filename, len(data)):
            return refused
        try:
            quiz = load_quiz_set(data.decode("utf-8-sig"), filename=filename)
        except UnicodeDecodeError:
            quiz, problems = None, [f"{filename}:1:1: the file is not UTF-8 text"]
        except QuizSetInvalid as exc:
            quiz, problems = None, [str(e) for e in exc.errors]
        if quiz is None:
            await self.audited(actor, "quizset.import", filename, outcome="invalid")
            head = render_text("admin.txt", kind="upload_invalid", filename=filename, count=len(problems))
            return AdminReply(tuple(Text(c) for c in chunks([head, *problems])))
        async with self.sessions() as session, session.begin():
            result = await import_quiz_set(session, quiz, self.clock(), actor=actor.audited(self.settings))
            return AdminReply((Text(result.describe()),))

    async def invite(self, actor: Actor, code: str, bot_username: str) -> AdminReply:
        """A fresh shared link for the course and its QR code as a PNG."""
        async with self.sessions() as session, session.begin():
            course = await find_course(session, code)
            if course is None:
                return say("unknown_course", code=code)
            try:
                issued, _ = await invite_course(session, course, self.clock(), actor=actor.audited(self.settings))
            except CourseClosed:
                return say("closed_course", code=course.code)
            link = deep_link(bot_username, issued.token)
            caption = render_text("admin.txt", kind="invite", title=course.title, code=course.code, link=link)
        return AdminReply((Photo(qr_png(link), caption),))

    async def ask_end(self, actor: Actor, code: str) -> AdminReply:
        """/end: confirm with a button first; nothing changes yet."""
        async with self.sessions() as session, session.begin():
            course = await find_course(session, code)
            if course is None:
                return say("unknown_course", code=code)
            if course.ended_at is not None:
                return say("already_ended", code=course.code, on=f"{course.ended_at:%Y-%m-%d %H:%M}")
            rows = ((Button(label("admin.end", code=course.code), callbacks.encode("x", "end", course.code)),
                     Button(label("admin.not_yet"), callbacks.encode("x", "keep", course.code))),)
            return AdminReply((Text(render_text("admin.txt", kind="end_confirm", code=course.code), rows),))

    async def end(self, actor: Actor, code: str) -> AdminReply:
        """The confirmed /end: release the post-course wave to everyone enrolled now."""
        async with self.sessions() as session, session.begin():
            course = await find_course(session, code)
            if course is None:
                return AdminReply(notice=render_text("admin.txt", kind="stale"))
            if course.ended_at is not None:
                text = render_text("admin.txt", kind="already_ended", code=course.code, on=f"{course.ended_at:%Y-%m-%d %H:%M}")
                return AdminReply(notice=text, edit=Text(text))
            released = await release_post_wave(session, course, self.clock(), self.settings,
                                               actor=actor.audited(self.settings))
            text = render_text("admin.txt", kind="ended", code=course.code, count=released)
        return AdminReply(notice=text, edit=Text(text))

    async def keep(self, actor: Actor, code: str) -> AdminReply:
        """"Not yet" under /end: nothing changes."""
        text = render_text("admin.txt", kind="end_kept", code=code)
        return AdminReply(notice=text, edit=Text(text))

    # --- files for evaluators -------------------------------------------------------------
    async def report(self, actor: Actor, code: str) -> AdminReply:
        """report.html and report.pdf for one course (small groups suppressed as in the CLI)."""
        try:
            async with self.sessions() as session, session.begin():
                report = await build_report(session, [code], self.settings, now=self.clock(),
                                            actor=actor.audited(self.settings))
        except SelectionError as exc:
            return say("nothing_yet", problem=_chat_wording(str(exc)))
        with tempfile.TemporaryDirectory(prefix="followup-report-") as folder:
            async with _RENDERING:
                # Charts and the PDF take seconds of CPU: off the event loop, so other chats carry on.
                paths = await asyncio.to_thread(write_report, report, Path(folder))
            caption = render_text("admin.txt", kind="report", code=code.upper(), k=self.settings.suppress_below)
            files = tuple(Document(paths[kind].read_bytes(), f"{code.lower()}-report.{kind}", caption if kind == "html" else "")
                          for kind in ("html", "pdf"))
        return AdminReply(files)

    async def export(self, actor: Actor, code: str) -> AdminReply:
        """The long CSV of answers (pseudonyms only) and its codebook."""
        with tempfile.TemporaryDirectory(prefix="followup-export-") as folder:
            out = Path(folder) / f"{code.lower()}-answers.csv"
            try:
                async with self.sessions() as session, session.begin():
                    await export(session, [code], "csv", "long", out,
                                 actor=actor.audited(self.settings), now=self.clock())
            except (SelectionError, ExportError) as exc:
                return say("nothing_yet", problem=_chat_wording(str(exc)))
            book = codebook_path(out)
            caption = render_text("admin.txt", kind="export", code=code.upper())
            return AdminReply((Document(out.read_bytes(), out.name, caption), Document(book.read_bytes(), book.name)))

    # --- /newcourse -----------------------------------------------------------------------
    async def new_course(self, actor: Actor, draft: NewCourse) -> AdminReply:
        """Start (or restart) the wizard: the quiz-set question with the latest version of each set."""
        async with self.sessions() as session, session.begin():
            latest = {v.slug: v.ref for v in await list_quiz_sets(session)}  # ordered by version
        if not latest:
            return AdminReply(say("no_quiz_sets").messages, done=True)
        rows = tuple((Button(ref, callbacks.encode("x", "quiz", ref)),) for ref in latest.values())
        return AdminReply((Text(_step_text("quiz", number=1, of=len(STEPS)), rows),))

    def _ask(self, draft: NewCourse, problem: str = "") -> Text:
        """The draft's next question, with buttons where there are fixed answers."""
        step = draft.step
        rows: tuple[tuple[Button, ...], ...] = ()
        values: dict[str, object] = {}
        if step == "level":
            buttons = [Button(str(n), callbacks.encode("x", "level", n)) for n in LEVELS]
            rows = (tuple(buttons[:3]), tuple(buttons[3:]))
        elif step == "date":
            rows = ((Button(label("admin.today"), callbacks.encode("x", "date", "today")),
                     Button(label("admin.tomorrow"), callbacks.encode("x", "date", "tomorrow"))),)
        elif step == "past":
            values["day"] = draft.delivered_on
            rows = ((Button(label("admin.past_yes"), callbacks.encode("x", "past", "yes")),
                     Button(label("admin.past_no"), callbacks.encode("x", "past", "no"))),)
        elif step == "waves":
            rows = tuple((Button(", ".join(o), callbacks.encode("x", "waves", ".".join(o))),)
                         for o in _wave_options(draft.quiz_waves))
            values["known"] = ", ".join(draft.quiz_waves)
        elif step == "attendance":
            rows = ((Button(label("admin.not_known"), callbacks.encode("x", "attendance", "unknown")),),)
        elif step == "zone":
            values["zone"] = self.settings.timezone
            rows = ((Button(self.settings.timezone, callbacks.encode("x", "zone", "default")),),)
        return Text(_step_text(step, problem, number=draft.number, of=len(STEPS), **values), rows)

    def _today(self) -> datetime:
        return self.clock().astimezone(self.settings.zone)

    def _set_day(self, draft: NewCourse, day: date) -> None:
        """Take the course date; a past one waits for the officer's confirmation."""
        draft.delivered_on = day
        draft.date_confirmed = not lifecycle.day_has_passed(day, self.settings.timezone, self.clock())

    async def wizard_press(self, actor: Actor, draft: NewCourse | None, step: str, value: str) -> AdminReply:
        """A wizard button: fill the draft if it is the current question, then ask the next one (or create)."""
        if draft is None:
            return AdminReply(notice=render_text("admin.txt", kind="stale"), edit=Text(_step_text("gone")))
        if step != draft.step:
            return AdminReply(notice=render_text("admin.txt", kind="stale"))
        chosen = await self._press(draft, step, value)
        if chosen is None:
            return AdminReply(notice=render_text("admin.txt", kind="stale"))
        edit = Text(_step_text("chosen", label=chosen[0], value=chosen[1]))
        if draft.step == "done":
            reply = await self._create(actor, draft)
            return AdminReply(reply.messages, notice=label("admin.picked"), edit=edit, done=reply.done)
        return AdminReply((self._ask(draft),), notice=label("admin.picked"), edit=edit)

    async def _press(self, draft: NewCourse, step: str, value: str) -> tuple[str, str] | None:
        """Apply one button to the draft; (what, shown) for the "chosen ✓" line, None for a value no button has."""
        if step == "quiz":
            async with self.sessions() as session, session.begin():
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
        if step == "date" and (day := day_from_button(value, self._today().date())):
            self._set_day(draft, day)
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
            draft.zone = self.settings.timezone
            return label("admin.zone"), draft.zone
        return None

    async def wizard_text(self, actor: Actor, draft: NewCourse, text: str) -> AdminReply:
        """Typed text during the wizard: the answer to the current question; anything unusable re-asks."""
        step, text = draft.step, text.strip()
        problem = await self._typed(draft, step, text)
        if problem is not None:
            return AdminReply((self._ask(draft, problem),))
        if draft.step == "done":
            return await self._create(actor, draft)
        return AdminReply((self._ask(draft),))

    async def _typed(self, draft: NewCourse, step: str, text: str) -> str | None:
        """Apply a typed answer to the draft; the problem to show under the question again, or None."""
        if step == "date":
            day = day_from_text(text)
            if day is None:
                return _step_text("bad_date")
            self._set_day(draft, day)
        elif step == "code":
            if not CODE_PATTERN.match(text):
                return _step_text("bad_code")
            async with self.sessions() as session, session.begin():
                if await find_course(session, text) is not None:
                    return _step_text("code_taken", code=text)
            draft.code = text
        elif step == "title":
            try:
                draft.title = check_title(text)
            except CourseError as exc:
                return _sentence(str(exc))
        elif step == "waves":
            try:
                chosen = waves.parse_list(text.replace(" ", ","))
                check_waves(draft.quiz_ref or "", draft.quiz_waves, chosen)
            except (waves.WaveError, CourseError) as exc:
                return _sentence(str(exc))
            draft.waves = chosen
        elif step == "attendance":
            count = attendance_from_text(text)
            if count is None:
                return _step_text("bad_attendance")
            draft.attendance, draft.attendance_given = count, True
        elif step == "zone":
            try:
                draft.zone = check_zone(text)
            except CourseError as exc:
                return _sentence(str(exc))
        else:
            return _step_text("tap_button")
        return None

    async def _create(self, actor: Actor, draft: NewCourse) -> AdminReply:
        assert draft.quiz_ref and draft.level and draft.delivered_on and draft.code and draft.title
        assert draft.waves and draft.zone
        try:
            async with self.sessions() as session, session.begin():
                course = await create_course(
                    session, code=draft.code, title=draft.title, delivered_on=draft.delivered_on,
                    level=draft.level, quiz_ref=draft.quiz_ref, now=self.clock(), zone=draft.zone,
                    waves=draft.waves, expected_attendance=draft.attendance, actor=actor.audited(self.settings),
                )
                text = _step_text("created", code=course.code, title=course.title, day=course.delivered_on,
                                  level=course.level, quiz=draft.quiz_ref, waves=", ".join(course.waves),
                                  attendance=course.expected_attendance, zone=course.zone)
        except CodeTaken as exc:
            draft.code = None  # someone took the code meanwhile: ask for another
            return AdminReply((self._ask(draft, _sentence(str(exc))),))
        except CourseError as exc:
            return AdminReply((Text(_sentence(str(exc))),), done=True)
        return AdminReply((Text(text),), done=True)


def _wave_options(known: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Wave lists offered as buttons: the default waves this quiz set has items for, then the same without pre."""
    default = default_waves(known)
    options = [default]
    if waves.PRE in default and len(default) > 1:
        options.append(tuple(w for w in default if w != waves.PRE))
    return options


def _sentence(message: str) -> str:
    """A core error message as a sentence (capital first letter, full stop) without touching codes."""
    message = message.rstrip(".")
    return message[:1].upper() + message[1:] + "."


def _chat_wording(message: str) -> str:
    """Core errors point at the CLI; in the chat the equivalent is a command."""
    return _sentence(message.replace("`followup course list` shows them", "/courses lists them"))
