"""The check-in itself: answer buttons, typed answers, Start now and Remind me tomorrow."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery import deliver
from bot.handlers.common import journey, pressed
from bot.replies import Reply
from bot.texts import render_text


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, Reply(notice=render_text("stale_button.txt", reason="gone")))


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An answer button: recorded if it is the pressing chat's current item, else a short notice."""
    data = pressed(update)
    if data is None:
        return await _refuse(update, context)
    check_in_id, item, choice = (int(a) for a in data.args)
    reply = await journey(context).press_answer(update.effective_chat.id, check_in_id, item, choice)
    await deliver(update, context, reply)


async def start_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Start now" / "Carry on" under an invitation or reminder."""
    data = pressed(update)
    if data is None:
        return await _refuse(update, context)
    await deliver(update, context, await journey(context).start_now(update.effective_chat.id, data.check_in_id))


async def snooze(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Remind me tomorrow"."""
    data = pressed(update)
    if data is None:
        return await _refuse(update, context)
    await deliver(update, context, await journey(context).snooze(update.effective_chat.id, data.check_in_id))


async def typed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text: an answer to the current item, or it (re)starts the open check-in."""
    reply = await journey(context).typed(update.effective_chat.id, update.effective_message.text or "")
    await deliver(update, context, reply)
