"""The Telegram Bot API emulator, driven by a real PTB Bot and Application as the bot would use it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import Emulator, FloodLimits, SimUser

TOKEN = "123456:TEST-token_ok"
USERNAME = "followup_test_bot"


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN, username=USERNAME) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url) as the_bot:
        yield the_bot


@pytest.fixture
async def sam(emu: Emulator) -> SimUser:
    user = emu.user(42, "Sam", "sam")
    await user.command("start")
    return user


async def raw(emu: Emulator, method: str, token: str = TOKEN, **kwargs: object) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(f"{emu.url}/bot{token}/{method}", **kwargs) as resp:
        return resp.status, await resp.json()


# --- identity, tokens, methods -----------------------------------------------------------------


async def test_get_me_describes_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, USERNAME, True)


async def test_an_unknown_token_is_refused_as_an_invalid_token(emu: Emulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url):
            pass
    assert await raw(emu, "getMe", token="999:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_an_unknown_method_is_a_telegram_shaped_404(emu: Emulator) -> None:
    assert await raw(emu, "sendTelepathy") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_form_json_and_multipart_encodings_are_all_understood(emu: Emulator, sam: SimUser) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, _ = await raw(emu, "sendMessage", json={"chat_id": 42, "text": "json", "reply_markup": markup})
    assert status == 200
    status, _ = await raw(
        emu, "sendMessage", data={"chat_id": "42", "text": "form", "reply_markup": json.dumps(markup)}
    )
    assert status == 200
    form = aiohttp.FormData()
    form.add_field("chat_id", "42")
    form.add_field("document", b"%PDF", filename="r.pdf", content_type="application/pdf")
    status, body = await raw(emu, "sendDocument", data=form)
    assert status == 200 and body["result"]["document"]["file_name"] == "r.pdf"
    assert [m.content for m in sam.messages[:2]] == ["json", "form"]
    assert sam.messages[0].buttons == sam.messages[1].buttons == [("Go", "go")]


# --- updates -------------------------------------------------------------------------------------


async def test_a_users_message_arrives_via_get_updates_and_the_offset_confirms_it(emu: Emulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann", "ann")
    await ann.send("hello")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first] == ["hello"]
    assert first[0].message.chat.type == "private" and first[0].message.from_user.username == "ann"
    assert len(await bot.get_updates(timeout=0)) == 1, "unconfirmed updates are delivered again"
    await ann.send("again")
    second = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.message.text for u in second] == ["again"]
    assert second[0].message.message_id > first[0].message.message_id


async def test_a_long_poll_returns_as_soon_as_a_user_writes(emu: Emulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await ann.command("start", "INVITE42")
    updates = await asyncio.wait_for(poll, 1.0)
    message = updates[0].message
    assert message.text == "/start INVITE42"
    assert message.entities[0].type == "bot_command" and (message.entities[0].offset, message.entities[0].length) == (
        0,
        6,
    )


async def test_stickers_photos_voices_documents_and_edits_parse_as_ptb_objects(emu: Emulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    first = await ann.send("typo")
    await ann.send_sticker()
    await ann.send_photo(b"jpeg")
    await ann.send_voice(2)
    await ann.send_document("notes.txt", b"n")
    await ann.edit(first, "fixed")
    updates = await bot.get_updates(timeout=0)
    kinds = [u.effective_message.effective_attachment.__class__.__name__ for u in updates[1:5]]
    assert kinds == ["Sticker", "tuple", "Voice", "Document"]
    assert updates[5].edited_message.text == "fixed" and updates[5].edited_message.edit_date is not None


async def test_message_dates_follow_the_injected_clock(emu: Emulator, bot: Bot) -> None:
    emu.clock = lambda: 1_767_225_600.0  # 2026-01-01T00:00Z
    await emu.user(7, "Ann").send("hi")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message.date == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def test_a_press_reaches_a_running_application_which_answers_and_edits(emu: Emulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_message("Ready?", reply_markup=keyboard(("Yes", "q1:yes"), ("No", "q1:no")))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("Noted", show_alert=True)
        await update.callback_query.edit_message_text(f"You said {update.callback_query.data}")

    app: Application = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).job_queue(None).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            sam = emu.user(42, "Sam", "sam")
            await sam.command("start")
            question = await sam.wait_for("Ready?")
            assert question.buttons == [("Yes", "q1:yes"), ("No", "q1:no")]
            query_id = await sam.press_button(question, "Yes")
            await sam.wait_for_edit(question, "You said q1:yes")
            assert question.buttons == [], "an edit without reply_markup removes the keyboard"
            answer = await sam.wait_for_answer(query_id)
            assert (answer.text, answer.show_alert, answer.data) == ("Noted", True, "q1:yes")
            assert emu.answered_callbacks == [answer]
        finally:
            await app.updater.stop()
            await app.stop()


# --- Telegram's refusals -----------------------------------------------------------------------


async def test_an_injected_429_surfaces_as_retry_after_then_the_send_goes_through(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    emu.inject("sendMessage", status=429, retry_after=3, times=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "hi")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert (await bot.send_message(42, "hi")).text == "hi"
    assert emu.stats.too_many_requests == 1


async def test_a_user_who_blocked_the_bot_is_forbidden_and_one_who_never_started_too(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    sam.block()
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(42, "hi")
    emu.user(43, "Quiet")
    with pytest.raises(Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(43, "hi")
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(44, "hi")
    await sam.send("I'm back")  # writing again restarts the bot
    assert (await bot.send_message(42, "welcome back")).text == "welcome back"
    kinds = [u.my_chat_member.new_chat_member.status for u in await bot.get_updates(timeout=0) if u.my_chat_member]
    assert kinds == ["kicked", "member"]


async def test_callback_data_over_64_bytes_is_button_data_invalid(bot: Bot, sam: SimUser) -> None:
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(42, "pick", reply_markup=keyboard(("A", "x" * 65)))
    await bot.send_message(42, "pick", reply_markup=keyboard(("A", "x" * 64)))


async def test_text_that_is_too_long_or_empty_is_refused(bot: Bot, sam: SimUser) -> None:
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(42, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(42, "   ")
    assert len((await bot.send_message(42, "a" * 4096)).text) == 4096


async def test_markup_the_real_api_rejects_is_rejected_and_good_html_becomes_entities(bot: Bot, sam: SimUser) -> None:
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "br"'):
        await bot.send_message(42, "a<br>b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Character '.' is reserved"):
        await bot.send_message(42, "Done.", parse_mode="MarkdownV2")
    sent = await bot.send_message(42, "<b>Hi</b> &amp; bye", parse_mode="HTML")
    assert sent.text == "Hi & bye" and sent.entities[0].type == "bold" and sent.entities[0].length == 2


async def test_edits_that_change_nothing_or_target_missing_messages_are_refused(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    emu.limits.per_chat_burst = 10  # five requests in one chat at once; the limits are tested below
    sent = await bot.send_message(42, "Q1", reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Q1", 42, sent.message_id, reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("Q9", 42, 9999)
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=None)
    assert sam.messages[-1].buttons == [] and sam.messages[-1].text == "Q1"
    await bot.delete_message(42, sent.message_id)
    assert sam.messages == []


async def test_commands_are_stored_per_scope(bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin"), ("help", "Help")])
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("start", "Begin"), ("help", "Help")]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad Command", "x")])


# --- flood limits --------------------------------------------------------------------------------


async def test_the_fourth_message_in_one_chat_within_a_second_is_refused_with_retry_after(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    for n in range(3):  # the default per-chat burst
        await bot.send_message(42, f"m{n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "one too many")
    assert caught.value.retry_after == dt.timedelta(seconds=1)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("edited", 42, sam.messages[0].message_id)  # edits count too
    assert emu.stats.messages_by_chat[42] == 3 and emu.stats.too_many_requests == 2


async def test_the_31st_message_in_a_second_across_chats_is_refused() -> None:
    frozen = FloodLimits(now=lambda: 0.0)  # no refill while the test runs, so the count is exact
    async with Emulator(token=TOKEN, limits=frozen) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
        users = [emu.user(1000 + n, f"U{n}") for n in range(31)]
        for user in users:
            await user.send("hi")
        for user in users[:30]:
            await bot.send_message(user.id, "quiz")
        with pytest.raises(RetryAfter):
            await bot.send_message(users[30].id, "quiz")
        assert sum(emu.stats.messages_by_chat.values()) == 30


async def test_the_busiest_and_the_average_second_are_counted_as_requests_arrive() -> None:
    clock = [0.0]
    async with (
        Emulator(token=TOKEN, limits=FloodLimits(enabled=False, now=lambda: clock[0])) as emu,
        Bot(TOKEN, base_url=emu.base_url) as bot,
        aiohttp.ClientSession(base_url=emu.url) as http,
    ):
        await emu.user(5, "Pat").send("hi")
        for t in (0.0, 0.5, 1.0, 1.2, 1.4, 3.0):
            clock[0] = t
            await bot.send_message(5, f"at {t}")
        async with http.get("/control/stats") as resp:
            stats = (await resp.json())["result"]
        # [0.5, 1.5) holds four; a window starting anywhere in [0, 2] holds 1.75 on average.
        assert stats["chat_requests"] == 6 and stats["busiest_second"] == 4
        assert stats["mean_second"] == pytest.approx(1.75)
        async with http.get("/control/stats/chat_request_times") as resp:
            assert (await resp.json())["result"] == [0.0, 0.5, 1.0, 1.2, 1.4, 3.0]


async def test_watchers_see_each_bot_message_as_it_is_sent_and_edited(emu: Emulator, bot: Bot, sam: SimUser) -> None:
    seen: list[tuple[int, str]] = []
    emu.state.watchers.append(lambda chat, msg: seen.append((chat.id, msg.content)))
    sent = await bot.send_message(42, "Q1")
    await bot.edit_message_text("Q1, answered", 42, sent.message_id)
    assert seen == [(42, "Q1"), (42, "Q1, answered")]


async def test_without_limits_a_burst_in_one_chat_passes() -> None:
    async with Emulator(token=TOKEN, limits=False) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
        await emu.user(5, "Pat").send("hi")
        await asyncio.gather(*(bot.send_message(5, f"m{n}") for n in range(40)))
        assert emu.stats.messages_by_chat[5] == 40 and emu.stats.too_many_requests == 0


async def test_per_chat_limits_are_configurable() -> None:
    async with Emulator(token=TOKEN, per_chat_burst=1) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
        await emu.user(5, "Pat").send("hi")
        await bot.send_message(5, "one")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "a second within a second")


# --- faults ------------------------------------------------------------------------------------


async def test_injected_server_errors_surface_as_network_errors(emu: Emulator, bot: Bot, sam: SimUser) -> None:
    emu.inject("sendMessage", status=500, times=1)
    emu.inject("sendMessage", status=502, times=1)
    for expected in ("Internal Server Error", "Bad Gateway"):
        with pytest.raises(NetworkError, match=expected):
            await bot.send_message(42, "hi")
    await bot.send_message(42, "hi")


async def test_a_slow_answer_times_out_and_a_dropped_connection_is_a_network_error(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    emu.inject("sendMessage", delay=1.0, times=1)
    with pytest.raises(TimedOut):
        await bot.send_message(42, "slow", read_timeout=0.2)
    emu.inject("sendMessage", drop=True, times=1)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(42, "dropped")
    assert not isinstance(caught.value, TimedOut)
    assert [m.text for m in sam.messages] == [], "neither faulty request was delivered"


async def test_a_fault_for_one_chat_leaves_others_alone_and_a_forbidden_fault_can_be_injected(
    emu: Emulator, bot: Bot, sam: SimUser
) -> None:
    ann = emu.user(7, "Ann")
    await ann.send("hi")
    rule = emu.inject("sendMessage", status=403, chat_id=7)
    await bot.send_message(42, "fine")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(7, "refused")
    assert rule.fired == 2
    emu.clear_faults()
    await bot.send_message(7, "fine again")


# --- webhooks ------------------------------------------------------------------------------------


async def test_a_webhook_receives_updates_with_the_secret_header_and_failed_pushes_are_retried() -> None:
    received: list[tuple[str | None, dict]] = []
    arrived = asyncio.Event()
    failures_left = 1

    async def hook(request: web.Request) -> web.Response:
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            return web.Response(status=500)
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        arrived.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with Emulator(token=TOKEN, webhook_retry_delay=0.05) as emu, Bot(TOKEN, base_url=emu.base_url) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
            with pytest.raises(Conflict):
                await bot.get_updates(timeout=0)
            await emu.user(7, "Ann").send("via webhook")
            await asyncio.wait_for(arrived.wait(), 2)
            assert received[0][0] == "s3cret" and received[0][1]["message"]["text"] == "via webhook"
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 0 and info.last_error_message.startswith("Wrong response")
            assert emu.stats.webhook_failures == 1 and emu.stats.webhook_pushes == 1
            await bot.delete_webhook()
            assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


# --- files ---------------------------------------------------------------------------------------


async def test_an_uploaded_document_and_photo_are_readable_byte_for_byte(bot: Bot, sam: SimUser) -> None:
    sent = await bot.send_document(42, b"col1,col2\n1,2\n", filename="results.csv", caption="Your results")
    await bot.send_photo(42, b"\x89PNG fake")
    document, photo = sam.messages
    assert (document.filename, document.document_bytes, document.caption) == (
        "results.csv",
        b"col1,col2\n1,2\n",
        "Your results",
    )
    assert photo.photo_bytes == b"\x89PNG fake"
    assert sent.document.file_name == "results.csv"
    await bot.send_document(42, sent.document.file_id)  # re-sending by file_id reuses the stored file
    assert sam.messages[-1].document_bytes == b"col1,col2\n1,2\n"


# --- groups & the control API ------------------------------------------------------------------


async def test_a_group_message_comes_from_a_group_chat(emu: Emulator, bot: Bot) -> None:
    await emu.group(-100, "Board").command(emu.user(7, "Ann"), "start")
    (update,) = await bot.get_updates(timeout=0)
    assert update.effective_chat.type == "group" and update.effective_chat.title == "Board"
    await bot.send_message(-100, "I only work in private chats")
    assert emu.group(-100).messages[0].text == "I only work in private chats"


async def test_the_http_control_api_drives_users_and_reads_what_they_received(emu: Emulator, bot: Bot) -> None:
    async with aiohttp.ClientSession(base_url=emu.url) as http:

        async def call(method: str, path: str, body: dict | None = None) -> dict:
            async with http.request(method, "/control" + path, json=body) as resp:
                return await resp.json()

        sent = await call("POST", "/users/77/command", {"command": "start", "args": ["TOK"], "first_name": "Val"})
        assert sent["ok"] and sent["result"]["text"] == "/start TOK"
        (update,) = await bot.get_updates(timeout=0)
        assert update.message.from_user.first_name == "Val"
        await bot.send_message(77, "Pick one", reply_markup=keyboard(("Red", "c:red")))
        waited = await call("POST", "/users/77/wait_for", {"contains": "Pick", "timeout": 1})
        assert waited["result"]["buttons"] == [["Red", "c:red"]]
        query_id = (
            await call("POST", "/users/77/press", {"message_id": waited["result"]["message_id"], "button": "Red"})
        )["result"]
        updates = await bot.get_updates(offset=update.update_id + 1, timeout=0)
        assert updates[0].callback_query.id == query_id and updates[0].callback_query.data == "c:red"
        timeout = await call("POST", "/users/77/wait_for", {"contains": "never", "timeout": 0.05})
        assert timeout["error_code"] == 408
        rule = await call("POST", "/faults", {"method": "sendMessage", "status": 429, "retry_after": 2, "times": 1})
        assert rule["ok"]
        with pytest.raises(RetryAfter):
            await bot.send_message(77, "limited")
        stats = (await call("GET", "/stats"))["result"]
        assert stats["too_many_requests"] == 1 and stats["messages_by_chat"] == {"77": 1}
        assert [m["text"] for m in (await call("GET", "/users/77/messages"))["result"]] == ["Pick one"]
