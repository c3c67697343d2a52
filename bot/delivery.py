"""The one way a Reply reaches the chat, for practitioners and admins alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from telegram import Bot, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import keyboards
from bot.replies import Document, Outgoing, Photo, Reply

# PTB raises a plain BadRequest for an edit that changes nothing; its message is all that tells it apart.
NOT_MODIFIED = "message is not modified"


async def deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Answer the press (always, so the spinner stops), edit the pressed message, send the rest in order.

    PTB's documented methods throughout: the raw do_api_request would save building a Message from
    each result (about 0.4 ms of CPU a press), but needs PTB's advice silenced, and
    warnings.catch_warnings around an await is not safe with concurrent handlers on Python 3.11.
    """
    query = update.callback_query
    bot = context.bot
    if query is not None:
        # Telegram refuses to answer a press older than about 15 minutes ("query is too old"); the
        # press itself was handled, so the edit and the next question must still go out.
        with contextlib.suppress(BadRequest):
            await bot.answer_callback_query(query.id, text=reply.notice, show_alert=reply.alert)
        if reply.edit is not None and query.message is not None:
            text, rows = keyboards.text_and_rows(reply.edit)
            try:
                await bot.edit_message_text(
                    text,
                    chat_id=query.message.chat.id,
                    message_id=query.message.message_id,
                    reply_markup=keyboards.markup(rows),
                )
            except BadRequest as exc:
                # A double tap can ask for the same edit twice; that is not an error.
                if NOT_MODIFIED not in exc.message.lower():
                    raise
    if update.effective_chat is not None:
        await send(bot, update.effective_chat.id, reply.messages)


async def send(bot: Bot, chat_id: int, messages: Iterable[Outgoing]) -> None:
    """Send texts (with their buttons), photos and documents to one chat, in order."""
    for message in messages:
        if isinstance(message, Photo):
            await bot.send_photo(chat_id, message.data, caption=message.caption)
        elif isinstance(message, Document):
            await bot.send_document(chat_id, message.data, filename=message.filename, caption=message.caption or None)
        else:
            text, rows = keyboards.text_and_rows(message)
            await bot.send_message(chat_id, text, reply_markup=keyboards.markup(rows))
