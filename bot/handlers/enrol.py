"""Joining by deep link: /start <token>, then Agree or No thanks."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import deliver, journey, pressed


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start <token> asks for consent; /start alone explains how to join."""
    token = context.args[0] if context.args else None
    reply = await journey(context).start(update.effective_chat.id, token)
    await deliver(update, context, reply)


async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Agree enrols and may start the first check-in; No thanks stores nothing."""
    data = pressed(update)
    if data is None:
        await update.callback_query.answer()
        return
    chat_id = update.effective_chat.id
    token = data.args[0]
    if data.kind == "y":
        reply = await journey(context).consent(chat_id, token)
    else:
        reply = await journey(context).decline(chat_id, token)
    await deliver(update, context, reply)
