"""What handlers share: the journey from bot_data, reading a button press, and delivering a Reply."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import callbacks, keyboards
from bot.journey import Journey, Reply

log = logging.getLogger(__name__)
NOT_MODIFIED = "message is not modified"


def journey(context: ContextTypes.DEFAULT_TYPE) -> Journey:
    """The Journey built by bot.app for this Application."""
    return context.application.bot_data["journey"]


def pressed(update: Update) -> callbacks.Callback | None:
    """The parsed callback data of a button press, or None when it is malformed or forged."""
    query = update.callback_query
    return callbacks.parse(query.data) if query else None


def _message(params: dict[str, Any], text: str, markup: dict[str, Any] | None) -> dict[str, Any]:
    params["text"] = text
    if markup is not None:
        params["reply_markup"] = markup
    return params


async def deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Answer the press (always, so the spinner stops), edit the pressed message, send the rest in order.

    The same three Bot API requests as CallbackQuery.answer, edit_message_text and
    Bot.send_message make, with plain parameters and the raw results: PTB would build a
    Message from each reply, which nothing here reads (bench/README.md, conversation).
    Method names are capitalised so PTB does not warn that Bot has methods for them; the
    rate limiter and error mapping (BadRequest, RetryAfter …) apply as for PTB's methods.
    """
    query = update.callback_query
    chat = update.effective_chat
    bot = context.bot
    if query is not None:
        answer: dict[str, Any] = {"callback_query_id": query.id, "show_alert": reply.alert}
        if reply.notice is not None:
            answer["text"] = reply.notice
        await bot.do_api_request("AnswerCallbackQuery", answer)
        message = query.message
        if reply.edit is not None and message is not None:
            edit = _message({"chat_id": message.chat.id, "message_id": message.message_id}, *keyboards.render_plain(reply.edit))
            try:
                await bot.do_api_request("EditMessageText", edit)
            except BadRequest as exc:
                # A double tap can ask for the same edit twice; that is not an error.
                if NOT_MODIFIED not in str(exc).lower():
                    raise
    if chat is None:
        return
    for out in reply.messages:
        await bot.do_api_request("SendMessage", _message({"chat_id": chat.id}, *keyboards.render_plain(out)))
