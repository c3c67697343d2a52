"""The framework's floor: a bare python-telegram-bot quiz bot, default settings, state in a dict.

Run by bench/conversation.py as a child process: `python -m bench.bare_bot BASE_URL TOKEN QUIZ_JSON`.
Same reply pattern as followup (answer the press, then ONE chat request: the pressed question
is edited into the answer given and the next item with its inline buttons, or the end) and
nothing else: no database, no rate limiter, PTB's default HTTPXRequest and default
concurrency (one update at a time). (Until followup went to one request per answer both
edited the answer in and sent the next item: two chat requests.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

# chat id → {(run, item): choice}; `run` comes from the driver so each run starts afresh.
ANSWERS: dict[int, dict[tuple[str, int], int]] = {}


def keyboard(run: str, item: int, labels: list[str]) -> InlineKeyboardMarkup:
    """One button per choice; callback data `run:item:choice`."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{run}:{item}:{n}")] for n, label in enumerate(labels)]
    )


def question(items: list[dict], item: int) -> str:
    """The item with its progress, as followup shows it."""
    return f"{item + 1}/{len(items)} · {items[item]['text']}"


def make_handler(items: list[dict]):
    """The one handler: record the press, edit the question into the answer and the next one (or the end)."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        run, item_text, choice_text = (query.data or "::").split(":")
        item, choice = int(item_text), int(choice_text)
        answers = ANSWERS.setdefault(query.message.chat.id, {})
        if (run, item) in answers:
            await query.answer("Already answered")
            return
        answers[(run, item)] = choice
        await query.answer("Recorded")
        lead = f"{question(items, item)}\nYour answer: {items[item]['labels'][choice]}"
        if item + 1 < len(items):
            await query.edit_message_text(
                f"{lead}\n\n{question(items, item + 1)}",
                reply_markup=keyboard(run, item + 1, items[item + 1]["labels"]),
            )
        else:
            await query.edit_message_text(f"{lead}\n\nThank you, that's the check-in done.")

    return answer


def main(argv: list[str]) -> None:
    """Long-poll BASE_URL until SIGTERM/SIGINT (PTB's run_polling handles both)."""
    base_url, token, quiz_path = argv
    items = json.loads(Path(quiz_path).read_text(encoding="utf-8"))["items"]
    application = ApplicationBuilder().token(token).base_url(base_url).build()
    application.add_handler(CallbackQueryHandler(make_handler(items)))
    application.run_polling()


if __name__ == "__main__":
    main(sys.argv[1:])
