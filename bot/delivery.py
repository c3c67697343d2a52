"""The one way a Reply reaches the chat, for practitioners and admins alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from telegram import Bot, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import keyboards
from bot.admin.wording import MAX_MESSAGE, chunks
from bot.replies import Document, Outgoing, Photo, Reply, Rows, Shown

# PTB raises a plain BadRequest for an edit that changes nothing; its message is all that tells it apart.
NOT_MODIFIED = "message is not modified"
# Edits Telegram refuses because the message cannot take one: what it carried is sent as a new message.
NOT_EDITABLE = ("message can't be edited", "message to edit not found")


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
            await _edit(bot, query.message.chat.id, query.message.message_id, reply.edit)
    if update.effective_chat is not None:
        await send(bot, update.effective_chat.id, reply.messages)


async def _edit(bot: Bot, chat_id: int, message_id: int, shown: Shown) -> None:
    """Edit the pressed message into `shown`; the next question often travels this way, so it must arrive."""
    text, rows = keyboards.text_and_rows(shown)
    first, *rest = _pieces(text)
    try:
        await bot.edit_message_text(
            first, chat_id=chat_id, message_id=message_id, reply_markup=None if rest else keyboards.markup(rows)
        )
    except BadRequest as exc:
        problem = exc.message.lower()
        # A double tap can ask for the same edit twice; that is not an error.
        if NOT_MODIFIED in problem:
            return
        if not any(p in problem for p in NOT_EDITABLE):
            raise
        rest = [first, *rest]
    await _send_text(bot, chat_id, rest, rows)


def _pieces(text: str) -> list[str]:
    """The text as one message, or as several under Telegram's 4096 characters (a long summary)."""
    if len(text) <= MAX_MESSAGE:
        return [text]
    return [p for p in (c.strip() for c in chunks(text.split("\n"))) if p]


async def _send_text(bot: Bot, chat_id: int, pieces: list[str], rows: Rows) -> None:
    """Send pieces of one text in order, the buttons under the last."""
    for n, piece in enumerate(pieces, start=1):
        await bot.send_message(chat_id, piece, reply_markup=keyboards.markup(rows) if n == len(pieces) else None)


async def send(bot: Bot, chat_id: int, messages: Iterable[Outgoing]) -> None:
    """Send texts (with their buttons), photos and documents to one chat, in order."""
    for message in messages:
        if isinstance(message, Photo):
            await bot.send_photo(chat_id, message.data, caption=message.caption)
        elif isinstance(message, Document):
            await bot.send_document(chat_id, message.data, filename=message.filename, caption=message.caption or None)
        else:
            text, rows = keyboards.text_and_rows(message)
            await _send_text(bot, chat_id, _pieces(text), rows)
