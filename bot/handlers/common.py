"""What handlers share: the journey from bot_data and reading a button press."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.journey import Journey


def journey(context: ContextTypes.DEFAULT_TYPE) -> Journey:
    """The Journey built by bot.app for this Application."""
    return context.application.bot_data["journey"]


def pressed(update: Update) -> callbacks.Callback | None:
    """The parsed callback data of a button press, or None when it is malformed or forged."""
    query = update.callback_query
    return callbacks.parse(query.data) if query else None
