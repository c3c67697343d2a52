"""The admin tools' orchestration: each request is one DB transaction, audited, returning an AdminReply."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import callbacks
from bot.admin.roles import EVALUATOR, Actor
from bot.admin.wizard import NewCourse, day_from_button, day_from_text
from bot.journey import Button, Text
from scheduler.enrolment import release_post_wave
from surveys.audit import record
from surveys.catalog import UnknownQuizSet, find_quiz_set, import_quiz_set, list_quiz_sets, parsed
from surveys.clock import Clock
from surveys.codebook import SelectionError
from surveys.domain import lifecycle, waves
from surveys.domain.levels import LEVELS
from surveys.courses import (
    CODE_PATTERN,
    CourseError,
    create_course,
    find_course,
    list_courses,
)
from surveys.export import ExportError, codebook_path, export
from surveys.invite_sheet import qr_png
from surveys.invites import CourseClosed, deep_link, invite_course
from surveys.models import Course
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
        return AdminReply((Text(_step_text("quiz"), rows),))

    def _ask(self, draft: NewCourse, problem: str = "") -> Text:
        """The draft's next question, with buttons where there are fixed answers."""
        step = draft.step
        rows: tuple[tuple[Button, ...], ...] = ()
        if step == "level":
            buttons = [Button(str(n), callbacks.encode("x", "level", n)) for n in LEVELS]
            rows = (tuple(buttons[:3]), tuple(buttons[3:]))
        elif step == "date":
            rows = ((Button(label("admin.today"), callbacks.encode("x", "date", "today")),
                     Button(label("admin.tomorrow"), callbacks.encode("x", "date", "tomorrow"))),)
        return Text(_step_text(step, problem), rows)

    def _today(self) -> datetime:
        return self.clock().astimezone(self.settings.zone)

    async def wizard_press(self, actor: Actor, draft: NewCourse | None, step: str, value: str) -> AdminReply:
        """A wizard button: fill the draft if it is the current question, then ask the next one."""
        if draft is None:
            return AdminReply(notice=render_text("admin.txt", kind="stale"), edit=Text(_step_text("expired")))
        if step != draft.step:
            return AdminReply(notice=render_text("admin.txt", kind="stale"))
        if step == "quiz":
            async with self.sessions() as session, session.begin():
                try:
                    draft.quiz_ref = (await find_quiz_set(session, value)).ref
                except UnknownQuizSet:
                    return AdminReply(notice=render_text("admin.txt", kind="stale"))
            name, shown = label("admin.quiz_set"), draft.quiz_ref
        elif step == "level" and value.isdigit() and int(value) in LEVELS:
            draft.level = int(value)
            name, shown = label("admin.level"), value
        elif step == "date" and (day := day_from_button(value, self._today().date())):
            draft.delivered_on = day
            name, shown = label("admin.date"), f"{day:%A} {day.isoformat()}"
        else:
            return AdminReply(notice=render_text("admin.txt", kind="stale"))
        return AdminReply((self._ask(draft),), notice=label("admin.picked"),
                          edit=Text(_step_text("chosen", label=name, value=shown)))

    async def wizard_text(self, actor: Actor, draft: NewCourse, text: str) -> AdminReply:
        """Typed text during the wizard: a date, the code, or the title; anything else re-asks."""
        step, text = draft.step, text.strip()
        if step == "date":
            day = day_from_text(text)
            if day is None:
                return AdminReply((self._ask(draft, _step_text("bad_date")),))
            draft.delivered_on = day
            return AdminReply((self._ask(draft),))
        if step == "code":
            async with self.sessions() as session, session.begin():
                taken = await find_course(session, text) is not None if CODE_PATTERN.match(text) else False
            if not CODE_PATTERN.match(text) or taken:
                problem = _step_text("code_taken", code=text) if taken else _step_text("bad_code")
                return AdminReply((self._ask(draft, problem),))
            draft.code = text
            return AdminReply((self._ask(draft),))
        if step == "title":
            return await self._create(actor, draft, text)
        return AdminReply((self._ask(draft, _step_text("tap_button")),))

    async def _create(self, actor: Actor, draft: NewCourse, title: str) -> AdminReply:
        assert draft.quiz_ref and draft.level and draft.delivered_on and draft.code
        try:
            async with self.sessions() as session, session.begin():
                quiz = await find_quiz_set(session, draft.quiz_ref)
                known = set(parsed(quiz).waves)
                # The default waves this quiz set has items for; create_course names any it lacks.
                chosen = tuple(w for w in waves.DEFAULT_WAVES if w in known) or waves.DEFAULT_WAVES
                course = await create_course(
                    session, code=draft.code, title=title, delivered_on=draft.delivered_on, level=draft.level,
                    quiz_ref=draft.quiz_ref, now=self.clock(), zone=self.settings.timezone, waves=chosen,
                    actor=actor.audited(self.settings),
                )
                text = _step_text("created", code=course.code, title=course.title, day=course.delivered_on,
                                  level=course.level, quiz=quiz.ref, waves=", ".join(course.waves))
        except CourseError as exc:
            if "code" in str(exc) and "already exists" in str(exc):
                draft.code = None  # someone took the code meanwhile: ask for another
            return AdminReply((self._ask(draft, _sentence(str(exc))),))
        return AdminReply((Text(text),), done=True)


def _sentence(message: str) -> str:
    """A core error message as a sentence (capital first letter, full stop) without touching codes."""
    message = message.rstrip(".")
    return message[:1].upper() + message[1:] + "."


def _chat_wording(message: str) -> str:
    """Core errors point at the CLI; in the chat the equivalent is a command."""
    return _sentence(message.replace("`followup course list` shows them", "/courses lists them"))
