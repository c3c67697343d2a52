"""/cpd and the CPD button: ask for a name (or Skip), then send the record as a PDF made on the spot.

The name is never stored: chat_data holds only when it was asked for (so the next typed line is
taken as the name, for a few minutes), and the name itself lives in this handler's variables and
the file's bytes until the file is sent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks, cpd
from bot.callbacks import Kind
from bot.delivery import deliver
from bot.handlers.common import journey, pressed
from bot.replies import Button, Document, Reply, Text
from bot.texts import render_text

log = logging.getLogger("bot.cpd")

ASKED = "cpd_name_asked_at"
"""chat_data key: when the name was asked for (never the name)."""
NAME_WAIT = timedelta(minutes=10)
"""How long after the question a typed line counts as the name; later it is an answer again."""


def _ask_text() -> Text:
    skip = Button(render_text("cpd.txt", kind="skip"), callbacks.encode(Kind.CPD, "skip"))
    return Text(render_text("cpd.txt", kind="ask"), ((skip,),))


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE, *, notice: str | None = None) -> None:
    j = journey(context)
    async with j.sessions() as session, session.begin():
        records = await cpd.course_records(session, update.effective_chat.id)
    if not records:
        context.chat_data.pop(ASKED, None)
        await deliver(update, context, Reply((Text(render_text("cpd.txt", kind="none")),), notice=notice))
        return
    context.chat_data[ASKED] = j.clock()
    await deliver(update, context, Reply((_ask_text(),), notice=notice))


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str | None, reply: Reply) -> None:
    j = journey(context)
    async with j.sessions() as session, session.begin():
        records = await cpd.course_records(session, update.effective_chat.id)
    if not records:
        await deliver(update, context, Reply((Text(render_text("cpd.txt", kind="none")),)))
        return
    made_on = j.clock().astimezone(j.settings.zone).date()
    # CPU-bound for a fraction of a second: off the event loop, so other chats are answered meanwhile.
    data = await asyncio.to_thread(cpd.record_pdf, records, made_on, name)
    document = Document(data, f"cpd-record-{made_on.isoformat()}.pdf", render_text("cpd.txt", kind="caption"))
    await deliver(update, context, Reply((*reply.messages, document), notice=reply.notice, edit=reply.edit))


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cpd: ask for a name for the record (or Skip)."""
    await _ask(update, context)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The CPD button at the end of a check-in (ask), or Skip under the name question."""
    data = pressed(update)
    if data is None:
        await deliver(update, context, Reply(notice=render_text("stale_button.txt", reason="gone")))
        return
    if data.args[0] == "ask":
        await _ask(update, context, notice=render_text("notice.txt", kind="starting"))
        return
    context.chat_data.pop(ASKED, None)
    skipped = Reply(notice=render_text("cpd.txt", kind="notice"), edit=Text(render_text("cpd.txt", kind="skipped")))
    await _send(update, context, None, skipped)


async def typed_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A line typed after the name question is the name (run before every other text handler)."""
    asked = context.chat_data.get(ASKED)
    if asked is None:
        return
    if journey(context).clock() - asked > NAME_WAIT:
        context.chat_data.pop(ASKED, None)
        return  # an old question: the line is an answer again, for the handlers after this one
    text = update.effective_message.text or ""
    if cpd.name_problem(text):
        await deliver(update, context, Reply((Text(render_text("cpd.txt", kind="again", limit=cpd.MAX_NAME)),)))
        raise ApplicationHandlerStop
    context.chat_data.pop(ASKED, None)
    try:
        await _send(update, context, text.strip(), Reply())
    except Exception as exc:
        # Never let the line fall through to the check-in as an answer, and never log it (the
        # exception's own text may quote it): the kind of failure only.
        log.error("could not make a CPD record: %s", type(exc).__name__)
        await deliver(update, context, Reply((Text(render_text("error.txt")),)))
    raise ApplicationHandlerStop
