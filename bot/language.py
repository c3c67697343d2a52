"""The chat's language: looked up at the start of every update, offered as Cymraeg / English buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.replies import Button, Rows, Text
from bot.texts import label, render_text
from surveys import language
from surveys.store.checkins import open_check_in
from surveys.store.languages import chat_language, switch_language

ANSWER_PRESS = f"{callbacks.Kind.ANSWER}:"
GROUP = -100
"""The handler group speak_chat_language runs in: before every other (one handler per group sees an update)."""

if TYPE_CHECKING:  # the journey imports choice_row from here
    from bot.journey import Journey


async def speak_chat_language(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first for every update (GROUP): the rest of the update speaks the chat's stored language.

    A chat not enrolled (or a group) gets the deployment's default, FOLLOWUP_DEFAULT_LANGUAGE.
    """
    journey = context.application.bot_data["journey"]
    found = None
    chat = update.effective_chat if isinstance(update, Update) else None
    query = update.callback_query if isinstance(update, Update) else None
    if query is not None and (query.data or "").startswith(ANSWER_PRESS):
        # The busiest path reads the language with the press itself (Journey.press_answer): no second query.
        language.set_for_task(journey.settings.default_language)
        return
    if chat is not None and chat.type == "private":
        async with journey.sessions() as session:
            found = await chat_language(session, chat.id)
    language.set_for_task(found or journey.settings.default_language)


def choice_row(token: str | None = None) -> Rows:
    """[Cymraeg] [English]: each button names its language in that language; with a token, before consent."""
    buttons = tuple(
        Button(label(f"language.{code}"), callbacks.encode(callbacks.Kind.LANGUAGE, code, *([token] if token else [])))
        for code in language.LANGUAGES
    )
    return (buttons,)


async def switch(journey: Journey, chat_id: int, code: str) -> Text:
    """Speak `code` to this chat from now on: stored on its active enrolments (nothing for a chat not enrolled)."""
    async with journey.sessions() as session, session.begin():
        count = await switch_language(session, chat_id, code)
        found = await open_check_in(session, chat_id, journey.clock()) if count else None
    language.set_for_task(code)
    return Text(render_text("language.txt", chosen=code, enrolled=count > 0, open=found is not None))


def question() -> Text:
    """/language or /iaith alone: which language, as buttons."""
    return Text(render_text("language.txt"), choice_row())
