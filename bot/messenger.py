"""The Telegram Messenger: sends check-in messages through the bot, mapping Telegram's errors to delivery outcomes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.callbacks import Kind, encode
from bot.keyboards import markup
from bot.logging import redact
from bot.ratelimit import retry_after_seconds
from bot.replies import Button
from scheduler.messenger import DeliveryError, MessengerUnavailable, OutgoingMessage, Unreachable

log = logging.getLogger(__name__)

_CALLBACK_KIND = {"start": Kind.START, "snooze": Kind.SNOOZE}


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """One button per row (labels like "Remind me tomorrow" are long on a phone)."""
    return markup(tuple((Button(a.label, encode(_CALLBACK_KIND[a.kind], a.check_in_id)),) for a in message.actions))


class TelegramMessenger:
    """Delivers OutgoingMessages through a PTB bot whose rate limiter paces them (bot.ratelimit).

    Pacing and 429s are the bot's rate limiter's alone (`build_application` and `paced_bot` set
    bot.ratelimit.ChatRateLimiter): a 429 it gave up on reaches here only to be handed back as a
    transient DeliveryError carrying retry_after, so the dispatcher reschedules. Network errors and
    timeouts are retried with exponential backoff `retries` times. 403 → Unreachable; 400 →
    permanent DeliveryError. The bot is initialised (getMe) only before the first send, so a pass
    with nothing due never calls Telegram; a token it rejects or a server it cannot reach then is
    MessengerUnavailable.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._unavailable: MessengerUnavailable | None = None

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

    async def send(self, chat_id: int, message: OutgoingMessage) -> int:
        """Send one message; returns Telegram's message id or raises DeliveryError / Unreachable."""
        await self._make_ready()
        markup = keyboard(message)
        failure = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                # PTB's documented method. The raw do_api_request would skip building a Message (about
                # 0.5 ms of CPU a send, invisible at Telegram's 30/s), but needs its warning silenced, and
                # warnings.catch_warnings around an await is not safe with concurrent senders on 3.11.
                sent = await self.bot.send_message(chat_id, message.text, reply_markup=markup)
                return sent.message_id
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                raise DeliveryError(
                    f"flood control: retry after {wait:.0f} s", permanent=False, retry_after=wait
                ) from exc
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
