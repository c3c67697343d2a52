"""The aiohttp application: routes /bot<token>/<method> through faults, methods and counters."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError
from .params import Params

if TYPE_CHECKING:
    from .emulator import Emulator

_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's bot upload limit


def build_app(emu: Emulator) -> web.Application:
    from .control import add_control_routes

    app = web.Application(client_max_size=MAX_UPLOAD)

    async def bot_api(request: web.Request) -> web.StreamResponse:
        return await _handle(emu, request)

    async def file_download(request: web.Request) -> web.StreamResponse:
        return _download(emu, request)

    app.router.add_route("*", r"/bot{token}/{method}", bot_api)
    app.router.add_get(r"/file/bot{token}/documents/{file_id}", file_download)
    add_control_routes(app, emu)
    return app


def _reply(emu: Emulator, status: int, body: dict[str, Any]) -> web.Response:
    emu.stats.responses_by_status[status] += 1
    return web.json_response(body, status=status)


async def _handle(emu: Emulator, request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    method = request.match_info["method"]
    if token not in emu.tokens:
        # Telegram: well-formed but wrong token -> 401, garbage -> 404.
        status = 401 if _TOKEN_SHAPE.match(token) else 404
        return web.json_response(ApiError(status).body(), status=status)
    emu.stats.requests_by_method[method] += 1
    try:
        params = await Params.from_request(request)
        handler = emu.api.handler(method)
        if handler is None:
            raise ApiError(404, "Not Found")
        chat_id = params.chat_id() if params.has("chat_id") else None
        rule = emu.faults.take(method, chat_id if isinstance(chat_id, int) else None)
        if rule is not None:
            if rule.delay:
                await asyncio.sleep(rule.delay)
            if rule.drop:
                return _drop(request)
            if rule.status:
                retry_after = rule.retry_after if rule.retry_after is not None or rule.status != 429 else 1
                raise ApiError(rule.status, rule.description, retry_after=retry_after)
        if chat_id is not None:
            # Every request that names a chat counts towards the limits, whatever it then answers.
            retry_after = emu.flood.acquire(chat_id)
            if retry_after is not None:
                raise ApiError(429, retry_after=retry_after)
        result = await handler(params)
    except ApiError as err:
        return _reply(emu, err.status, err.body())
    return _reply(emu, 200, {"ok": True, "result": result})


def _download(emu: Emulator, request: web.Request) -> web.Response:
    """A file stored by an upload (getFile's file_path), as Telegram's file server returns it."""
    stored = emu.state.files.get(request.match_info["file_id"])
    if request.match_info["token"] not in emu.tokens or stored is None:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)
    return web.Response(body=stored.data, content_type="application/octet-stream")


def _drop(request: web.Request) -> web.StreamResponse:
    """Hang up without a response, as a flaky proxy would."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp's write of this response fails with ConnectionError, which it ignores quietly.
    return web.Response()
