"""The in-depth follow-up's handlers: the invitation's and theme buttons, the case study's typed answers, /reply."""

from __future__ import annotations

from telegram import Update
from telegram.error import Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.callbacks import Kind, handler_pattern
from bot.delivery import deliver, send
from bot.handlers.common import journey, pressed
from bot.in_depth import InDepth, Relayed
from bot.replies import Reply, Text
from bot.texts import render_text
from surveys.store.in_depth import TO_OFFICER, TO_PERSON

# Before the practitioner's catch-all text handler (group 0): a case study's answers are typed too.
TYPED_GROUP = -1


def in_depth(context: ContextTypes.DEFAULT_TYPE) -> InDepth:
    """The InDepth service of this Application, made on first use from the Journey's store, settings and clock."""
    data = context.application.bot_data
    if "in_depth" not in data:
        found = journey(context)
        data["in_depth"] = InDepth(found.sessions, found.settings, found.clock)
    return data["in_depth"]


def command_text(update: Update) -> str:
    """What follows the /command, line breaks kept (context.args would split them away)."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def pass_on(update: Update, context: ContextTypes.DEFAULT_TYPE, relayed: Relayed, direction: str) -> None:
    """Send a relayed message as a new message from the bot (never a forward), record it, tell the sender."""
    delivered = False
    for chat_id in relayed.chats:
        try:
            await send(context.bot, chat_id, (relayed.message,))
            delivered = True
        except Forbidden:
            continue  # they blocked the bot: the sender is told below
    await in_depth(context).passed(relayed, direction, delivered=delivered)
    if delivered:
        await deliver(update, context, relayed.sent)
    else:
        text = render_text("in_depth.txt", kind="relay_unreachable", pseudonym=relayed.pseudonym)
        await deliver(update, context, Reply((Text(text),)))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes / No under the invitation, or a theme at the end of the case study."""
    data = pressed(update)
    if data is None:
        await update.callback_query.answer()
        return
    draw_id, choice = int(data.args[0]), data.args[1]
    await deliver(update, context, await in_depth(context).press(update.effective_chat.id, draw_id, choice))


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text: a case-study answer when one is under way (and nothing else then sees it)."""
    reply = await in_depth(context).typed(update.effective_chat.id, update.effective_message.text or "")
    if reply is None:
        return  # not in a case study: the check-in's handler takes it
    await deliver(update, context, reply)
    raise ApplicationHandlerStop


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reply message: answer the training officer's last message, through the bot."""
    outcome = await in_depth(context).reply(update.effective_chat.id, command_text(update))
    if isinstance(outcome, Reply):
        await deliver(update, context, outcome)
    else:
        await pass_on(update, context, outcome, TO_OFFICER)


async def relay_to_person(update: Update, context: ContextTypes.DEFAULT_TYPE, relayed: Relayed) -> None:
    """An officer's /relay, checked: pass it on to the participant's chat."""
    await pass_on(update, context, relayed, TO_PERSON)


def register(application: Application, private: filters.BaseFilter) -> None:
    """The buttons and the typed-answer handler in a group of its own before the check-in's (/reply is in
    bot.handlers.commands with the practitioner's other commands)."""
    application.add_handler(CallbackQueryHandler(press, pattern=handler_pattern(Kind.IN_DEPTH)))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, typed), group=TYPED_GROUP)
