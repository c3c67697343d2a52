"""The one error handler: log with the traceback, tell a private chat something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.texts import render_text

log = logging.getLogger("bot.errors")


async def log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception with exc_info, then a short apology where a person is waiting."""
    kind = type(update).__name__ if update is not None else "no update"
    log.error("error while handling %s", kind, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_chat.type != "private":
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(render_text("notice.txt", kind="error"))
        else:
            await context.bot.send_message(update.effective_chat.id, render_text("error.txt"))
    except TelegramError:
        # The apology is best effort; the original error is already logged.
        log.warning("could not tell chat about the error", exc_info=True)
