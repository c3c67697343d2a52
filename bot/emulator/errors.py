"""The error a Bot API method raises to answer like Telegram does ({"ok": false, ...})."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """A Telegram-shaped failure: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str | None = None, *, retry_after: int | None = None) -> None:
        self.status = status
        self.description = description or default_description(status, retry_after)
        self.retry_after = retry_after
        super().__init__(f"{status}: {self.description}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(status: int, retry_after: int | None = None) -> str:
    """The description Telegram's front end gives for a bare status code."""
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict",
        429: f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")
