"""Joining by deep link: /start <token>, then Agree or No thanks."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.callbacks import Kind
from bot.delivery import deliver
from bot.handlers.common import journey, pressed


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
    token, *chosen = data.args  # the request's language, when the button carries it
    if data.kind == Kind.CONSENT:
        reply = await journey(context).consent(chat_id, token, *chosen)
    else:
        reply = await journey(context).decline(chat_id, token, *chosen)
    await deliver(update, context, reply)


async def profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A role or agency button after joining by the shared course link."""
    data = pressed(update)
    if data is None:
        await update.callback_query.answer()
        return
    enrolment_id, field, index = int(data.args[0]), data.args[1], int(data.args[2])
    reply = await journey(context).press_profile(update.effective_chat.id, enrolment_id, field, index)
    await deliver(update, context, reply)
