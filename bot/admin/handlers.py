"""Telegram handlers for the admin tools; each takes the already-checked Actor from the registry's guard."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import keyboards
from bot.admin.roles import OFFICER, Actor, role_of
from bot.admin.service import Admin, AdminReply, Document, Photo, say
from bot.admin.wizard import NewCourse, wants_cancel
from bot.handlers import fallback
from bot.handlers.common import NOT_MODIFIED, pressed
from bot.journey import Text
from surveys.texts import render_text

DRAFT = "newcourse"  # the user_data key of the officer's /newcourse draft


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


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: AdminReply) -> None:
    """Answer a press (toast, edit), then send texts, photos and documents in order."""
    query = update.callback_query
    if query is not None:
        await query.answer(reply.notice)
        if reply.edit is not None and query.message is not None:
            try:
                await query.edit_message_text(reply.edit.text)
            except BadRequest as exc:
                if NOT_MODIFIED not in str(exc).lower():
                    raise
    chat_id = update.effective_chat.id
    for out in reply.messages:
        if isinstance(out, Photo):
            await context.bot.send_photo(chat_id, out.data, caption=out.caption)
        elif isinstance(out, Document):
            await context.bot.send_document(chat_id, out.data, filename=out.filename, caption=out.caption or None)
        else:
            text, markup = keyboards.render(out)
            await context.bot.send_message(chat_id, text, reply_markup=markup)


def _code(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return context.args[0] if context.args else None


async def _with_code(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> str | None:
    """The CODE argument, or None after sending the usage line."""
    code = _code(context)
    if code is None:
        await send(update, context, say("usage", command=command))
    return code


async def courses(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/courses: every course with enrolled and answered per wave."""
    await send(update, context, await admin(context).courses(actor))


async def course(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/course CODE: response rates per wave."""
    if code := await _with_code(update, context, "course"):
        await send(update, context, await admin(context).course(actor, code))


async def quiz_sets(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/quizsets: the stored quiz-set versions."""
    await send(update, context, await admin(context).quiz_sets(actor))


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/invite CODE: the course's QR code as a photo, with the link."""
    if code := await _with_code(update, context, "invite"):
        await send(update, context, await admin(context).invite(actor, code, context.bot.username))


async def end(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/end CODE: asks for confirmation with a button."""
    if code := await _with_code(update, context, "end"):
        await send(update, context, await admin(context).ask_end(actor, code))


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/report CODE: report.html and report.pdf, after a "working on it" line."""
    if code := await _with_code(update, context, "report"):
        await send(update, context, say("working"))
        await send(update, context, await admin(context).report(actor, code))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/export CODE: the long CSV of answers and its codebook."""
    if code := await _with_code(update, context, "export"):
        await send(update, context, await admin(context).export(actor, code))


async def new_course(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/newcourse: start the guided flow (a fresh draft replaces any earlier one)."""
    draft = context.user_data[DRAFT] = NewCourse()
    reply = await admin(context).new_course(actor, draft)
    if reply.done:
        context.user_data.pop(DRAFT, None)
    await send(update, context, reply)


async def wizard_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """A /newcourse button (quiz set, level, date, past date, waves, attendance, zone)."""
    data = pressed(update)
    assert data is not None  # the registry only routes parsed x: presses here
    reply = await admin(context).wizard_press(actor, context.user_data.get(DRAFT), data.args[0], data.args[1])
    if reply.done:
        context.user_data.pop(DRAFT, None)
    await send(update, context, reply)


async def end_press(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """"End CODE now" or "Not yet" under /end."""
    data = pressed(update)
    assert data is not None
    service = admin(context)
    reply = await (service.end(actor, data.args[1]) if data.args[0] == "end" else service.keep(actor, data.args[1]))
    await send(update, context, reply)


async def wizard_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text while an officer has a /newcourse draft; otherwise left to the practitioner handlers."""
    draft = context.user_data.get(DRAFT) if context.user_data is not None else None
    if draft is None:
        return
    actor = actor_of(update, context)
    text = update.effective_message.text or ""
    if actor.role != OFFICER or wants_cancel(text):
        context.user_data.pop(DRAFT, None)
        await send(update, context, AdminReply((Text(render_text("newcourse.txt", step="stopped", problem="")),)))
    else:
        reply = await admin(context).wizard_text(actor, draft, text)
        if reply.done:
            context.user_data.pop(DRAFT, None)
        await send(update, context, reply)
    raise ApplicationHandlerStop  # the text was for the wizard, not a check-in answer


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document: an officer's quiz-set upload; from anyone else, the usual polite refusal."""
    actor = actor_of(update, context)
    if actor.role != OFFICER:
        return await fallback.unsupported(update, context)
    document = update.effective_message.document
    filename = document.file_name or "upload"
    if refused := admin(context).refuse_upload(filename, document.file_size or 0):
        return await send(update, context, refused)
    data = bytes(await (await document.get_file()).download_as_bytearray())
    await send(update, context, await admin(context).upload(actor, filename, data))
