"""The admin tools' words: lines from admin.txt, long listings cut to Telegram's size, core errors as sentences."""

from __future__ import annotations

from bot.replies import Reply, Text
from bot.texts import render_text

MAX_MESSAGE = 4096  # Telegram's limit for one message's text


def admin_line(kind: str, **values: object) -> str:
    """One line of admin.txt."""
    return render_text("admin.txt", kind=kind, **values)


def admin_reply(kind: str, **values: object) -> Reply:
    """A reply of one message from admin.txt."""
    return Reply((Text(admin_line(kind, **values)),))


def lines_reply(lines: list[str]) -> Reply:
    """A reply of as few messages as hold these lines."""
    return Reply(tuple(Text(c) for c in chunks(lines)))


def chunks(lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join lines into as few messages as fit under `limit` characters; an overlong line is cut."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def sentence(message: str) -> str:
    """A core error message as a sentence (capital first letter, full stop) without touching codes."""
    message = message.rstrip(".")
    return message[:1].upper() + message[1:] + "."


def chat_wording(message: str) -> str:
    """Core errors point at the CLI; in the chat the equivalent is a command."""
    return sentence(message.replace("`followup course list` shows them", "/courses lists them"))
