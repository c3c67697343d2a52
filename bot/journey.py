"""The practitioner's journey: each chat event becomes one DB transaction and a Reply saying what to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import callbacks, commitments, in_depth, own_progress, profile
from bot.callbacks import Kind
from bot.language import choice_row
from bot.replies import Button, Question, Reply, Text
from bot.texts import label, render_text
from bot.transcript import answers_given
from scheduler.messages import local_day
from scheduler.next_checkin import next_check_in_due
from scheduler.reminders import reminder_times, snooze
from scheduler.timetable import schedule_check_ins
from surveys import language
from surveys.clock import Clock
from surveys.domain import lifecycle, states, waves
from surveys.domain.engine import Conversation, Outcome, Prompt
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import QuizSet
from surveys.domain.scrub import scrub_free_text
from surveys.domain.states import CheckInState
from surveys.settings import Settings
from surveys.store import answering
from surveys.store.answering import Pressed, pressed_check_in
from surveys.store.checkins import (
    OpenCheckIn,
    mark_started,
    open_check_in,
    pending_check_ins,
    record_answer,
    stored_answers,
)
from surveys.store.enrolments import (
    AlreadyEnrolled,
    active_enrolments,
    awaiting_profile,
    enrol,
    erase,
    set_profile,
    withdraw,
)
from surveys.store.invites import InviteProblem, invite_language, resolve_invite
from surveys.store.models import CheckIn, Course, Enrolment, QuizSetVersion
from surveys.store.own_commitments import own_commitments
from surveys.store.transactions import Transactions
from surveys.texts import wave_label

# Telegram lets people type 4096 characters; no answer here needs more than this, and a
# wall of text in a check-in is more likely pasted case notes than an answer.
MAX_TYPED = 1000


@dataclass
class _Step:
    """The open check-in loaded with its quiz and the answers so far."""

    found: OpenCheckIn
    conversation: Conversation
    quiz: QuizSet = field(repr=False)

    @property
    def check_in(self) -> CheckIn:
        return self.found.check_in


_QUIZZES: dict[tuple[str, str], QuizSet] = {}


def _load_quiz(conn: Connection, quiz_set_id: int, slug: str, checksum: str) -> QuizSet:
    # Stored versions are immutable, so parsing each once per process is safe. Keyed by content
    # (checksum), not row id: ids are reused when a database is recreated. The definition is
    # not loaded with the check-in (see surveys.store.checkins), only here on a miss. A press fills
    # the cache from the SQLite thread: a dict's get and set are atomic, and a race parses twice.
    key = (slug, checksum)
    quiz = _QUIZZES.get(key)
    if quiz is None:
        definition = conn.scalar(select(QuizSetVersion.definition).where(QuizSetVersion.id == quiz_set_id))
        quiz = _QUIZZES[key] = QuizSet.from_definition(definition)
    return quiz


async def _quiz(session: AsyncSession, quiz_set_id: int, slug: str, checksum: str) -> QuizSet:
    return await (await session.connection()).run_sync(_load_quiz, quiz_set_id, slug, checksum)


def _context(course: Course, wave: str) -> RenderContext:
    return RenderContext(course.title, wave, waves.months(wave))


class Journey:
    """Orchestrates enrolment, check-ins and the practitioner's commands over the store and scheduler."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], transactions: Transactions, settings: Settings, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.transactions = transactions
        self.settings = settings
        self.clock = clock

    # --- enrolment ----------------------------------------------------------------------
    async def start(self, chat_id: int, token: str | None, chosen: str | None = None) -> Reply:
        """/start with or without an invite token: consent request, a clear refusal, or how to join.

        The consent request is in the course's language, else the one `chosen` with its Cymraeg / English
        buttons (offered first, unless the course sets one), else the chat's (bot.language).
        """
        now = self.clock()
        async with self.sessions() as session, session.begin():
            enrolled = bool(await active_enrolments(session, chat_id))
            if not token:
                return Reply((Text(render_text("join.txt", enrolled=enrolled)),))
            if callbacks.parse(f"{Kind.CONSENT}:{token}") is None:
                return self._invite_problem("unknown")
            try:
                invite = await resolve_invite(session, token, now)
            except InviteProblem as problem:
                return self._invite_problem(problem.reason)
            for existing in await active_enrolments(session, chat_id):
                if existing.course_id == invite.course_id:
                    return await self._already(session, chat_id, invite.course, now)
            course = invite.course
            preset = invite_language(invite)
            speaking = preset or chosen or language.current()
            language.set_for_task(speaking)
            version = course.quiz_set
            quiz = await _quiz(session, version.id, version.slug, version.checksum)
            text = render_text(
                "consent.txt",
                course_title=course.title,
                contact=self.settings.evaluation_contact,
                retention_days=self.settings.retention_days,
                waves=[wave_label(w) for w in course.waves],
                minutes=quiz.estimate_minutes,
            )
            rows = (
                (
                    Button(label("consent.agree"), callbacks.encode(Kind.CONSENT, token, speaking)),
                    Button(label("consent.decline"), callbacks.encode(Kind.DECLINE, token, speaking)),
                ),
            )
            if preset is None:
                # The choice of language comes first: its line above everything, its buttons on top.
                rows = (*choice_row(token), *rows)
                text = _joined("" if chosen else render_text("language_offer.txt"), text)
            # The quiz set's own words about itself come first, in the same message (one request: a room
            # scans the link at once); when both pass Telegram's limit, delivery splits them and the
            # consent request with its buttons stays last.
            return Reply((Text(_joined(quiz.in_language(speaking).description, text), rows),))

    def _invite_problem(self, reason: str) -> Reply:
        return Reply(
            (Text(render_text("invite_problem.txt", reason=reason, contact=self.settings.evaluation_contact)),)
        )

    async def _already(self, session: AsyncSession, chat_id: int, course: Course, now: datetime) -> Reply:
        found = await open_check_in(session, chat_id, now)
        return Reply((Text(render_text("already_enrolled.txt", course_title=course.title, open=found is not None)),))

    async def consent(self, chat_id: int, token: str, chosen: str | None = None) -> Reply:
        """Agree pressed: enrol under a pseudonym in the language of the request, plan the waves, start one due now."""
        now = self.clock()
        if chosen:
            language.set_for_task(chosen)
        async with self.sessions() as session, session.begin():
            try:
                invite = await resolve_invite(session, token, now, for_update=True)
                enrolment = await enrol(session, invite, chat_id, now)
                enrolment.language = invite_language(invite) or language.current()
                language.set_for_task(enrolment.language)
            except InviteProblem as problem:
                reply = self._invite_problem(problem.reason)
                return Reply(notice=render_text("stale_button.txt", reason="gone"), edit=reply.messages[0])
            except AlreadyEnrolled:
                return Reply(notice=render_text("stale_button.txt", reason="consent_done"))
            course = invite.course
            planned = await schedule_check_ins(session, enrolment, course, now, self.settings)
            step = await self._open_step(session, chat_id, now)
            starting = step is not None and step.check_in.enrolment_id == enrolment.id
            field = profile.missing_field(enrolment)
            welcome = render_text(
                "welcome.txt",
                course_title=course.title,
                profile_first=field is not None,
                plan=self._plan_lines(planned, course, now),
                starts_now=starting,
            )
            # One chat request, as for an answer: the consent request becomes the welcome and what comes next.
            consented = render_text("notice.txt", kind="consented")
            if field is not None:
                # A shared (room) link: role and agency come first. A check-in due now is held as
                # started so the dispatcher sends no invitation while they answer these two.
                if starting and step is not None:
                    await self._start(session, step, now)
                asked = self._profile_question(enrolment, field)
                return Reply(notice=consented, edit=Text(_joined(welcome, asked.text), asked.rows))
            if not starting or step is None:
                return Reply(notice=consented, edit=Text(welcome))
            await self._start(session, step, now)
            intro = step.conversation.view.intro and _render_intro(
                step.conversation.view.intro, step.conversation.context
            )
            return Reply(notice=consented, edit=self._ask(step, lead=_joined(welcome, intro or "")))

    # --- self-enrolment profile -----------------------------------------------------------
    def _profile_question(self, enrolment: Enrolment, field: str, *, again: bool = False) -> Text:
        text, rows = profile.question(self.settings, enrolment, field, again=again)
        return Text(text, tuple(tuple(Button(label, data) for label, data in row) for row in rows))

    async def _profile_gate(self, session: AsyncSession, chat_id: int) -> Reply | None:
        """The pending role/agency question, when a shared-link joiner has not answered it yet."""
        pending = await awaiting_profile(session, chat_id)
        field = profile.missing_field(pending) if pending else None
        if pending is None or field is None:
            return None
        return Reply((self._profile_question(pending, field),))

    async def press_profile(self, chat_id: int, enrolment_id: int, field: str, index: int) -> Reply:
        """A role or agency button: stored on the pressing chat's own enrolment, then what comes next."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            pending = await awaiting_profile(session, chat_id)
            names = profile.options(self.settings, field)
            if (
                pending is None
                or pending.id != enrolment_id
                or profile.missing_field(pending) != field
                or index >= len(names)
            ):
                return Reply(notice=render_text("stale_button.txt", reason="gone"))
            # One chat request, as for a check-in answer: the pressed question becomes what comes next.
            chosen = profile.answered(field, names[index])
            following = await self._take_profile(session, chat_id, pending, field, names[index], now, lead=chosen)
            return Reply(notice=render_text("notice.txt", kind="recorded"), edit=following)

    async def _typed_profile(
        self, session: AsyncSession, chat_id: int, pending: Enrolment, text: str, now: datetime
    ) -> Reply:
        field = profile.missing_field(pending)
        assert field is not None
        value = profile.typed(self.settings, field, text)
        if value is None:
            return Reply((self._profile_question(pending, field, again=True),))
        return Reply((await self._take_profile(session, chat_id, pending, field, value, now),))

    async def _take_profile(
        self,
        session: AsyncSession,
        chat_id: int,
        enrolment: Enrolment,
        field: str,
        value: str,
        now: datetime,
        lead: str = "",
    ) -> Text | Question:
        """Store one answer; then the agency question, the first check-in item, or a thank-you, after `lead`."""
        await set_profile(session, enrolment, **{field: value})
        following = profile.missing_field(enrolment)
        if following is not None:
            asked = self._profile_question(enrolment, following)
            return Text(_joined(lead, asked.text), asked.rows)
        step = await self._open_step(session, chat_id, now)
        if step is None:
            return Text(_joined(lead, render_text("profile.txt", field="", done=True)))
        await self._start(session, step, now)
        intro = step.conversation.view.intro and _render_intro(step.conversation.view.intro, step.conversation.context)
        return self._ask(step, lead=_joined(lead, intro or ""))

    def _plan_lines(self, planned: list[CheckIn], course: Course, now: datetime) -> list[dict[str, Any]]:
        """Each wave still to come: its label and whether it is now, at the course's end, or on a day."""
        lines = []
        for check_in in planned:
            if check_in.state == CheckInState.MISSED:
                continue
            if check_in.due_at <= now:
                when = "now"
            elif check_in.wave == waves.POST and not lifecycle.has_ended(course, now):
                when = "end"
            else:
                when = "on"
            lines.append(
                {"label": wave_label(check_in.wave), "when": when, "on": local_day(check_in.due_at, course.zone)}
            )
        return lines

    async def decline(self, chat_id: int, token: str, chosen: str | None = None) -> Reply:
        """No thanks pressed: store nothing."""
        if chosen:
            language.set_for_task(chosen)
        return Reply(notice=render_text("notice.txt", kind="declined"), edit=Text(render_text("consent_declined.txt")))

    # --- the check-in -------------------------------------------------------------------
    async def _load(self, session: AsyncSession, found: OpenCheckIn) -> _Step:
        quiz = await _quiz(session, found.quiz_set.id, found.quiz_set.slug, found.quiz_set.checksum)
        answers = await stored_answers(session, found.check_in.id)
        own = await (await session.connection()).run_sync(own_commitments, found.check_in.id, quiz, found.check_in.wave)
        context = _context(found.course, found.check_in.wave)
        # The set's texts in the person's language when the set has it (issue 14).
        conversation = Conversation(quiz, found.check_in.wave, context, answers, own, language=language.current())
        return _Step(found, conversation, quiz)

    async def _open_step(self, session: AsyncSession, chat_id: int, now: datetime) -> _Step | None:
        found = await open_check_in(session, chat_id, now)
        return await self._load(session, found) if found else None

    def _ask(self, step: _Step, lead: str = "") -> Text | Question:
        return self._next(step.conversation, step.check_in.id, lead)

    def _next(self, conversation: Conversation, check_in_id: int, lead: str = "") -> Text | Question:
        prompt = conversation.next_prompt()
        if prompt is None:
            return Text(self._summary_text(conversation, None, lead))
        return Question(check_in_id, prompt, lead)

    def _summary_text(self, conversation: Conversation, next_due: tuple[datetime, str] | None, lead: str = "") -> str:
        summary = conversation.summary()
        next_on = local_day(*next_due) if next_due else None
        return render_text(
            "summary.txt",
            lead=lead,
            scored=summary.scored,
            correct=summary.correct,
            given=answers_given(conversation),
            missed=summary.missed,
            next_on=next_on,
        )

    async def _next_due(self, session: AsyncSession, chat_id: int, now: datetime) -> tuple[datetime, str] | None:
        for check_in, course in await pending_check_ins(session, chat_id):
            if check_in.due_at > now:
                return check_in.due_at, course.zone
        return None

    async def resume(self, chat_id: int) -> Reply:
        """/continue or a "Start now" tap without an id: ask the next unanswered item, or say what's next."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if gate := await self._profile_gate(session, chat_id):
                return gate
            step = await self._open_step(session, chat_id, now)
            if step is None:
                return Reply((await self._nothing_open(session, chat_id, now),))
            await self._start(session, step, now)
            return Reply((self._ask(step),))

    async def _nothing_open(self, session: AsyncSession, chat_id: int, now: datetime) -> Text:
        enrolled = bool(await active_enrolments(session, chat_id))
        due = await self._next_due(session, chat_id, now)
        return Text(render_text("nothing_open.txt", enrolled=enrolled, next_on=local_day(*due) if due else None))

    async def start_now(self, chat_id: int, check_in_id: int) -> Reply:
        """ "Start now" / "Carry on" under an invitation: ask this check-in's next item."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if gate := await self._profile_gate(session, chat_id):
                return gate
            conn = await session.connection()
            found = await conn.run_sync(pressed_check_in, check_in_id, chat_id)
            if refused := await self._refusal(session, found, now):
                return refused
            assert found is not None
            conversation = await conn.run_sync(_conversation, found)
            await conn.run_sync(answering.start, found.id, now, remind_at=self._first_reminder(now, found.zone))
            return Reply((self._next(conversation, found.id),), notice=render_text("notice.txt", kind="starting"))

    async def snooze(self, chat_id: int, check_in_id: int) -> Reply:
        """ "Remind me tomorrow": the scheduler owes one more reminder, in the send window."""
        now = self.clock()
        async with self.sessions() as session:
            found = await (await session.connection()).run_sync(pressed_check_in, check_in_id, chat_id)
            if refused := await self._refusal(session, found, now):
                await session.rollback()
                return refused
            assert found is not None
            when = await snooze(session, check_in_id, now, self.settings)
            await session.commit()
            return Reply(notice=render_text("snoozed.txt", when=local_day(when, found.zone) if when else None))

    async def _refusal(self, session: AsyncSession, found: Pressed | None, now: datetime) -> Reply | None:
        """Why a press on this check-in cannot count, as the toast to show; None when it can.

        A closed check-in says when the next one comes, in the course's zone, so a late tap is not a dead end.
        """
        problem = _closed_reason(found, now)
        return None if problem is None else await self._refused(session, found, problem, now)

    async def _refused(self, session: AsyncSession, found: Pressed | None, problem: str, now: datetime) -> Reply:
        next_on = None
        if problem == "closed" and found is not None:
            due = await next_check_in_due(session, found.id, now)
            next_on = local_day(due, found.zone) if due else None
        return Reply(notice=render_text("stale_button.txt", reason=problem, next_on=next_on), alert=next_on is not None)

    def _first_reminder(self, now: datetime, zone: str) -> datetime | None:
        """When to nudge someone who stops part-way (the dispatcher's rule)."""
        times = reminder_times(now, ZoneInfo(zone), self.settings)
        return times[0] if times else None

    async def _start(self, session: AsyncSession, step: _Step, now: datetime) -> None:
        """Mark the check-in started and plan its first reminder."""
        await mark_started(session, step.check_in, now, remind_at=self._first_reminder(now, step.found.course.zone))

    async def press_answer(self, chat_id: int, check_in_id: int, item_index: int, choice_index: int) -> Reply:
        """An answer button: stored only if it is this chat's check-in, still open, and the current item."""
        now = self.clock()
        # The busiest path: the whole press is one sync transaction (_press), one thread hop on
        # SQLite (bench/README.md, conversation); the reply is built here afterwards. No session
        # is open meanwhile: on SQLite, run waits for the one connection a session would hold.
        press = await self.transactions.run(
            lambda conn: _press(conn, chat_id, check_in_id, item_index, choice_index, now)
        )
        # The press read the enrolment's language (bot.language does not look it up for answer presses).
        if isinstance(press, _Taken):
            language.set_for_task(press.language)
        else:
            language.set_for_task(press.found.language if press.found else self.settings.default_language)
        if isinstance(press, _Refused):
            async with self.sessions() as session:
                return await self._refused(session, press.found, press.reason, now)
        due = invitation = closing = None
        if press.conversation.done:
            async with self.sessions() as session, session.begin():
                due = await self._next_due(session, chat_id, now)
                closing = await own_progress.closing(session, check_in_id, press.conversation.quiz, self.settings)
                invitation = await in_depth.offer(session, check_in_id, now)
        reply = self._taken(press.conversation, check_in_id, press.prompt, press.outcome, due, typed=False)
        return in_depth.with_offer(own_progress.after(reply, closing), invitation)

    async def typed(self, chat_id: int, text: str) -> Reply:
        """A typed message: the answer to the current item, or the nudge to start/continue."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            pending = await awaiting_profile(session, chat_id)
            if pending is not None:
                return await self._typed_profile(session, chat_id, pending, text, now)
            step = await self._open_step(session, chat_id, now)
            if step is None:
                return Reply((await self._nothing_open(session, chat_id, now),))
            if step.check_in.state != CheckInState.IN_PROGRESS:
                # Someone coming back with "hi" starts the check-in rather than answering item 1.
                await self._start(session, step, now)
                return Reply((self._ask(step),))
            if len(text) > MAX_TYPED:
                return Reply((Text(render_text("too_long.txt", length=len(text), limit=MAX_TYPED)),))
            conversation = step.conversation
            prompt = conversation.next_prompt()
            assert prompt is not None
            outcome = conversation.accept(text, item_id=prompt.item_id)
            for n, row in enumerate(outcome.records):
                stored = await record_answer(
                    session,
                    step.check_in,
                    item_id=row.item_id,
                    value=commitments.stored_value(prompt.kind, row),
                    score=row.score,
                    now=now,
                    completes=conversation.done and n == len(outcome.records) - 1,
                    quiz_set_id=step.found.course.quiz_set_id,
                )
                if not stored:
                    return Reply(notice=render_text("stale_button.txt", reason="answered"))
            due = invitation = closing = None
            if conversation.done:
                due = await self._next_due(session, chat_id, now)
                closing = await own_progress.closing(session, step.check_in.id, step.quiz, self.settings)
                invitation = await in_depth.offer(session, step.check_in.id, now)
            reply = self._taken(conversation, step.check_in.id, prompt, outcome, due, typed=True)
            return in_depth.with_offer(own_progress.after(reply, closing), invitation)

    def _taken(
        self,
        conversation: Conversation,
        check_in_id: int,
        prompt: Prompt,
        outcome: Outcome,
        due: tuple[datetime, str] | None,
        *,
        typed: bool,
    ) -> Reply:
        """The reply to an answer: a re-prompt, or the next question (or the summary) led by the answer's feedback.

        A press costs one chat request: the pressed question's message becomes the next one, led by the
        answer given and its feedback (Telegram allows ~30 requests a second in all, so two per answer
        halved how many people can answer at once). A typed answer cannot be edited into anything, so
        the next question is a new message; the person's own message shows the answer.
        """
        if outcome.recorded is None:
            # Nothing stored (a re-prompt, or "Add another"): a pressed message becomes the question again.
            question = Question(check_in_id, prompt, outcome.reprompt or "")
            return Reply((question,)) if typed else Reply(edit=question)
        lead = (outcome.feedback or "") if typed else _answered_lead(prompt, outcome)
        if conversation.done:
            following: Text | Question = Text(self._summary_text(conversation, due, lead=lead))
        else:
            following = self._next(conversation, check_in_id, lead=lead)
        if typed:
            return Reply((following,))
        return Reply(notice=render_text("notice.txt", kind="recorded"), edit=following)

    # --- commands -----------------------------------------------------------------------
    async def status(self, chat_id: int) -> Reply:
        """/status: each pending check-in, open now or when it comes."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            enrolled = bool(await active_enrolments(session, chat_id))
            items = [_status_line(c, k, now) for c, k in await pending_check_ins(session, chat_id) if c.closes_at > now]
        return Reply((Text(render_text("status.txt", items=items, enrolled=enrolled)),))

    def privacy(self) -> Reply:
        """/privacy: what is stored, why, for how long, and who to contact."""
        s = self.settings
        return Reply(
            (
                Text(
                    render_text(
                        "privacy.txt",
                        contact=s.evaluation_contact,
                        retention_days=s.retention_days,
                        suppress_below=s.suppress_below,
                    )
                ),
            )
        )

    async def ask_stop(self, chat_id: int) -> Reply:
        """/stop: confirm first, offering to erase answers too."""
        async with self.sessions() as session, session.begin():
            enrolled = bool(await active_enrolments(session, chat_id))
        rows = (
            (
                (Button(label("stop.stop"), callbacks.encode(Kind.CONFIRM, "stop")),),
                (Button(label("stop.erase"), callbacks.encode(Kind.CONFIRM, "erase")),),
                (Button(label("stop.keep"), callbacks.encode(Kind.CONFIRM, "keep")),),
            )
            if enrolled
            else ()
        )
        return Reply((Text(render_text("stop_confirm.txt", enrolled=enrolled), rows),))

    async def ask_delete(self, chat_id: int) -> Reply:
        """/delete: confirm with a button before erasing."""
        async with self.sessions() as session, session.begin():
            enrolled = bool(await active_enrolments(session, chat_id))
        rows = (
            (
                (Button(label("delete.erase"), callbacks.encode(Kind.CONFIRM, "erase")),),
                (Button(label("delete.keep"), callbacks.encode(Kind.CONFIRM, "keep")),),
            )
            if enrolled
            else ()
        )
        return Reply((Text(render_text("delete_confirm.txt", enrolled=enrolled), rows),))

    async def confirm(self, chat_id: int, choice: str) -> Reply:
        """A /stop or /delete confirmation: withdraw, erase, or leave things as they are."""
        if choice == "keep":
            return Reply(notice=render_text("notice.txt", kind="kept"), edit=Text(render_text("kept.txt")))
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if choice == "erase":
                count = await erase(session, chat_id)
                text = render_text("stopped.txt", erased=count > 0, count=count)
            else:
                count = await withdraw(session, chat_id, now)
                text = render_text("stopped.txt", erased=False, count=count)
        return Reply(notice=render_text("notice.txt", kind="done" if count else "nothing"), edit=Text(text))

    async def asking(self, chat_id: int) -> bool:
        """Whether a check-in is under way in this chat (to tailor the reply to a sticker or photo)."""
        async with self.sessions() as session, session.begin():
            found = await open_check_in(session, chat_id, self.clock())
            return found is not None and found.check_in.state == CheckInState.IN_PROGRESS


@dataclass(frozen=True)
class _Refused:
    """A press that cannot count, and why (a stale_button.txt reason)."""

    found: Pressed | None
    reason: str


@dataclass(frozen=True)
class _Taken:
    """A press accepted: stored (with start and completion) unless its outcome is a re-prompt."""

    conversation: Conversation
    prompt: Prompt
    outcome: Outcome
    language: str


def _press(
    conn: Connection, chat_id: int, check_in_id: int, item_index: int, choice_index: int, now: datetime
) -> _Refused | _Taken:
    """One answer press, run as one transaction: whose and still open, the current item, then stored."""
    found = pressed_check_in(conn, check_in_id, chat_id)
    if problem := _closed_reason(found, now):
        return _Refused(found, problem)
    assert found is not None
    with language.speaking(found.language):  # feedback and re-prompts are rendered here, on the thread
        return _answer(conn, found, item_index, choice_index, now)


def _answer(conn: Connection, found: Pressed, item_index: int, choice_index: int, now: datetime) -> _Refused | _Taken:
    conversation = _conversation(conn, found)
    prompt = conversation.next_prompt()
    # A button names its step (Prompt.index): an earlier step is answered, anything else is not on screen.
    if prompt is None or item_index < prompt.index:
        return _Refused(found, "answered")
    if item_index != prompt.index or choice_index >= len(prompt.choices):
        return _Refused(found, "gone")
    outcome = conversation.accept(prompt.choices[choice_index].value, item_id=prompt.item_id)
    if not commitments.record_rows(
        conn,
        found.id,
        found.quiz_set_id,
        started=found.state == CheckInState.IN_PROGRESS,
        kind=prompt.kind,
        outcome=outcome,
        now=now,
        completes=conversation.done,
    ):
        return _Refused(found, "answered")
    return _Taken(conversation, prompt, outcome, found.language)


def _conversation(conn: Connection, found: Pressed) -> Conversation:
    quiz = _load_quiz(conn, found.quiz_set_id, found.quiz_slug, found.quiz_checksum)
    context = RenderContext(found.course_title, found.wave, waves.months(found.wave))
    own = own_commitments(conn, found.id, quiz, found.wave)
    return Conversation(quiz, found.wave, context, found.answers, own, language=language.current())


def _stored_value(prompt: Prompt, outcome: Outcome) -> str:
    """The value to store: free text with contact details scrubbed out (surveys.domain.scrub)."""
    assert outcome.recorded is not None
    value = outcome.recorded.value
    return scrub_free_text(value) if prompt.kind == "text" else value


def _closed_reason(found: Pressed | None, now: datetime) -> str | None:
    """Why a press on this check-in cannot count, or None when it can."""
    if found is None:
        return "gone"
    if found.state not in states.OPEN or found.closes_at <= now:
        return "closed"
    if found.due_at > now:
        return "not_yet"
    return None


def _answered_lead(prompt: Prompt, outcome: Outcome) -> str:
    """The pressed question as answered (its text, the answer given, the feedback): the next message's lead."""
    assert outcome.recorded is not None
    labels = {c.value: c.label for c in prompt.choices}
    # "That's all" stores how many were made: the answer shown is the button pressed (Outcome.given).
    given = outcome.given or outcome.recorded.value
    shown = labels.get(given, _stored_value(prompt, outcome) or label("answer.skipped"))
    return render_text(
        "answered.txt",
        position=prompt.position,
        total=prompt.total,
        text=prompt.text,
        answer=shown,
        feedback=outcome.feedback,
    )


def _joined(*parts: str) -> str:
    """Paragraphs of one message, the empty ones left out."""
    return "\n\n".join(p for p in parts if p)


def _render_intro(intro: str, context: RenderContext) -> str:
    return render(intro, context)


def _status_line(check_in: CheckIn, course: Course, now: datetime) -> dict[str, Any]:
    return {
        "course_title": course.title,
        "wave_label": wave_label(check_in.wave),
        "open": check_in.due_at <= now,
        "started": check_in.state == CheckInState.IN_PROGRESS,
        "closes_on": local_day(check_in.closes_at, course.zone),
        "due_on": local_day(check_in.due_at, course.zone),
    }
