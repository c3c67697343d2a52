"""Everything else: groups, edits, unknown commands, stickers and files, forged buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery import deliver
from bot.handlers.common import journey
from bot.replies import Reply, Text
from bot.texts import render_text


async def group_refusal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a group: say once per message that the bot works in private chats only; store nothing."""
    text = render_text("group_refusal.txt", username=context.bot.username)
    await update.effective_message.reply_text(text)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the first answer stands."""
    contact = journey(context).settings.evaluation_contact
    await deliver(update, context, Reply((Text(render_text("edited.txt", contact=contact)),)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    await deliver(update, context, Reply((Text(render_text("unknown_command.txt")),)))


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, documents…: a polite line, nothing stored."""
    in_check_in = await journey(context).asking(update.effective_chat.id)
    await deliver(update, context, Reply((Text(render_text("unsupported.txt", asking=in_check_in)),)))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data we never issued (malformed or forged): a short notice, nothing changes."""
    await deliver(update, context, Reply(notice=render_text("stale_button.txt", reason="gone")))
