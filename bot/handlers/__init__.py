"""Telegram handlers, one module per flow; `register` wires them into an Application in order."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot import language as chat_language
from bot.admin import registry as admin_registry
from bot.callbacks import Kind, handler_pattern
from bot.handlers import checkin, commands, cpd, enrol, errors, fallback, in_depth
from bot.handlers import language as language_handlers

PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE


def register(application: Application) -> None:
    """Add every handler; order matters: groups and edits first, catch-alls last."""
    # Before everything: the rest of each update speaks the chat's language (issue 14).
    application.add_handler(TypeHandler(Update, chat_language.speak_chat_language), group=chat_language.GROUP)
    in_groups = ~PRIVATE & (NEW | filters.UpdateType.EDITED_MESSAGE)
    application.add_handler(MessageHandler(in_groups, fallback.group_refusal))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, fallback.edited))
    # The name for a CPD record, when one was just asked for: before every other text handler. Its own group
    # (below in_depth's): PTB runs only the first matching handler of a group, and both match any text.
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.TEXT & ~filters.COMMAND, cpd.typed_name), -2)
    # Before that, in a group of its own that stops nothing: another button or command drops the name question.
    application.add_handler(TypeHandler(Update, cpd.forget_question), -3)
    application.add_handler(CommandHandler("start", enrol.start, filters=PRIVATE & NEW))
    for name, callback in commands.COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE & NEW))
    application.add_handler(CallbackQueryHandler(language_handlers.choose, pattern=handler_pattern(Kind.LANGUAGE)))
    application.add_handler(CallbackQueryHandler(enrol.consent, pattern=handler_pattern(Kind.CONSENT, Kind.DECLINE)))
    application.add_handler(CallbackQueryHandler(enrol.profile, pattern=handler_pattern(Kind.PROFILE)))
    application.add_handler(CallbackQueryHandler(checkin.answer, pattern=handler_pattern(Kind.ANSWER)))
    application.add_handler(CallbackQueryHandler(checkin.start_now, pattern=handler_pattern(Kind.START)))
    application.add_handler(CallbackQueryHandler(checkin.snooze, pattern=handler_pattern(Kind.SNOOZE)))
    application.add_handler(CallbackQueryHandler(commands.confirm, pattern=handler_pattern(Kind.CONFIRM)))
    in_depth.register(application, PRIVATE & NEW)  # the in-depth follow-up: its buttons, /reply, case-study text
    application.add_handler(CallbackQueryHandler(cpd.button, pattern=handler_pattern(Kind.CPD)))
    # Admin commands, buttons, the /newcourse conversation and uploads, each behind the registry's role guard:
    # after the practitioner's buttons (an answer press never consults the wizard), before their catch-alls.
    admin_registry.register(application, PRIVATE & NEW)
    application.add_handler(CallbackQueryHandler(fallback.unknown_button))
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.COMMAND, fallback.unknown_command))
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.TEXT, checkin.typed_answer))
    application.add_handler(MessageHandler(PRIVATE & NEW, fallback.unsupported))
    application.add_error_handler(errors.log_error)
