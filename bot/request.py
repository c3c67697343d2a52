"""An aiohttp transport for python-telegram-bot (PTB's BaseRequest extension point).

Why: PTB's default httpx stack spends most of a busy bot's CPU in httpx/httpcore (a failing
`import sniffio` per request without sniffio, and a scan of a 256-connection pool); aiohttp's
keep-alive pool is far cheaper per request. Errors map exactly as PTB's own HTTPXRequest maps
them, so PTB's retry and error logic is unchanged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.logging import redact

# PTB passes its DEFAULT_NONE sentinel (or another of its default markers) when the caller gave
# no timeout; its class is reached through the public BaseRequest attribute, not PTB's _utils.
_DEFAULT = type(BaseRequest.DEFAULT_NONE)
Timeout = float | None | object  # a number of seconds, None (no limit), or PTB's default marker


def _seconds(value: Timeout, default: float | None) -> float | None:
    return default if isinstance(value, _DEFAULT) else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    """PTB requests over one aiohttp session with a small keep-alive pool."""

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read, self._write, self._connect = read_timeout, write_timeout, connect_timeout
        self._pool, self._media_write = pool_timeout, media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB adds to long-polling timeouts."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, raise_for_status=False
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; timeouts → TimedOut, other transport errors → NetworkError."""
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        write = _seconds(write_timeout, self._media_write if files else self._write)
        read = _seconds(read_timeout, self._read)
        connect = _seconds(connect_timeout, self._connect)
        pool = _seconds(pool_timeout, self._pool)
        # aiohttp has no separate write timeout: bound the whole exchange by the sum, as the
        # slowest legitimate request would need (pool wait + connect + upload + answer).
        parts = [t for t in (pool, connect, write, read) if t is not None]
        total = sum(parts) if len(parts) == 4 else None
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = _multipart(fields, files) if files else _form(fields)
        # A multipart body brings its own Content-Type (with its boundary).
        headers = _FORM_TYPE if isinstance(body, bytes) else None
        try:
            async with self._session.request(method, url, data=body, timeout=timeout, headers=headers) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # Some aiohttp errors quote the URL, which holds the token; this text can end up in a
            # log or in a check-in's last_error.
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {redact(str(err))}") from err


_FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def _form(fields: dict[str, str] | None) -> bytes | None:
    # The urlencoded body aiohttp's FormData would make, without the FormData: for plain fields it
    # still builds a MultipartWriter, whose uuid4 boundary reads os.urandom on every request
    # (~3 % of the bot's CPU at saturation, bench/README.md, conversation).
    return urlencode(fields).encode() if fields else None


def _multipart(fields: dict[str, str] | None, files: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in (fields or {}).items():
        form.add_field(name, value)
    for name, upload in files.items():
        # PTB gives (filename, content, mimetype) tuples, or bare content for thumbnails etc.
        if isinstance(upload, tuple):
            filename, content, *rest = upload
            form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
        else:
            form.add_field(name, upload)
    return form
