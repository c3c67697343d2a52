"""The bot's pacing against Telegram's limits as the emulator counts them: 30 in any second, ~1 a second per chat."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.emulator import Emulator, FloodLimits
from bot.ratelimit import ChatRateLimiter, paced_bot
from bot.request import AiohttpRequest

TOKEN = "123456:TEST-token_ok"


class VirtualTime:
    """A clock and a sleep for the limiter: time moves only when every task waits on a sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(seconds, 0.0), next(self._order), wake))
        await wake

    async def run(self, work: Awaitable[Any]) -> Any:
        """Run `work`, moving time to the next timer whenever every task is waiting."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every ready task run until it waits again (no real I/O here)
                await asyncio.sleep(0)
            if self._timers and not task.done():
                self.now, _, wake = heapq.heappop(self._timers)
                if not wake.cancelled():
                    wake.set_result(None)
        return task.result()


async def paced_requests(
    limiter: ChatRateLimiter, time: VirtualTime, chats: list[int], round_trip: Callable[[], float]
) -> list[tuple[float, float]]:
    """Send one request per entry of `chats` at once through `limiter`; (sent, answered) times of each."""
    spans: list[tuple[float, float]] = []

    async def one(chat_id: int) -> None:
        async def request() -> bool:
            sent = time.clock()
            await time.sleep(round_trip())
            spans.append((sent, time.clock()))
            return True

        await limiter.process_request(request, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    await time.run(asyncio.gather(*(one(chat) for chat in chats)))
    return spans


def most_in_one_second(spans: list[tuple[float, float]]) -> int:
    """The most requests Telegram could have counted in one second, wherever between sending and
    the answer each one reached it: for each request, those sent before it and answered less
    than a second before it was sent could share a second with it."""
    worst = 0
    for sent, _ in spans:
        worst = max(worst, sum(1 for s, answered in spans if s <= sent and sent - answered < 1.0))
    return worst


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_second_holds_31_requests_however_long_each_takes_to_arrive(seed: int) -> None:
    rng = random.Random(seed)
    time = VirtualTime()
    limiter = ChatRateLimiter(now=time.clock, sleep=time.sleep)

    spans = await paced_requests(limiter, time, list(range(300)), lambda: rng.uniform(0.001, 0.3))

    assert len(spans) == 300
    assert most_in_one_second(spans) <= 30
    # The allowance is used, not wasted: 300 at 30 a second is 10 s, plus the round trips.
    assert time.now < 13.0


async def test_a_burst_of_300_at_once_is_spread_to_30_in_any_second() -> None:
    time = VirtualTime()
    limiter = ChatRateLimiter(now=time.clock, sleep=time.sleep)

    spans = await paced_requests(limiter, time, list(range(300)), lambda: 0.0)

    sent = sorted(s for s, _ in spans)
    assert all(sent[k + 30] - sent[k] >= 1.0 for k in range(len(sent) - 30))
    assert max(sent) < 10.5


async def test_one_chat_gets_a_burst_of_three_then_about_one_a_second() -> None:
    rng = random.Random(7)
    time = VirtualTime()
    limiter = ChatRateLimiter(now=time.clock, sleep=time.sleep)

    spans = await paced_requests(limiter, time, [42] * 12, lambda: rng.uniform(0.001, 0.3))

    spans.sort()
    # Counted anywhere between sending and answer, any n of them are at least n - 3 seconds apart:
    # what a bucket of three refilled once a second lets through.
    for i, (_, answered) in enumerate(spans):
        for j in range(i + 3, len(spans)):
            assert spans[j][0] - answered >= j - i - 2
    assert spans[2][0] < 1.0  # the first three without waiting for a second
    assert time.now < 15.0  # twelve at ~1 a second, not one every few seconds


async def test_a_flood_wait_holds_back_the_requests_already_queued() -> None:
    time = VirtualTime()
    limiter = ChatRateLimiter(now=time.clock, sleep=time.sleep)
    refused = []

    async def one(n: int) -> None:
        async def request() -> bool:
            if n == 0 and not refused:
                refused.append(time.clock())
                raise RetryAfter(5)
            return True

        await limiter.process_request(request, (), {}, "sendMessage", {"chat_id": n}, None)

    sent: list[float] = []

    async def watched(n: int) -> None:
        await one(n)
        sent.append(time.clock())

    await time.run(asyncio.gather(*(watched(n) for n in range(40))))

    assert len(sent) == 40 and limiter.flood_waits == 1
    # Nothing went out in the five seconds after the 429 except what had already left.
    assert not [t for t in sent if refused[0] + 0.1 < t < refused[0] + 5.0]


# --- against the emulator -------------------------------------------------------------------


async def test_the_emulator_counts_any_one_second_window_and_answers_429_with_retry_after() -> None:
    clock = [0.0]
    limits = FloodLimits(now=lambda: clock[0])
    async with Emulator(token=TOKEN, limits=limits) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
        for n in range(40):
            emu.user(1000 + n).chat.started = True

        async def send_at(t: float, n: int) -> None:
            clock[0] = t
            await bot.send_message(1000 + n, "hi")

        for n in range(30):  # 30 in the first 0.3 s
            await send_at(n / 100, n)
        for t in (0.5, 0.995):  # a bucket refilling at 30/s would let 15 through at 0.5 s
            with pytest.raises(RetryAfter) as refused:
                await send_at(t, 30)
            assert refused.value.retry_after.total_seconds() == 1
        await send_at(1.0, 31)  # the first of the 30 is a second old
        with pytest.raises(RetryAfter):
            await send_at(1.005, 32)  # the second is not
        assert emu.stats.too_many_requests == 3
        assert emu.chat_request_figures()["busiest_second"] == 30


async def test_the_bots_pacing_meets_no_429_and_never_30_in_a_second() -> None:
    async with Emulator(token=TOKEN) as emu:
        for n in range(70):
            emu.user(2000 + n).chat.started = True
        limiter = ChatRateLimiter()
        request = AiohttpRequest(connection_pool_size=16)
        async with paced_bot(TOKEN, base_url=emu.base_url, request=request, rate_limiter=limiter) as bot:
            # 70 chats at once, and five messages into one of them (a burst of three, then ~1 a second).
            await asyncio.gather(
                *(bot.send_message(2000 + n, "quiz") for n in range(70)),
                *(bot.send_message(2000, f"more {n}") for n in range(4)),
            )
        assert emu.stats.too_many_requests == 0 and limiter.flood_waits == 0
        assert sum(emu.stats.messages_by_chat.values()) == 74
        assert emu.chat_request_figures()["busiest_second"] <= 30


async def test_every_request_that_names_a_chat_counts_towards_the_limit() -> None:
    frozen = FloodLimits(now=lambda: 0.0, per_chat_burst=100)
    async with Emulator(token=TOKEN, limits=frozen) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
        emu.user(5).chat.started = True
        for _ in range(29):
            await bot.send_chat_action(5, "typing")
        await bot.send_message(5, "the 30th")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "the 31st")
        assert emu.chat_request_figures()["chat_requests"] == 30
