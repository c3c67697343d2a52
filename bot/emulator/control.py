"""HTTP control API (/control/...): the simulated-user API for out-of-process demos and benches."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .state import ChatMessage

if TYPE_CHECKING:
    from .emulator import Emulator
    from .users import SimUser

Body = dict[str, Any]


def describe(msg: ChatMessage) -> dict[str, Any]:
    """Telegram JSON of a message plus what a test wants: buttons, full markup, file bytes, history."""
    out = msg.to_dict()
    out["buttons"] = [list(b) for b in msg.buttons]
    out["full_reply_markup"] = msg.reply_markup
    out["history"] = msg.history
    if msg.document is not None:
        out["document_base64"] = base64.b64encode(msg.document.data).decode()
    if msg.photo is not None:
        out["photo_base64"] = base64.b64encode(msg.photo.data).decode()
    return out


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _fail(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)


async def _body(request: web.Request) -> Body:
    if not request.can_read_body:
        return {}
    data = json.loads(await request.read() or b"{}")
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def _b64(body: Body, key: str, default: bytes = b"") -> bytes:
    return base64.b64decode(body[key]) if body.get(key) else default


async def _user_action(emu: Emulator, user: SimUser, action: str, body: Body) -> Any:
    def message(key: str = "message_id") -> ChatMessage:
        msg = user.chat.find(int(body[key]))
        if msg is None:
            raise LookupError(f"no message {body[key]} in chat {user.id}")
        return msg

    if action == "send":
        return describe(await user.send(body["text"]))
    if action == "command":
        return describe(await user.command(body["command"], *body.get("args", [])))
    if action == "sticker":
        return describe(await user.send_sticker(body.get("emoji", "👍")))
    if action == "photo":
        return describe(await user.send_photo(_b64(body, "data_base64", b"\x89PNG\r\n\x1a\n"), body.get("caption")))
    if action == "voice":
        return describe(await user.send_voice(int(body.get("duration", 3))))
    if action == "document":
        return describe(
            await user.send_document(
                body["filename"], _b64(body, "data_base64"), body.get("mime_type"), body.get("caption")
            )
        )
    if action == "edit":
        return describe(await user.edit(message(), body["text"]))
    if action == "press":
        if "button" in body:
            return await user.press_button(message(), body["button"])
        return await user.press(message(), body.get("data"))
    if action == "block":
        user.block()
        return True
    if action == "unblock":
        user.unblock()
        return True
    if action == "mark_read":
        user.mark_read()
        return True
    if action == "wait_for":
        contains = body.get("contains")
        return describe(await user.wait_for(contains, timeout=float(body.get("timeout", 5.0))))
    if action == "wait_for_answer":
        return asdict(await user.wait_for_answer(body["callback_query_id"], timeout=float(body.get("timeout", 5.0))))
    raise LookupError(f"unknown user action {action!r}")


def add_control_routes(app: web.Application, emu: Emulator) -> None:
    def route(method: str, path: str, fn: Callable[[web.Request, Body], Awaitable[Any]]) -> None:
        async def handler(request: web.Request) -> web.Response:
            try:
                return _ok(await fn(request, await _body(request)))
            except TimeoutError as exc:
                return _fail(408, str(exc))
            except (KeyError, ValueError, LookupError, TypeError) as exc:
                return _fail(400, f"{exc.__class__.__name__}: {exc}")

        app.router.add_route(method, "/control" + path, handler)

    def user_of(request: web.Request, body: Body) -> SimUser:
        return emu.user(int(request.match_info["user_id"]), body.get("first_name"), body.get("username"))

    async def create_user(request: web.Request, body: Body) -> Any:
        return emu.user(int(body["user_id"]), body.get("first_name"), body.get("username")).profile

    async def user_action(request: web.Request, body: Body) -> Any:
        return await _user_action(emu, user_of(request, body), request.match_info["action"], body)

    async def user_messages(request: web.Request, body: Body) -> Any:
        return [describe(m) for m in user_of(request, body).messages]

    async def group_send(request: web.Request, body: Body) -> Any:
        group = emu.group(int(request.match_info["chat_id"]), body.get("title", "Test group"))
        return describe(await group.send(emu.user(int(body["user_id"])), body["text"]))

    async def group_messages(request: web.Request, body: Body) -> Any:
        return [describe(m) for m in emu.group(int(request.match_info["chat_id"])).messages]

    async def stats(request: web.Request, body: Body) -> Any:
        return {**emu.stats.snapshot(), **emu.chat_request_figures()}

    async def chat_request_times(request: web.Request, body: Body) -> Any:
        # Arrival times (this host's monotonic clock) of the requests that named a chat and went through.
        return list(emu.flood.times)

    async def reset_stats(request: web.Request, body: Body) -> Any:
        emu.stats.reset()
        emu.flood.times.clear()
        return True

    async def add_fault(request: web.Request, body: Body) -> Any:
        allowed = {"method", "status", "retry_after", "description", "delay", "drop", "times", "chat_id"}
        return asdict(emu.inject(**{k: v for k, v in body.items() if k in allowed}))

    async def clear_faults(request: web.Request, body: Body) -> Any:
        emu.clear_faults()
        return True

    async def callback_answers(request: web.Request, body: Body) -> Any:
        return [asdict(a) for a in emu.answered_callbacks]

    async def updates(request: web.Request, body: Body) -> Any:
        return emu.pending_updates

    async def set_clock(request: web.Request, body: Body) -> Any:
        # {"time": ts} freezes message dates at ts; {"offset": s} shifts real time; {} restores it.
        if "time" in body:
            fixed = float(body["time"])
            emu.clock = lambda: fixed
        elif "offset" in body:
            offset = float(body["offset"])
            emu.clock = lambda: time.time() + offset
        else:
            emu.clock = time.time
        return emu.clock()

    async def set_limits(request: web.Request, body: Body) -> Any:
        for key in ("enabled", "global_rate", "window", "per_chat_rate", "per_chat_burst"):
            if key in body:
                setattr(emu.limits, key, body[key])
        emu.flood.reset()
        return {k: v for k, v in asdict(emu.limits).items() if k != "now"}

    route("POST", "/users", create_user)
    route("GET", "/users/{user_id}/messages", user_messages)
    route("POST", "/users/{user_id}/{action}", user_action)
    route("POST", "/groups/{chat_id}/send", group_send)
    route("GET", "/groups/{chat_id}/messages", group_messages)
    route("GET", "/stats", stats)
    route("POST", "/stats/reset", reset_stats)
    route("GET", "/stats/chat_request_times", chat_request_times)
    route("POST", "/faults", add_fault)
    route("DELETE", "/faults", clear_faults)
    route("GET", "/callback_answers", callback_answers)
    route("GET", "/updates", updates)
    route("POST", "/clock", set_clock)
    route("POST", "/limits", set_limits)
