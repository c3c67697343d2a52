"""Reads Bot API parameters the three ways clients send them: query/form, multipart, JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    content_type: str | None


class Params:
    """Parameter access that tolerates PTB's encoding: every value a string, JSON inside for objects."""

    def __init__(self, values: dict[str, Any] | None = None, uploads: dict[str, Upload] | None = None) -> None:
        self.values = values or {}
        self.uploads = uploads or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        ctype = request.content_type
        if request.can_read_body:
            if ctype == "application/json":
                try:
                    body = json.loads(await request.read() or b"{}")
                except ValueError as exc:
                    raise bad_request("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
                values.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.filename, value.file.read(), value.content_type)
                    else:
                        values[key] = value
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.uploads

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def json(self, name: str, error: str | None = None) -> Any:
        """A JSON-valued parameter: decoded if sent as a string (form/multipart), as-is from JSON bodies."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> int | str | None:
        """chat_id as int, or an '@username' string."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def file(self, name: str) -> Upload | str | None:
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.uploads.get(value.removeprefix("attach://"))
        return value
