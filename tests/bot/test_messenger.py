"""TelegramMessenger through the paced bot against the emulator: buttons, limits, 429, 5xx, timeouts, drops, 403."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram.request import HTTPXRequest

from bot.emulator import Emulator
from bot.messenger import TelegramMessenger
from bot.ratelimit import ChatRateLimiter, paced_bot
from scheduler.dispatch import Dispatcher, DispatchReport
from scheduler.messenger import Action, DeliveryError, OutgoingMessage, Unreachable
from surveys.clock import FrozenClock
from surveys.settings import load_settings
from surveys.store.models import CheckIn, Contact
from tests.support.schedule_builders import a_course, many_due_check_ins

SETTINGS = load_settings(env={}, env_file=None)
MESSAGE = OutgoingMessage(
    "It's 3 months since CSE Level 3.", (Action("Start now", "start", 5), Action("Remind me tomorrow", "snooze", 5))
)


@pytest.fixture
async def emulator():
    async with Emulator() as emu:
        yield emu


@pytest.fixture
def limiter():
    return ChatRateLimiter()  # Telegram's own limits, as in production


@pytest.fixture
async def telegram_bot(emulator, limiter):
    # A short read timeout, so an injected stall becomes a TimedOut quickly.
    request = HTTPXRequest(connection_pool_size=128, read_timeout=1.0, connect_timeout=2.0)
    async with paced_bot(emulator.token, base_url=emulator.base_url, request=request, rate_limiter=limiter) as bot:
        yield bot


@pytest.fixture
def messenger(telegram_bot):
    return TelegramMessenger(telegram_bot, backoff=0.01)


def started(emulator, user_id):
    """A practitioner who has opened the chat with the bot."""
    user = emulator.user(user_id)
    user.chat.started = True
    return user


async def test_a_message_arrives_with_start_and_snooze_buttons(emulator, messenger):
    user = started(emulator, 42)

    message_id = await messenger.send(42, MESSAGE)

    [received] = user.messages
    assert received.message_id == message_id
    assert received.text == "It's 3 months since CSE Level 3."
    assert user.buttons(received) == [("Start now", "s:5"), ("Remind me tomorrow", "z:5")]


async def test_a_person_who_blocked_the_bot_is_unreachable(emulator, messenger):
    started(emulator, 43).block()
    with pytest.raises(Unreachable):
        await messenger.send(43, MESSAGE)


async def test_a_bad_request_is_a_permanent_failure(messenger):
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(999, MESSAGE)  # no such chat
    assert caught.value.permanent and "chat not found" in caught.value.reason.lower()


async def test_flood_control_is_waited_out_and_the_message_delivered(emulator, messenger, limiter):
    user = started(emulator, 44)
    emulator.inject("sendMessage", status=429, retry_after=1, times=2)

    await messenger.send(44, MESSAGE)

    assert len(user.messages) == 1 and limiter.flood_waits == 2


async def test_a_long_flood_wait_is_handed_back_for_rescheduling(emulator, messenger):
    started(emulator, 45)
    emulator.inject("sendMessage", status=429, retry_after=600, times=1)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(45, MESSAGE)
    assert not caught.value.permanent and caught.value.retry_after == 600


@pytest.mark.parametrize(
    "fault",
    [dict(status=502), dict(status=500), dict(drop=True), dict(delay=3.0)],
    ids=["bad-gateway", "server-error", "dropped-connection", "timeout"],
)
async def test_server_errors_drops_and_timeouts_are_retried_until_delivered(emulator, messenger, fault):
    user = started(emulator, 46)
    emulator.inject("sendMessage", times=2, **fault)

    await messenger.send(46, MESSAGE)

    assert len(user.messages) == 1


async def test_persistent_network_failure_is_a_transient_delivery_error(emulator, messenger):
    started(emulator, 47)
    emulator.inject("sendMessage", status=502)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(47, MESSAGE)
    assert not caught.value.permanent


async def test_bursts_within_the_limits_get_no_429(emulator, messenger):
    users = [started(emulator, 100 + i) for i in range(60)]
    # 60 chats at once (over the 30/s burst) plus three messages into one chat (1 a second).
    sends = [messenger.send(u.id, MESSAGE) for u in users] + [messenger.send(100, MESSAGE) for _ in range(2)]

    await asyncio.gather(*sends)

    assert emulator.stats.too_many_requests == 0
    assert sum(emulator.stats.messages_by_chat.values()) == 62


async def test_a_dispatch_burst_within_telegrams_limits_meets_no_429_and_a_forced_one_is_waited_out_once(
    sessions, emulator, messenger, limiter, now
):
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 45, now - timedelta(hours=1), first_chat=2000)
        await session.commit()
    for chat in range(2000, 2045):
        started(emulator, chat)
    forced = emulator.inject("sendMessage", status=429, retry_after=1, times=1)
    dispatcher = Dispatcher(sessions, messenger, FrozenClock(now), SETTINGS, "w1")

    # 45 chats at once (over Telegram's 30/s burst) while four more messages go to one of them.
    report, *_ = await asyncio.gather(dispatcher.run_once(), *(messenger.send(2000, MESSAGE) for _ in range(4)))

    assert (report.sent, report.retried, report.failed) == (45, 0, 0)
    assert forced.exhausted and limiter.flood_waits == 1
    assert emulator.stats.too_many_requests == 1  # the forced one: the limits themselves were never hit
    assert emulator.stats.messages_by_chat[2000] == 5
    assert sum(emulator.stats.messages_by_chat.values()) == 49


async def test_every_check_in_is_delivered_or_marked_unreachable_through_faults(sessions, emulator, messenger, now):
    async with sessions() as session:
        await many_due_check_ins(session, await a_course(session, now), 120, now - timedelta(hours=1), first_chat=1000)
        await session.commit()
    for chat in range(1000, 1120):
        started(emulator, chat)
    blocked = {1003, 1050, 1111}
    for chat in blocked:
        emulator.user(chat).block()
    injected = [
        emulator.inject("sendMessage", status=429, retry_after=1, times=3),
        emulator.inject("sendMessage", status=502, times=5),
        emulator.inject("sendMessage", status=500, chat_id=1010, times=20),  # beyond the messenger's retries
        emulator.inject("sendMessage", drop=True, times=3),
        emulator.inject("sendMessage", delay=3.0, times=2),
    ]
    clock = FrozenClock(now)
    dispatcher = Dispatcher(sessions, messenger, clock, SETTINGS, "w1")

    total = DispatchReport()
    for _ in range(30):  # ticks, an hour apart: retries come back, nothing waits forever
        total = total + await dispatcher.run_once()
        clock.advance(timedelta(hours=1))

    async with sessions() as session:
        rows = (
            await session.execute(
                select(CheckIn, Contact.chat_id).join(Contact, Contact.enrolment_id == CheckIn.enrolment_id)
            )
        ).all()
    received = {chat: [m.message_id for m in emulator.user(chat).messages] for chat in range(1000, 1120)}
    for check_in, chat in rows:
        if chat in blocked:
            assert check_in.state == "cancelled" and check_in.last_error.startswith("unreachable")
        else:
            assert check_in.state == "sent", (chat, check_in.last_error)
            # Its id is recorded. (A request that timed out may still have been delivered, so a
            # second copy is possible on a loaded machine: that is the price of never losing one.)
            assert check_in.message_id in received[chat]
    assert (total.sent, total.unreachable) == (117, 3)
    assert total.retried >= 1  # chat 1010 outlasted the messenger's own retries
    assert all(rule.exhausted for rule in injected)
    assert sum(len(ids) for ids in received.values()) <= 117 + 2  # at most the two timed-out sends twice
