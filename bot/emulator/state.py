"""Telegram's side of the world: chats, messages, files, the update queue, counters."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# Update kinds Telegram sends unless asked for explicitly.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


class Signal:
    """Wakes every waiter whenever something changes; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, check: Callable[[], T | None], timeout: float) -> T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            event = self._event
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # races with the event firing (stop() does exactly that), and the task never ends.
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass


@dataclass
class StoredFile:
    """An uploaded file; tests read `data` and `filename`."""

    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None = None
    mime_type: str | None = None

    def as_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.filename:
            doc["file_name"] = self.filename
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def as_photo(self) -> list[dict[str, Any]]:
        # Telegram returns several sizes; a thumbnail and the "original" are enough for clients.
        return [
            {
                "file_id": self.file_id + "-s",
                "file_unique_id": self.file_unique_id + "s",
                "width": 90,
                "height": 90,
                "file_size": min(len(self.data), 1000),
            },
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 800,
                "height": 800,
                "file_size": len(self.data),
            },
        ]


@dataclass(eq=False)
class ChatMessage:
    """One message in a chat, as it stands now (edits applied). Tests inspect these."""

    chat: Chat
    message_id: int
    sender: dict[str, Any]
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    raw_text: str | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # sticker / voice payloads from users
    edit_date: int | None = None
    history: list[str | None] = field(default_factory=list)  # earlier texts, oldest first
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons as (text, callback_data) pairs, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]

    @property
    def keyboard(self) -> list[str]:
        """Reply-keyboard button texts, if the message carries a reply keyboard."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    @property
    def document_bytes(self) -> bytes | None:
        return self.document.data if self.document else None

    @property
    def photo_bytes(self) -> bytes | None:
        return self.photo.data if self.photo else None

    @property
    def filename(self) -> str | None:
        return self.document.filename if self.document else None

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has - what a human reads."""
        return self.text if self.text is not None else (self.caption or "")

    def to_dict(self) -> dict[str, Any]:
        """The Telegram JSON for this message."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_dict(),
            "date": self.date,
        }
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
        if self.caption is not None:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = self.caption_entities
        if self.document is not None:
            out["document"] = self.document.as_document()
        if self.photo is not None:
            out["photo"] = self.photo.as_photo()
        out.update(self.extra)
        # Telegram echoes only inline keyboards; reply keyboards live on the client.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        return out

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else self.sender.get("id")
        return (
            f"<ChatMessage {self.chat.id}/{self.message_id} from {who}: {self.content[:60]!r} buttons={self.buttons}>"
        )


@dataclass(eq=False, repr=False)
class Chat:
    id: int
    type: str = "private"
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    title: str | None = None
    started: bool = False
    blocked: bool = False
    messages: list[ChatMessage] = field(default_factory=list)
    next_message_id: int = 1
    # Per-chat wake-ups: a waiter re-checks only when its own chat changes, not on every message
    # to anyone (with hundreds of simulated users that scan was most of the emulator's CPU).
    changed: Signal = field(default_factory=Signal, repr=False, compare=False)

    @property
    def chat_instance(self) -> str:
        return str(abs(self.id) * 7919 + 123456789)

    def to_dict(self) -> dict[str, Any]:
        if self.type == "private":
            out: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name or ""}
            if self.last_name:
                out["last_name"] = self.last_name
            if self.username:
                out["username"] = self.username
            return out
        return {"id": self.id, "type": self.type, "title": self.title or ""}

    def __repr__(self) -> str:
        return (
            f"<Chat {self.id} {self.type} started={self.started} blocked={self.blocked} messages={len(self.messages)}>"
        )

    def find(self, message_id: int) -> ChatMessage | None:
        for msg in reversed(self.messages):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None


@dataclass
class CallbackAnswer:
    callback_query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    requests_by_method: Counter[str] = field(default_factory=Counter)
    responses_by_status: Counter[int] = field(default_factory=Counter)
    messages_by_chat: Counter[int] = field(default_factory=Counter)  # bot sends (not edits)
    edits_by_chat: Counter[int] = field(default_factory=Counter)
    webhook_pushes: int = 0
    webhook_failures: int = 0

    @property
    def too_many_requests(self) -> int:
        """429s answered, from flood control and injected faults alike."""
        return self.responses_by_status[429]

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_by_method": dict(self.requests_by_method),
            "responses_by_status": {str(k): v for k, v in self.responses_by_status.items()},
            "too_many_requests": self.too_many_requests,
            "messages_by_chat": {str(k): v for k, v in self.messages_by_chat.items()},
            "edits_by_chat": {str(k): v for k, v in self.edits_by_chat.items()},
            "webhook_pushes": self.webhook_pushes,
            "webhook_failures": self.webhook_failures,
        }

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class State:
    """Everything the emulated Telegram knows. Synchronous on purpose: no await splits a change."""

    def __init__(self, bot_user: dict[str, Any], clock: Callable[[], float] = time.time) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.chats: dict[int, Chat] = {}
        self.profiles: dict[int, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: set[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.callback_queries: dict[str, tuple[int, str | None, bool]] = {}  # id -> (user, data, answered)
        self.answered_callbacks: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.stats = Stats()
        self.changed = Signal()  # chats changed (bot messages, edits): wakes wait_for()
        # Called with (chat, message) the moment the bot's message is stored or edited (benchmarks' clocks).
        self.watchers: list[Callable[[Chat, ChatMessage], None]] = []
        self.updates_changed = Signal()  # new updates or webhook changes: wakes getUpdates/pusher
        self._update_ids = itertools.count(100_000_001)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_000_000_000_000_001, 7)

    def now(self) -> int:
        return int(self.clock())

    # --- files -------------------------------------------------------------------------------
    def store_file(self, data: bytes, filename: str | None, mime_type: str | None, kind: str = "doc") -> StoredFile:
        n = next(self._file_ids)
        f = StoredFile(f"EMU{kind.upper()}{n:08d}AAQ", f"AQAD{n:06d}", data, filename, mime_type)
        self.files[f.file_id] = f
        return f

    # --- chats -------------------------------------------------------------------------------
    def private_chat(self, user: dict[str, Any]) -> Chat:
        chat = self.chats.get(user["id"])
        if chat is None:
            chat = self.chats[user["id"]] = Chat(id=user["id"])
        chat.first_name, chat.last_name, chat.username = (
            user.get("first_name"),
            user.get("last_name"),
            user.get("username"),
        )
        return chat

    def group_chat(self, chat_id: int, title: str, kind: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            # The bot is a member of groups it is asked about, so they count as started.
            chat = self.chats[chat_id] = Chat(id=chat_id, type=kind, title=title, started=True)
        return chat

    def add_message(self, chat: Chat, sender: dict[str, Any], **fields: Any) -> ChatMessage:
        msg = ChatMessage(chat=chat, message_id=chat.next_message_id, sender=sender, date=self.now(), **fields)
        chat.next_message_id += 1
        chat.messages.append(msg)
        if msg.from_bot:
            self.bot_message_shown(chat, msg)
        chat.changed.fire()
        self.changed.fire()
        return msg

    def bot_message_shown(self, chat: Chat, msg: ChatMessage) -> None:
        """Tell the watchers a bot message is in the chat as it now reads (sent or edited)."""
        for watcher in self.watchers:
            watcher(chat, msg)

    # --- updates -----------------------------------------------------------------------------
    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        allowed = self.allowed_updates
        if self.webhook is not None and self.webhook.allowed_updates:
            allowed = set(self.webhook.allowed_updates)
        if allowed is None:
            if kind in _OPT_IN_UPDATES:
                return None
        elif kind not in allowed:
            return None
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.updates_changed.fire()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates offset semantics: forget updates below `offset`; negative keeps the last -offset."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def new_callback_id(self) -> str:
        return str(next(self._callback_ids))
