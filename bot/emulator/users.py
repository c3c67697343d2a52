"""Simulated practitioners and groups: what people do in Telegram, and what they see the bot send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .state import CallbackAnswer, Chat, ChatMessage, State

Match = str | Callable[[ChatMessage], bool] | None


def _predicate(match: Match) -> Callable[[ChatMessage], bool]:
    if match is None:
        return lambda m: True
    if isinstance(match, str):
        return lambda m: match in m.content
    return match


def _command_text(name: str, args: tuple[str, ...]) -> str:
    return " ".join(["/" + name.lstrip("/"), *args])


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    head = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(head.encode("utf-16-le")) // 2}]


class _ChatView:
    """Reading side shared by users and groups: the bot's messages, waiting for new ones."""

    _state: State
    chat: Chat

    def __init__(self) -> None:
        self._seen: set[int] = set()

    @property
    def messages(self) -> list[ChatMessage]:
        """What the bot sent to this chat, in order, edits applied, deleted ones gone."""
        return [m for m in self.chat.messages if m.from_bot and not m.deleted]

    def mark_read(self) -> None:
        """Treat everything received so far as seen, so wait_for() only considers later messages."""
        self._seen.update(m.message_id for m in self.messages)

    async def wait_for(self, match: Match = None, timeout: float = 5.0) -> ChatMessage:
        """The earliest bot message not yet returned by wait_for() that matches (substring or predicate)."""
        pred = _predicate(match)

        def check() -> ChatMessage | None:
            return next((m for m in self.messages if m.message_id not in self._seen and pred(m)), None)

        found = await self.chat.changed.wait_until(check, timeout)
        if found is None:
            raise TimeoutError(
                f"chat {self.chat.id}: no new bot message matching {match!r} within {timeout}s; "
                f"received: {self.messages!r}"
            )
        self._seen.add(found.message_id)
        return found

    async def wait_for_edit(self, message: ChatMessage, match: Match = None, timeout: float = 5.0) -> ChatMessage:
        """Wait until `message` is edited (after this call) into something matching."""
        pred = _predicate(match)
        stamp = (len(message.history), message.edit_date, message.reply_markup)

        def check() -> ChatMessage | None:
            changed = (len(message.history), message.edit_date, message.reply_markup) != stamp
            return message if changed and pred(message) else None

        found = await self.chat.changed.wait_until(check, timeout)
        if found is None:
            raise TimeoutError(
                f"message {message.message_id} was not edited to match {match!r} within {timeout}s; it is {message!r}"
            )
        return found

    @staticmethod
    def buttons(message: ChatMessage) -> list[tuple[str, str | None]]:
        return message.buttons


class SimUser(_ChatView):
    """A practitioner in a private chat with the bot."""

    def __init__(
        self,
        state: State,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        super().__init__()
        self._state = state
        self.id = user_id
        self.first_name = first_name
        self.username = username
        self.last_name = last_name
        self.language_code = language_code
        self.chat = state.private_chat(self.profile)

    @property
    def profile(self) -> dict[str, Any]:
        """The Telegram User object."""
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    @property
    def blocked(self) -> bool:
        return self.chat.blocked

    def _post(self, **fields: Any) -> ChatMessage:
        # Writing to the bot (re)starts the chat; a blocked bot gets unblocked by "Restart".
        if self.chat.blocked:
            self.unblock()
        self.chat.started = True
        msg = self._state.add_message(self.chat, self.profile, **fields)
        self._state.push_update("message", msg.to_dict())
        return msg

    async def send(self, text: str) -> ChatMessage:
        return self._post(text=text, entities=_command_entities(text))

    async def command(self, name: str, *args: str) -> ChatMessage:
        return await self.send(_command_text(name, args))

    async def send_sticker(self, emoji: str = "👍") -> ChatMessage:
        n = len(self._state.files) + 1
        sticker = {
            "file_id": f"EMUSTICKER{n:06d}",
            "file_unique_id": f"AgAD{n:06d}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._post(extra={"sticker": sticker})

    async def send_photo(self, data: bytes = b"\x89PNG\r\n\x1a\n", caption: str | None = None) -> ChatMessage:
        stored = self._state.store_file(data, None, "image/jpeg", "photo")
        return self._post(photo=stored, caption=caption)

    async def send_voice(self, duration: int = 3, data: bytes = b"OggS") -> ChatMessage:
        stored = self._state.store_file(data, None, "audio/ogg", "voice")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._post(extra={"voice": voice})

    async def send_document(
        self, filename: str, data: bytes, mime_type: str | None = None, caption: str | None = None
    ) -> ChatMessage:
        stored = self._state.store_file(data, filename, mime_type or "application/octet-stream", "doc")
        return self._post(document=stored, caption=caption)

    async def edit(self, message: ChatMessage, text: str) -> ChatMessage:
        """Edit one of this user's own messages: the bot gets an edited_message update."""
        if message.chat is not self.chat or message.sender.get("id") != self.id:
            raise ValueError("users can only edit their own messages")
        message.history.append(message.text)
        message.text, message.entities = text, _command_entities(text)
        message.edit_date = self._state.now()
        self._state.push_update("edited_message", message.to_dict())
        return message

    async def press(self, message: ChatMessage | int, callback_data: str | None) -> str:
        """Press an inline button - or forge one: any data is sent. Returns the callback query id."""
        msg = self.chat.find(message) if isinstance(message, int) else message
        if msg is None or msg.chat is not self.chat or msg.deleted:
            raise LookupError(f"no message {message!r} in chat {self.chat.id}")
        query_id = self._state.new_callback_id()
        self._state.callback_queries[query_id] = (self.id, callback_data, False)
        payload: dict[str, Any] = {
            "id": query_id,
            "from": self.profile,
            "message": msg.to_dict(),
            "chat_instance": self.chat.chat_instance,
        }
        if callback_data is not None:
            payload["data"] = callback_data
        self._state.push_update("callback_query", payload)
        return query_id

    async def press_button(self, message: ChatMessage, text: str) -> str:
        """Press the inline button whose label is `text` (exact match first, then substring)."""
        buttons = message.buttons
        hit = next((b for b in buttons if b[0] == text), None) or next((b for b in buttons if text in b[0]), None)
        if hit is None:
            raise LookupError(f"no button {text!r} on message {message.message_id}; buttons: {buttons}")
        return await self.press(message, hit[1])

    async def wait_for_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery for a press."""

        def check() -> CallbackAnswer | None:
            return next((a for a in self._state.answered_callbacks if a.callback_query_id == query_id), None)

        found = await self._state.changed.wait_until(check, timeout)
        if found is None:
            raise TimeoutError(f"callback query {query_id} was not answered within {timeout}s")
        return found

    def _member_update(self, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            # ChatMemberBanned requires until_date (0 = forever).
            out: dict[str, Any] = {"user": self._state.bot_user, "status": status}
            if status == "kicked":
                out["until_date"] = 0
            return out

        self._state.push_update(
            "my_chat_member",
            {
                "chat": self.chat.to_dict(),
                "from": self.profile,
                "date": self._state.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def block(self) -> None:
        """Block the bot: further sends get 403, and the bot is told via my_chat_member."""
        if not self.chat.blocked:
            self.chat.blocked = True
            self._member_update("member", "kicked")

    def unblock(self) -> None:
        if self.chat.blocked:
            self.chat.blocked = False
            self._member_update("kicked", "member")

    def __repr__(self) -> str:
        return f"<SimUser {self.id} {self.first_name!r} @{self.username}>"


class SimGroup(_ChatView):
    """A group chat the bot is in; lets tests check the bot refuses to work in groups."""

    def __init__(self, state: State, chat_id: int, title: str = "Test group", kind: str = "group") -> None:
        super().__init__()
        self._state = state
        self.id = chat_id
        self.chat = state.group_chat(chat_id, title, kind)

    async def send(self, user: SimUser, text: str) -> ChatMessage:
        msg = self._state.add_message(self.chat, user.profile, text=text, entities=_command_entities(text))
        self._state.push_update("message", msg.to_dict())
        return msg

    async def command(self, user: SimUser, name: str, *args: str) -> ChatMessage:
        return await self.send(user, _command_text(name, args))
