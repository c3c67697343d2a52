"""Telegram handlers for the admin tools; each takes the already-checked Actor from the registry's guard."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes, ConversationHandler

from bot.admin import courses, files, newcourse, quiz_sets
from bot.admin.roles import OFFICER, Actor, role_of
from bot.admin.service import Admin
from bot.admin.wizard import NewCourse
from bot.admin.wording import admin_reply, sentence
from bot.delivery import deliver, send
from bot.handlers import fallback
from bot.handlers.common import pressed
from bot.replies import Reply, Text
from surveys.domain.dates import parse_day
from surveys.reporting.period import Period, PeriodError

DRAFT = "newcourse"  # the user_data key of the officer's /newcourse draft
WizardState = str | int  # a step of bot.admin.wizard.STATES, or ConversationHandler.END


def admin(context: ContextTypes.DEFAULT_TYPE) -> Admin:
    """The Admin service of this Application, made on first use from the Journey's store, settings and clock."""
    data = context.application.bot_data
    if "admin" not in data:
        journey = data["journey"]
        data["admin"] = Admin(journey.sessions, journey.settings, journey.clock)
    return data["admin"]


def actor_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Actor:
    """The sender and their role from settings, checked again on every update."""
    user_id = update.effective_user.id
    return Actor(user_id, role_of(admin(context).settings, user_id))


async def _with_code(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> str | None:
    """The CODE argument, or None after sending the usage line."""
    if context.args:
        return context.args[0]
    await deliver(update, context, admin_reply("usage", command=command))
    return None


async def list_courses(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/courses: every course with enrolled and answered per wave."""
    await deliver(update, context, await courses.list_all(admin(context), actor))


async def show_course(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/course CODE: response rates per wave."""
    if code := await _with_code(update, context, "course"):
        await deliver(update, context, await courses.show(admin(context), actor, code))


async def list_quiz_sets(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/quizsets: the stored quiz-set versions."""
    await deliver(update, context, await quiz_sets.list_versions(admin(context), actor))


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/invite CODE: the course's QR code as a photo, with the link."""
    if code := await _with_code(update, context, "invite"):
        await deliver(update, context, await courses.invite(admin(context), actor, code, context.bot.username))


async def ask_end(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/end CODE: asks for confirmation with a button."""
    if code := await _with_code(update, context, "end"):
        await deliver(update, context, await courses.ask_end(admin(context), actor, code))


async def end_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """ "End CODE now" or "Not yet" under /end."""
    data = pressed(update)
    assert data is not None  # the registry only routes parsed x: presses here
    choice, code = data.args
    reply = await courses.end(admin(context), actor, code) if choice == "end" else courses.keep(code)
    await deliver(update, context, reply)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/report CODE, or /report FROM TO [CODE…] (the annual report): report.html and report.pdf."""
    args = context.args or []
    if args and parse_day(args[0]) is not None:
        try:
            if len(args) < 2:
                raise PeriodError("the end date is missing")
            period = Period.parse(args[0], args[1], ("the start date", "the end date"))
        except PeriodError as exc:
            return await deliver(update, context, admin_reply("bad_period", problem=sentence(str(exc))))
        await deliver(update, context, admin_reply("working"))
        return await deliver(update, context, await files.annual_report(admin(context), actor, period, args[2:]))
    if code := await _with_code(update, context, "report"):
        await deliver(update, context, admin_reply("working"))
        await deliver(update, context, await files.report(admin(context), actor, code))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/export CODE: the long CSV of answers and its codebook."""
    if code := await _with_code(update, context, "export"):
        await deliver(update, context, await files.export_answers(admin(context), actor, code))


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document: an officer's quiz-set upload; from anyone else, the usual polite refusal."""
    actor = actor_of(update, context)
    if actor.role != OFFICER:
        return await fallback.unsupported(update, context)
    document = update.effective_message.document
    filename = document.file_name or "upload"
    if refused := quiz_sets.refuse_upload(filename, document.file_size or 0):
        return await deliver(update, context, refused)
    data = bytes(await (await document.get_file()).download_as_bytearray())
    await deliver(update, context, await quiz_sets.upload(admin(context), actor, filename, data))


# --- /newcourse, a ConversationHandler whose states are the draft's steps (bot.admin.registry) ---------------
def _next_state(context: ContextTypes.DEFAULT_TYPE, draft: NewCourse) -> WizardState:
    """The question the draft waits on, or END (and the draft dropped) once it is finished."""
    if draft.finished:
        context.user_data.pop(DRAFT, None)
        return ConversationHandler.END
    return draft.step


async def new_course(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> WizardState:
    """/newcourse: start the guided flow (a fresh draft replaces any earlier one)."""
    draft = context.user_data[DRAFT] = NewCourse()
    await deliver(update, context, await newcourse.start(admin(context), draft))
    return _next_state(context, draft)


async def wizard_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> WizardState:
    """A /newcourse button (quiz set, level, date, past date, waves, attendance, zone) during the wizard."""
    data = pressed(update)
    if data is None:  # forged data that only looks like a wizard button
        return await wizard_stale_press(update, context, actor)
    draft = context.user_data[DRAFT]
    await deliver(update, context, await newcourse.press(admin(context), actor, draft, *data.args))
    return _next_state(context, draft)


async def wizard_text(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> WizardState:
    """Typed text during the wizard: the answer to the question on screen."""
    draft = context.user_data[DRAFT]
    reply = await newcourse.answer(admin(context), actor, draft, update.effective_message.text or "")
    await deliver(update, context, reply)
    return _next_state(context, draft)


async def wizard_stale_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """A wizard button for another question than the one on screen: a toast; the wizard stays where it is."""
    await deliver(update, context, newcourse.stale())


async def wizard_gone_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """A wizard button with no /newcourse under way: say it has expired and how to start again."""
    await deliver(update, context, newcourse.gone())


async def cancel_wizard(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> WizardState:
    """/cancel, the Cancel button, or "cancel" typed: drop the draft, nothing created."""
    context.user_data.pop(DRAFT, None)
    stopped = Text(newcourse.step_text("stopped"))
    await deliver(update, context, Reply(edit=stopped) if update.callback_query is not None else Reply((stopped,)))
    return ConversationHandler.END


async def wizard_timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The officer went quiet: drop the draft and say so in a new message (the last press is long answered)."""
    context.user_data.pop(DRAFT, None)
    await send(context.bot, update.effective_chat.id, (Text(newcourse.step_text("timed_out")),))
