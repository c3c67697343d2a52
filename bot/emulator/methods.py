"""The Bot API methods: validation and effects, answering exactly what Telegram would."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from . import formatting
from .errors import ApiError, bad_request, forbidden
from .params import Params, Upload
from .state import CallbackAnswer, Chat, ChatMessage, State, StoredFile, WebhookConfig

Handler = Callable[[Params], Awaitable[Any]]

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _inline(markup: dict[str, Any] | None) -> Any:
    """The part of a markup Telegram compares and echoes: the inline keyboard, [] meaning none."""
    rows = (markup or {}).get("inline_keyboard")
    return rows or None


class BotApi:
    """One coroutine per method, looked up case-insensitively as Telegram does."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.closing = False
        self._poll_generation = 0
        self._handlers: dict[str, Handler] = {
            name.removeprefix("m_").lower(): getattr(self, name) for name in dir(self) if name.startswith("m_")
        }

    def handler(self, method: str) -> Handler | None:
        return self._handlers.get(method.lower())

    # --- shared checks -----------------------------------------------------------------------
    def _chat(self, p: Params) -> Chat:
        chat_id = p.chat_id()
        if chat_id is None:
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat = next(
                (
                    c
                    for c in self.state.chats.values()
                    if c.username and "@" + c.username == chat_id and c.type != "private"
                ),
                None,
            )
        else:
            chat = self.state.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, p: Params) -> Chat:
        chat = self._chat(p)
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _text(
        self, p: Params, *, field: str = "text", entities_field: str = "entities"
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = p.str(field) or ""
        mode = p.str("parse_mode")
        if mode:
            text, entities = formatting.parse(raw, mode)
        else:
            text, entities = raw, p.json(entities_field) or []
        if not text.strip():
            raise bad_request("message text is empty")
        if formatting.utf16_len(text) > 4096:
            raise bad_request("message is too long")
        return text, entities

    def _caption(self, p: Params) -> tuple[str | None, list[dict[str, Any]]]:
        raw = p.str("caption")
        if not raw:
            return None, []
        mode = p.str("parse_mode")
        text, entities = formatting.parse(raw, mode) if mode else (raw, p.json("caption_entities") or [])
        if formatting.utf16_len(text) > 1024:
            raise bad_request("message caption is too long")
        return text or None, entities

    def _markup(self, p: Params) -> dict[str, Any] | None:
        markup = p.json("reply_markup", error="can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            for button in (b for row in rows for b in row):
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if not any(k in button for k in _BUTTON_ACTIONS):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, chat: Chat, p: Params, missing: str) -> ChatMessage:
        message_id = p.int("message_id")
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        msg = chat.find(message_id) if message_id is not None else None
        if msg is None:
            raise bad_request(missing)
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg

    def _file(self, p: Params, field: str, kind: str) -> StoredFile:
        value = p.file(field)
        if isinstance(value, Upload):
            return self.state.store_file(value.data, value.filename, value.content_type, kind)
        if isinstance(value, str) and value:
            if value in self.state.files:
                return self.state.files[value]
            if value.startswith(("http://", "https://")):
                return self.state.store_file(b"", value.rsplit("/", 1)[-1] or None, None, kind)
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {field} in the request")

    def _send(self, chat: Chat, **fields: Any) -> dict[str, Any]:
        msg = self.state.add_message(chat, self.state.bot_user, **fields)
        self.state.stats.messages_by_chat[chat.id] += 1
        return msg.to_dict()

    def _edited(self, chat: Chat, msg: ChatMessage) -> dict[str, Any]:
        msg.edit_date = self.state.now()
        self.state.stats.edits_by_chat[chat.id] += 1
        self.state.bot_message_shown(chat, msg)
        chat.changed.fire()
        self.state.changed.fire()
        return msg.to_dict()

    # --- identity & polling ------------------------------------------------------------------
    async def m_getMe(self, p: Params) -> dict[str, Any]:
        return {
            **self.state.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_getUpdates(self, p: Params) -> list[dict[str, Any]]:
        state = self.state
        if state.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = max(p.float("timeout", 0.0) or 0.0, 0.0)
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            # Applies to updates created from now on, as documented.
            state.allowed_updates = set(allowed) if allowed else None
        state.confirm(offset)
        # A newer getUpdates terminates an older one still waiting, like Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        state.updates_changed.fire()
        terminated = object()

        def ready() -> Any:
            if generation != self._poll_generation:
                return terminated
            if self.closing or state.webhook is not None:
                return []
            return state.updates[:limit] or None

        result = await state.updates_changed.wait_until(ready, timeout)
        if result is terminated:
            raise ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        return result or []

    # --- sending -----------------------------------------------------------------------------
    async def m_sendMessage(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        text, entities = self._text(p)
        markup = self._markup(p)
        return self._send(
            chat,
            text=text,
            entities=entities,
            reply_markup=markup,
            parse_mode=p.str("parse_mode"),
            raw_text=p.str("text"),
        )

    async def m_sendDocument(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        caption, entities = self._caption(p)
        markup = self._markup(p)
        stored = self._file(p, "document", "doc")
        return self._send(
            chat,
            document=stored,
            caption=caption,
            caption_entities=entities,
            reply_markup=markup,
            parse_mode=p.str("parse_mode"),
        )

    async def m_sendPhoto(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        caption, entities = self._caption(p)
        markup = self._markup(p)
        stored = self._file(p, "photo", "photo")
        return self._send(
            chat,
            photo=stored,
            caption=caption,
            caption_entities=entities,
            reply_markup=markup,
            parse_mode=p.str("parse_mode"),
        )

    async def m_getFile(self, p: Params) -> dict[str, Any]:
        # Files are served by the emulator's /file/bot<token>/<file_path> route.
        file_id = p.str("file_id") or ""
        stored = self.state.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": f"documents/{stored.file_id}",
        }

    async def m_sendChatAction(self, p: Params) -> bool:
        self._writable_chat(p)
        return True

    # --- editing -----------------------------------------------------------------------------
    async def m_editMessageText(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        msg = self._bot_message(chat, p, "message to edit not found")
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(p)
        markup = self._markup(p)  # omitted markup removes the keyboard, as on Telegram
        if text == msg.text and entities == msg.entities and _inline(markup) == _inline(msg.reply_markup):
            raise bad_request(_NOT_MODIFIED)
        msg.history.append(msg.text)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        msg.parse_mode, msg.raw_text = p.str("parse_mode"), p.str("text")
        return self._edited(chat, msg)

    async def m_editMessageCaption(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        msg = self._bot_message(chat, p, "message to edit not found")
        if msg.document is None and msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        if caption == msg.caption and entities == msg.caption_entities and _inline(markup) == _inline(msg.reply_markup):
            raise bad_request(_NOT_MODIFIED)
        msg.history.append(msg.caption)
        msg.caption, msg.caption_entities, msg.reply_markup = caption, entities, markup
        return self._edited(chat, msg)

    async def m_editMessageReplyMarkup(self, p: Params) -> dict[str, Any]:
        chat = self._writable_chat(p)
        msg = self._bot_message(chat, p, "message to edit not found")
        markup = self._markup(p)
        if _inline(markup) == _inline(msg.reply_markup):
            raise bad_request(_NOT_MODIFIED)
        msg.reply_markup = markup
        return self._edited(chat, msg)

    async def m_deleteMessage(self, p: Params) -> bool:
        chat = self._chat(p)
        msg = chat.find(p.int("message_id") or 0)
        if msg is None:
            raise bad_request("message to delete not found")
        msg.deleted = True
        chat.changed.fire()
        self.state.changed.fire()
        return True

    async def m_answerCallbackQuery(self, p: Params) -> bool:
        query_id = p.str("callback_query_id") or ""
        known = self.state.callback_queries.get(query_id)
        if known is None or known[2]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        user_id, data, _ = known
        self.state.callback_queries[query_id] = (user_id, data, True)
        self.state.answered_callbacks.append(
            CallbackAnswer(query_id, user_id, data, text, p.bool("show_alert"), p.str("url"))
        )
        self.state.changed.fire()
        return True

    # --- commands ----------------------------------------------------------------------------
    def _commands_key(self, p: Params) -> tuple[str, str]:
        scope = p.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.str("language_code") or ""

    async def m_setMyCommands(self, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request(
                "BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "can't parse commands JSON object"
            )
        clean = []
        for c in commands:
            if not isinstance(c, dict) or not _COMMAND_RE.match(str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
            clean.append({"command": c["command"], "description": c["description"]})
        self.state.commands[self._commands_key(p)] = clean
        return True

    async def m_getMyCommands(self, p: Params) -> list[dict[str, str]]:
        return self.state.commands.get(self._commands_key(p), [])

    async def m_deleteMyCommands(self, p: Params) -> bool:
        self.state.commands.pop(self._commands_key(p), None)
        return True

    # --- webhooks ----------------------------------------------------------------------------
    async def m_setWebhook(self, p: Params) -> bool:
        url = p.str("url") or ""
        if p.bool("drop_pending_updates"):
            self.state.updates.clear()
        if not url:
            self.state.webhook = None
        else:
            # Telegram insists on HTTPS and ports 443/80/88/8443; a local emulator must accept http://localhost.
            if not url.startswith(("http://", "https://")):
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            secret = p.str("secret_token")
            if secret is not None and not _SECRET_RE.match(secret):
                raise bad_request("secret token contains unallowed characters")
            allowed = p.json("allowed_updates")
            self.state.webhook = WebhookConfig(
                url=url,
                secret_token=secret,
                max_connections=p.int("max_connections", 40) or 40,
                allowed_updates=allowed if isinstance(allowed, list) and allowed else None,
            )
        self.state.updates_changed.fire()
        return True

    async def m_deleteWebhook(self, p: Params) -> bool:
        if p.bool("drop_pending_updates"):
            self.state.updates.clear()
        self.state.webhook = None
        self.state.updates_changed.fire()
        return True

    async def m_getWebhookInfo(self, p: Params) -> dict[str, Any]:
        hook = self.state.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if hook:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # --- harmless housekeeping -----------------------------------------------------------------
    async def m_close(self, p: Params) -> bool:
        return True

    async def m_logOut(self, p: Params) -> bool:
        return True

    async def m_setMyDescription(self, p: Params) -> bool:
        return True

    async def m_setMyShortDescription(self, p: Params) -> bool:
        return True

    async def m_setChatMenuButton(self, p: Params) -> bool:
        return True
