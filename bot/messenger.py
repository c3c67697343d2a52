"""The Telegram Messenger: sends check-in messages within Telegram's limits, mapping its errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.callbacks import Kind, encode
from bot.logging import redact
from scheduler.messenger import DeliveryError, MessengerUnavailable, OutgoingMessage, Unreachable

log = logging.getLogger(__name__)

_CALLBACK_KIND = {"start": Kind.START, "snooze": Kind.SNOOZE}
# A per-chat limiter that has been idle this long is full again, so forgetting it is safe.
_IDLE_CHAT_LIMITERS = 10_000


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """One button per row (labels like "Remind me tomorrow" are long on a phone)."""
    if not message.actions:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(a.label, callback_data=encode(_CALLBACK_KIND[a.kind], a.check_in_id))]
         for a in message.actions]
    )


def _request(chat_id: int, message: OutgoingMessage) -> dict[str, Any]:
    """The sendMessage parameters, keyboard included, as plain JSON-ready values."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": message.text}
    markup = keyboard(message)
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return params


def _seconds(value: float | timedelta) -> float:
    # PTB 22 gives retry_after as a timedelta; older versions gave an int.
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramMessenger:
    """Delivers OutgoingMessages through a PTB Bot: ≤ `overall_rate`/s in all, ≤ `per_chat_rate`/s per chat.

    429 pauses every send for `retry_after` (Telegram's flood control is per bot) and retries;
    a wait longer than `max_wait` is handed back as a transient DeliveryError so the dispatcher
    reschedules instead of blocking. Network errors and timeouts are retried with exponential
    backoff `retries` times. 403 → Unreachable; 400 → permanent DeliveryError. The bot is initialised
    (getMe) only before the first send, so a pass with nothing due never calls Telegram; a token it
    rejects or a server it cannot reach then is MessengerUnavailable.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        overall_rate: float = 30.0,
        per_chat_rate: float = 1.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.per_chat_rate = per_chat_rate
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        # The full rate, but bursts of only a third of a second's worth: requests bunch up on the
        # way to Telegram, and a burst as big as Telegram's own would then overflow it.
        self._overall = AsyncLimiter(max(1.0, overall_rate / 3), 1 / 3)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._paused_until = 0.0
        self.flood_waits = 0
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._unavailable: MessengerUnavailable | None = None

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(1, 1.0 / self.per_chat_rate)
        self._chats[chat_id] = limiter  # most recently used last
        if len(self._chats) > _IDLE_CHAT_LIMITERS:
            oldest, old = next(iter(self._chats.items()))
            if old.has_capacity(1):
                del self._chats[oldest]
        return limiter

    async def _make_ready(self) -> None:
        """Initialise the bot once (getMe), or raise MessengerUnavailable saying what to check."""
        if self._ready:
            return
        async with self._ready_lock:
            if self._unavailable is None and not self._ready:
                self._unavailable = await _initialise(self.bot)
                self._ready = self._unavailable is None
        if self._unavailable is not None:
            raise self._unavailable

    async def _flood_pause(self) -> None:
        wait = self._paused_until - time.monotonic()
        if wait > 0:
            await self._sleep(wait)

    async def send(self, chat_id: int, message: OutgoingMessage) -> int:
        """Send one message; returns Telegram's message id or raises DeliveryError / Unreachable."""
        await self._make_ready()
        params = _request(chat_id, message)
        failure = "no attempt made"
        for attempt in range(self.retries + 1):
            await self._flood_pause()
            # Per chat first, so a busy chat never holds one of the overall slots while it waits.
            async with self._chat_limiter(chat_id), self._overall:
                try:
                    # The raw result: building PTB's Message object would cost more CPU than the
                    # request itself, and only its id is needed. Bot API method names are
                    # case-insensitive; "SendMessage" keeps PTB from warning that send_message exists.
                    sent = await self.bot.do_api_request("SendMessage", params)
                    return int(sent["message_id"])
                except RetryAfter as exc:
                    wait = _seconds(exc.retry_after)
                    self.flood_waits += 1
                    if wait > self.max_wait:
                        raise DeliveryError(f"flood control: retry after {wait:.0f} s", permanent=False,
                                            retry_after=wait) from exc
                    self._paused_until = max(self._paused_until, time.monotonic() + wait)
                    failure = f"flood control: retry after {wait:.0f} s"
                    continue
                except Forbidden as exc:
                    raise Unreachable(exc.message) from exc
                except BadRequest as exc:
                    raise DeliveryError(f"Bad Request: {exc.message}", permanent=True) from exc
                except TimedOut as exc:
                    failure = f"timed out: {exc.message}"
                except NetworkError as exc:
                    failure = f"network error: {exc.message}"
                except TelegramError as exc:
                    # InvalidToken, Conflict …: not this person's fault, and not fixed by retrying now.
                    raise DeliveryError(f"{type(exc).__name__}: {exc.message}", permanent=False) from exc
            if attempt < self.retries:
                await self._sleep(self.backoff * 2**attempt)
        raise DeliveryError(failure, permanent=False)


async def _initialise(bot: Bot) -> MessengerUnavailable | None:
    """getMe through PTB's initialize; what went wrong as one line for the operator, or None."""
    try:
        await bot.initialize()
    except InvalidToken:
        # PTB's own message quotes the token in full: never shown.
        return MessengerUnavailable("Telegram rejected the bot token: check FOLLOWUP_BOT_TOKEN.")
    except NetworkError as exc:  # TimedOut included
        return MessengerUnavailable(
            f"Could not reach the Telegram Bot API ({redact(exc.message)}): "
            "check FOLLOWUP_TELEGRAM_API_URL and the network."
        )
    except TelegramError as exc:
        return MessengerUnavailable(f"Telegram refused the bot ({type(exc).__name__}): check FOLLOWUP_BOT_TOKEN.")
    return None
