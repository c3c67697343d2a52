"""The one list of admin commands and buttons: name → roles allowed → handler, each wrapped in the guard.

Registering goes through here only, so nothing reaches an admin handler without the role check,
and tests enumerate COMMANDS and BUTTONS to prove every one refuses and audits outsiders.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.admin import handlers, pulse, relay
from bot.admin.roles import OFFICERS, OFFICERS_AND_EVALUATORS, Actor
from bot.admin.wizard import CANCEL_WORDS, STATES
from bot.delivery import deliver
from bot.handlers.common import pressed

Guarded = Callable[[Update, ContextTypes.DEFAULT_TYPE, Actor], Awaitable[Any]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]

# A /newcourse draft nobody has answered for this long is dropped, with a line saying so.
WIZARD_TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class AdminCommand:
    """A /command or an x:<name> button: who may use it, what the audit log calls it, its handler."""

    name: str
    roles: frozenset[str]
    action: str
    handler: Guarded


NEW_COURSE = AdminCommand("newcourse", OFFICERS, "course.create", handlers.new_course)
COMMANDS: tuple[AdminCommand, ...] = (
    AdminCommand("courses", OFFICERS_AND_EVALUATORS, "course.list", handlers.list_courses),
    AdminCommand("course", OFFICERS_AND_EVALUATORS, "course.show", handlers.show_course),
    NEW_COURSE,
    AdminCommand("invite", OFFICERS, "course.invite", handlers.invite),
    AdminCommand("end", OFFICERS, "course.end", handlers.ask_end),
    AdminCommand("quizsets", OFFICERS, "quizset.list", handlers.list_quiz_sets),
    AdminCommand("report", OFFICERS_AND_EVALUATORS, "report", handlers.report),
    AdminCommand("export", OFFICERS_AND_EVALUATORS, "export", handlers.export),
    AdminCommand("pulse", OFFICERS, "pulse", pulse.show),
    AdminCommand("relay", OFFICERS, "relay", relay.relay),
)

# The wizard's buttons reach its conversation while one is under way; these entries take them otherwise.
WIZARD_BUTTONS = ("quiz", "level", "date", "past", "waves", "attendance", "zone", "cancel")
# Button presses are requests too: forged callback data must meet the same guard.
BUTTONS: tuple[AdminCommand, ...] = (
    *(AdminCommand(name, OFFICERS, "course.create", handlers.wizard_gone_press) for name in WIZARD_BUTTONS),
    AdminCommand("end", OFFICERS, "course.end", handlers.end_press),
    AdminCommand("keep", OFFICERS, "course.end", handlers.end_press),
)
_BY_BUTTON = {b.name: b for b in BUTTONS}


def guard(command: AdminCommand) -> Handler:
    """Run `command` for people with one of its roles; refuse and audit everyone else."""

    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        actor = handlers.actor_of(update, context)
        if actor.role not in command.roles:
            refusal = await handlers.admin(context).refuse(actor, command.action, command.roles)
            await deliver(update, context, refusal)
            return None  # in the wizard: stay where it was
        return await command.handler(update, context, actor)

    guarded.__doc__ = f"/{command.name}, guarded: {', '.join(sorted(command.roles))} only."
    return guarded


def _in_wizard(handler: Guarded) -> Handler:
    """A wizard step's handler behind the same guard as /newcourse."""
    return guard(AdminCommand(NEW_COURSE.name, NEW_COURSE.roles, NEW_COURSE.action, handler))


def new_course_conversation(private: filters.BaseFilter, timeout: timedelta = WIZARD_TIMEOUT) -> ConversationHandler:
    """/newcourse as PTB's ConversationHandler: one state per question, Cancel and /cancel always, a timeout.

    Keyed per chat and per user (the defaults), so the draft is one officer's in one chat; per_message is
    off because typed answers are part of the conversation and only button presses carry a message.
    PTB wants a conversation's updates one at a time; bot.app handles 8 at once, so one officer's double tap
    can be taken twice (the question asked twice, the draft unharmed) until bot.app serialises per chat.
    """
    typed = MessageHandler(
        private & filters.TEXT & ~filters.COMMAND & ~filters.Regex(CANCEL_WORDS), _in_wizard(handlers.wizard_text)
    )
    press = _in_wizard(handlers.wizard_press)
    states: dict[object, list[Any]] = {
        step: [CallbackQueryHandler(press, pattern=f"^x:{step}:"), typed] for step in STATES
    }
    states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, handlers.wizard_timed_out)]
    cancel = _in_wizard(handlers.cancel_wizard)
    fallbacks = [
        CommandHandler("cancel", cancel, filters=private),
        MessageHandler(private & filters.Regex(CANCEL_WORDS), cancel),
        CallbackQueryHandler(cancel, pattern=r"^x:cancel:"),
        CallbackQueryHandler(_in_wizard(handlers.wizard_stale_press), pattern=f"^x:(?:{'|'.join(WIZARD_BUTTONS)}):"),
    ]
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a CallbackQueryHandler is tracked per chat, not per message:
        # that is what is meant here (see the docstring).
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler(NEW_COURSE.name, guard(NEW_COURSE), filters=private)],
            states=states,
            fallbacks=fallbacks,
            allow_reentry=True,  # a fresh /newcourse replaces the draft
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=timeout,
            name="newcourse",
        )


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An x:<name>:<value> press outside the wizard, routed to its registry entry through the guard."""
    data = pressed(update)
    entry = _BY_BUTTON.get(data.args[0]) if data is not None and data.kind == "x" else None
    if entry is None:
        await update.callback_query.answer()
        return
    await guard(entry)(update, context)


def register(application: Application, private: filters.BaseFilter) -> None:
    """Add the /newcourse conversation, the other guarded commands and buttons, and quiz-set uploads."""
    # First, so an officer's typed answers reach the wizard before the practitioner's text handler.
    application.add_handler(new_course_conversation(private))
    for command in COMMANDS:
        if command is not NEW_COURSE:
            application.add_handler(CommandHandler(command.name, guard(command), filters=private))
    application.add_handler(CallbackQueryHandler(button, pattern=r"^x:"))
    application.add_handler(MessageHandler(private & filters.Document.ALL, handlers.upload))
