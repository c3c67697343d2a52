"""The one list of admin commands and buttons: name → roles allowed → handler, each wrapped in the guard.

Registering goes through here only, so nothing reaches an admin handler without the role check,
and tests enumerate COMMANDS and BUTTONS to prove every one refuses and audits outsiders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.admin import handlers
from bot.admin.roles import OFFICERS, OFFICERS_AND_EVALUATORS, Actor
from bot.handlers.common import pressed

Guarded = Callable[[Update, ContextTypes.DEFAULT_TYPE, Actor], Awaitable[None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


@dataclass(frozen=True)
class AdminCommand:
    """A /command or an x:<name> button: who may use it, what the audit log calls it, its handler."""

    name: str
    roles: frozenset[str]
    action: str
    handler: Guarded


COMMANDS: tuple[AdminCommand, ...] = (
    AdminCommand("courses", OFFICERS_AND_EVALUATORS, "course.list", handlers.courses),
    AdminCommand("course", OFFICERS_AND_EVALUATORS, "course.show", handlers.course),
    AdminCommand("newcourse", OFFICERS, "course.create", handlers.new_course),
    AdminCommand("invite", OFFICERS, "course.invite", handlers.invite),
    AdminCommand("end", OFFICERS, "course.end", handlers.end),
    AdminCommand("quizsets", OFFICERS, "quizset.list", handlers.quiz_sets),
    AdminCommand("report", OFFICERS_AND_EVALUATORS, "report", handlers.report),
    AdminCommand("export", OFFICERS_AND_EVALUATORS, "export", handlers.export),
)

# Button presses are requests too: forged callback data must meet the same guard.
BUTTONS: tuple[AdminCommand, ...] = (
    AdminCommand("quiz", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("level", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("date", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("past", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("waves", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("attendance", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("zone", OFFICERS, "course.create", handlers.wizard_press),
    AdminCommand("end", OFFICERS, "course.end", handlers.end_press),
    AdminCommand("keep", OFFICERS, "course.end", handlers.end_press),
)
_BY_BUTTON = {b.name: b for b in BUTTONS}


def guard(command: AdminCommand) -> Handler:
    """Run `command` for people with one of its roles; refuse and audit everyone else."""

    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = handlers.actor_of(update, context)
        if actor.role not in command.roles:
            refusal = await handlers.admin(context).refuse(actor, command.action, command.roles)
            await handlers.send(update, context, refusal)
            return
        await command.handler(update, context, actor)

    guarded.__doc__ = f"/{command.name}, guarded: {', '.join(sorted(command.roles))} only."
    return guarded


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An x:<name>:<value> press, routed to its registry entry through the guard."""
    data = pressed(update)
    entry = _BY_BUTTON.get(data.args[0]) if data is not None and data.kind == "x" else None
    if entry is None:
        await update.callback_query.answer()
        return
    await guard(entry)(update, context)


def register(application: Application, private: filters.BaseFilter) -> None:
    """Add the guarded commands and buttons, the wizard's typed text, and quiz-set uploads."""
    # Group -1 sees text first; wizard_text stops the update only when an officer's draft took it.
    wizard = private & ((filters.TEXT & ~filters.COMMAND) | filters.Regex(r"^/cancel(@\w+)?$"))
    application.add_handler(MessageHandler(wizard, handlers.wizard_text), group=-1)
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, guard(command), filters=private))
    application.add_handler(CallbackQueryHandler(button, pattern=r"^x:"))
    application.add_handler(MessageHandler(private & filters.Document.ALL, handlers.upload))
