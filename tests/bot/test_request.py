"""The aiohttp transport: PTB works through it against the emulator, errors mapped as PTB expects."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.emulator import Emulator
from bot.request import AiohttpRequest

TOKEN = "4242:request-test-secret"


@pytest.fixture
async def emu():
    async with Emulator(token=TOKEN, username="req_bot") as emulator:
        yield emulator


@pytest.fixture
async def bot(emu):
    the_bot = Bot(
        TOKEN, base_url=emu.base_url, request=AiohttpRequest(read_timeout=1.0), get_updates_request=AiohttpRequest()
    )
    async with the_bot:
        yield the_bot


async def test_get_me_and_a_keyboard_message_round_trip(emu, bot):
    user = emu.user(7, "Sam")
    await user.send("hi")
    assert bot.username == "req_bot"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Agree", callback_data="y:abcdefghijklmnopqrstuv")]])
    sent = await bot.send_message(7, "Shall we?", reply_markup=keyboard)
    received = await user.wait_for("Shall we?")
    assert sent.message_id == received.message_id
    assert user.buttons(received) == [("Agree", "y:abcdefghijklmnopqrstuv")]


async def test_text_with_form_syntax_and_unicode_arrives_as_sent(emu, bot):
    # The body is urlencoded by hand (no aiohttp FormData): &, =, +, %, newlines and non-ASCII survive.
    user = emu.user(8, "Ana")
    await user.send("hi")
    text = "a&b=c+d %20 – ★ café\nline two?x=1&y=2"
    await bot.send_message(8, text)
    assert (await user.wait_for("line two")).text == text


async def test_a_document_upload_arrives_byte_for_byte(emu, bot):
    user = emu.user(8, "Ann")
    await user.send("hi")
    payload = bytes(range(256)) * 40
    await bot.send_document(8, document=payload, filename="answers.csv", caption="Export")
    message = await user.wait_for(lambda m: m.document is not None)
    assert message.document.data == payload and message.document.filename == "answers.csv"


async def test_telegram_errors_surface_as_ptb_exceptions(emu, bot):
    user = emu.user(9, "Kim")
    await user.send("hi")
    emu.inject("sendMessage", status=429, retry_after=3, times=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(9, "x")
    assert caught.value.retry_after.total_seconds() == 3
    with pytest.raises(BadRequest):
        await bot.send_message(
            9, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="z" * 65)]])
        )
    user.block()
    with pytest.raises(Forbidden):
        await bot.send_message(9, "x")


async def test_a_slow_answer_is_a_timeout_and_a_dropped_connection_a_network_error(emu, bot):
    user = emu.user(10, "Lee")
    await user.send("hi")
    emu.inject("sendMessage", delay=3.0, times=1)
    with pytest.raises(TimedOut):
        await bot.send_message(10, "slow")
    emu.inject("sendMessage", drop=True, times=1)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(10, "dropped")
    assert not isinstance(caught.value, TimedOut)
    assert (await bot.send_message(10, "fine")).text == "fine"


async def test_a_transport_error_never_carries_the_token_in_its_message():
    request = AiohttpRequest()
    await request.initialize()
    try:
        # A URL aiohttp refuses to parse: its error quotes the URL, token and all.
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://[broken/bot{TOKEN}/getMe", "POST")
    finally:
        await request.shutdown()
    assert TOKEN not in str(caught.value) and TOKEN.split(":")[1] not in str(caught.value)
