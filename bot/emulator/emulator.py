"""The Emulator: lifecycle and the in-process API tests, demos and benchmarks use."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from .faults import FaultInjector, FaultRule
from .limits import FloodControl, FloodLimits
from .methods import BotApi
from .server import build_app
from .state import CallbackAnswer, State, Stats, StoredFile, WebhookConfig
from .users import SimGroup, SimUser
from .webhook import WebhookPusher


class Emulator:
    """A local Telegram Bot API server. Point PTB at `emu.base_url` (== f"{emu.url}/bot")."""

    def __init__(
        self,
        token: str | Sequence[str] = "123:ABC",
        username: str = "followup_test_bot",
        *,
        first_name: str = "Followup",
        limits: bool | FloodLimits = True,
        global_rate: float = 30.0,
        window: float = 1.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 3.0,
        clock: Callable[[], float] = time.time,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        # Several tokens are accepted for the same bot (e.g. to test token rotation).
        self.tokens: tuple[str, ...] = (token,) if isinstance(token, str) else tuple(token)
        self.token = self.tokens[0]
        head = self.token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 1
        self.username = username
        bot_user = {"id": self.bot_id, "is_bot": True, "first_name": first_name, "username": username}
        self.state = State(bot_user, clock)
        if isinstance(limits, FloodLimits):
            self.limits = limits
        else:
            self.limits = FloodLimits(
                enabled=limits,
                global_rate=global_rate,
                window=window,
                per_chat_rate=per_chat_rate,
                per_chat_burst=per_chat_burst,
            )
        self.flood = FloodControl(self.limits)
        self.faults = FaultInjector()
        self.api = BotApi(self.state)
        self._pusher = WebhookPusher(self.state, retry_delay=webhook_retry_delay)
        self._runner: web.AppRunner | None = None
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 = a free port); returns and sets `url`."""
        self.api.closing = False
        # handler_cancellation: a client that gives up (timeout) cancels its long poll / slow answer.
        runner = web.AppRunner(build_app(self), handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        sock_host, sock_port = runner.addresses[0][:2]
        self.url = f"http://{sock_host}:{sock_port}"
        self._pusher.start()
        return self.url

    async def stop(self) -> None:
        # Release waiting long polls first so shutdown doesn't wait on them.
        self.api.closing = True
        self.state.updates_changed.fire()
        await self._pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to give PTB: ApplicationBuilder().base_url(emu.base_url)."""
        return f"{self.url}/bot"

    # --- people ------------------------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> SimUser:
        """Get or create a simulated practitioner (their chat is not started until they write)."""
        existing = self._users.get(user_id)
        if existing is not None:
            if first_name is not None:
                existing.first_name = first_name
            if username is not None:
                existing.username = username
            return existing
        user = SimUser(self.state, user_id, first_name or f"User{user_id}", username, last_name, language_code)
        self._users[user_id] = user
        return user

    def group(self, chat_id: int, title: str = "Test group", kind: str = "group") -> SimGroup:
        if chat_id not in self._groups:
            self._groups[chat_id] = SimGroup(self.state, chat_id, title, kind)
        return self._groups[chat_id]

    @property
    def users(self) -> dict[int, SimUser]:
        return dict(self._users)

    # --- faults ------------------------------------------------------------------------------
    def inject(
        self,
        method: str | None = None,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        chat_id: int | None = None,
    ) -> FaultRule:
        """Add a fault rule; see FaultRule. times=None fires forever."""
        return self.faults.add(
            FaultRule(
                method=method,
                chat_id=chat_id,
                status=status,
                retry_after=retry_after,
                description=description,
                delay=delay,
                drop=drop,
                times=times,
            )
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- observation -------------------------------------------------------------------------
    @property
    def stats(self) -> Stats:
        return self.state.stats

    def chat_request_figures(self) -> dict[str, float]:
        """Requests that named a chat and went through, counted as Telegram does: how many, the
        busiest one-second window (at most 30 allowed) and an average second's count."""
        return {
            "chat_requests": len(self.flood.times),
            "busiest_second": self.flood.busiest(1.0),
            "mean_second": self.flood.mean(1.0),
        }

    @property
    def answered_callbacks(self) -> list[CallbackAnswer]:
        return self.state.answered_callbacks

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.state.updates)

    @property
    def files(self) -> dict[str, StoredFile]:
        return self.state.files

    @property
    def webhook(self) -> WebhookConfig | None:
        return self.state.webhook

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        import json

        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return self.state.commands.get(key, [])

    # --- time --------------------------------------------------------------------------------
    @property
    def clock(self) -> Callable[[], float]:
        """Source of message dates (not of rate limiting, which uses real monotonic time)."""
        return self.state.clock

    @clock.setter
    def clock(self, value: Callable[[], float]) -> None:
        self.state.clock = value
