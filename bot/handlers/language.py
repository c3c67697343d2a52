"""/language and /iaith (Cymraeg / English), and the language buttons: before consenting, or to switch."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import language as chat_language
from bot.delivery import deliver
from bot.handlers.common import journey, pressed
from bot.replies import Reply
from bot.texts import render_text
from surveys import language


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language or /iaith: the choice as buttons; with a code (`/iaith en`) switch at once."""
    asked = context.args[0] if context.args else None
    try:
        code = language.parse(asked) if asked else None
    except language.LanguageError:
        code = None  # an unknown code: ask, as for the command alone
    chat_id = update.effective_chat.id
    shown = await chat_language.switch(journey(context), chat_id, code) if code else chat_language.question()
    await deliver(update, context, Reply((shown,)))


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Cymraeg / English button: above a consent request (with its token) it redraws it; else it switches."""
    data = pressed(update)
    if data is None:
        await deliver(update, context, Reply(notice=render_text("stale_button.txt", reason="gone")))
        return
    code, *token = data.args
    chat_id = update.effective_chat.id
    if token:
        offered = await journey(context).start(chat_id, token[0], chosen=code)
        reply = Reply(edit=offered.messages[0]) if len(offered.messages) == 1 else offered
    else:
        reply = Reply(edit=await chat_language.switch(journey(context), chat_id, code))
    await deliver(update, context, reply)
