"""What handlers share: the journey from bot_data, reading a button press, and delivering a Reply."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import callbacks, keyboards
from bot.journey import Journey, Reply

log = logging.getLogger(__name__)
NOT_MODIFIED = "message is not modified"


def journey(context: ContextTypes.DEFAULT_TYPE) -> Journey:
    """The Journey built by bot.app for this Application."""
    return context.application.bot_data["journey"]


def pressed(update: Update) -> callbacks.Callback | None:
    """The parsed callback data of a button press, or None when it is malformed or forged."""
    query = update.callback_query
    return callbacks.parse(query.data) if query else None


async def deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Answer the press (always, so the spinner stops), edit the pressed message, send the rest in order."""
    query = update.callback_query
    chat = update.effective_chat
    if query is not None:
        await query.answer(reply.notice, show_alert=reply.alert)
        if reply.edit is not None and query.message is not None:
            text, markup = keyboards.render(reply.edit)
            try:
                await query.edit_message_text(text, reply_markup=markup)
            except BadRequest as exc:
                # A double tap can ask for the same edit twice; that is not an error.
                if NOT_MODIFIED not in str(exc).lower():
                    raise
    if chat is None:
        return
    for message in reply.messages:
        text, markup = keyboards.render(message)
        await context.bot.send_message(chat.id, text, reply_markup=markup)
