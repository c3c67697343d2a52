"""What a handler asks the chat to show: messages with rows of buttons, photos and files, a toast, an edit."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.domain.engine import Prompt


@dataclass(frozen=True)
class Button:
    """An inline button: its label and callback data (already encoded, ≤ 64 bytes)."""

    label: str
    data: str


Rows = tuple[tuple[Button, ...], ...]  # the one description of a keyboard; bot.keyboards renders it for Telegram


@dataclass(frozen=True)
class Text:
    """A plain message, optionally with rows of buttons."""

    text: str
    rows: Rows = ()


@dataclass(frozen=True)
class Question:
    """One quiz item to ask, with an optional lead above it (the last answer and its feedback, a re-prompt, intro)."""

    check_in_id: int
    prompt: Prompt
    lead: str = ""


@dataclass(frozen=True)
class Photo:
    """An image to send, with a caption."""

    data: bytes
    caption: str


@dataclass(frozen=True)
class Document:
    """A file to send, read into memory (the temporary folder it came from is already gone)."""

    data: bytes
    filename: str
    caption: str = ""


Outgoing = Text | Question | Photo | Document  # one new message in the chat
Shown = Text | Question  # what a pressed message can be edited into


@dataclass(frozen=True)
class Reply:
    """What the bot does in the chat: toast a button press, edit the pressed message, send messages."""

    messages: tuple[Outgoing, ...] = ()
    notice: str | None = None
    edit: Shown | None = None
    alert: bool = False
