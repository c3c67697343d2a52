"""The practitioner's commands: /help, /privacy, /status, /continue, /stop, /delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import BotCommand, Update
from telegram.ext import ContextTypes

from bot.delivery import deliver
from bot.handlers import cpd, language
from bot.handlers.common import journey, pressed
from bot.handlers.in_depth import reply
from bot.replies import Reply, Text
from bot.texts import label, render_text

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot does and its commands."""
    await deliver(update, context, Reply((Text(render_text("help.txt")),)))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is stored, for how long, and who to contact."""
    await deliver(update, context, journey(context).privacy())


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: pending check-ins and when the next one comes."""
    await deliver(update, context, await journey(context).status(update.effective_chat.id))


async def continue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/continue: the next unanswered item of the open check-in."""
    await deliver(update, context, await journey(context).resume(update.effective_chat.id))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: ask for confirmation before withdrawing."""
    await deliver(update, context, await journey(context).ask_stop(update.effective_chat.id))


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete: ask for confirmation before erasing."""
    await deliver(update, context, await journey(context).ask_delete(update.effective_chat.id))


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation buttons of /stop and /delete; they act on the pressing chat only."""
    data = pressed(update)
    if data is None:
        await update.callback_query.answer()
        return
    await deliver(update, context, await journey(context).confirm(update.effective_chat.id, data.args[0]))


COMMANDS: dict[str, Handler] = {
    "help": help_command,
    "privacy": privacy,
    "status": status,
    "continue": continue_command,
    "stop": stop,
    "delete": delete,
    # Cymraeg / English, by either name (bot/handlers/language.py).
    "language": language.command,
    "iaith": language.command,
    "reply": reply,  # answering a training officer's /relay (bot.handlers.in_depth)
    "cpd": cpd.command,
}

# What setMyCommands shows in the menu, in this order; the descriptions are in labels.yaml.
MENU_COMMANDS = ("continue", "status", "cpd", "privacy", "stop", "delete", "language", "help")


def menu() -> tuple[BotCommand, ...]:
    """The command menu in the current language (bot.app sets one per language)."""
    return tuple(BotCommand(name, label(f"menu.{name}")) for name in MENU_COMMANDS)
