"""Logging that keeps the promise: no token, and no practitioner's name or chat id, in any record."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from surveys.settings import Settings

REDACTED = "bot<redacted>"
# The token's shape (numeric bot id, colon, secret) wherever it appears: URLs, reprs, errors.
_TOKEN_SHAPE = re.compile(r"(?:bot)?\d{3,}:[A-Za-z0-9_-]{8,}")
_secrets: set[str] = set()
_installed = False
WITHHELD = "<withheld: may name a person>"
# python-telegram-bot's DEBUG records that print whole updates or API parameters — names,
# usernames, chat ids. Their first argument (the endpoint) is harmless and kept.
_PERSONAL_PTB_RECORDS = {
    "Processing update %s": 0,
    "Dropping pending update: %s": 0,
    "Webhook received data: %s": 0,
    "Calling Bot API endpoint `%s` with parameters `%s`": 1,
    "Call to Bot API endpoint `%s` finished with return value `%s`": 1,
    # ConversationHandler (/newcourse) names its conversation by (chat id, user id).
    "Selecting conversation %s with state %s": 0,
    "Conversation timeout was triggered for conversation %s!": 0,
}


def redact(text: str) -> str:
    """The text with any bot token (by shape, and each configured one) replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPE.sub(REDACTED, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    # Objects (URLs, exceptions) are rendered now so their text can be checked.
    try:
        text = str(value)
    except Exception:
        return "<unprintable>"
    cleaned = redact(text)
    return cleaned if cleaned != text else value


class TokenRedactor(logging.Filter):
    """Rewrites a record's message, arguments and traceback text so no token survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact one record in place (message, args, exception text; PTB's update dumps withheld)."""
    keep = _PERSONAL_PTB_RECORDS.get(record.msg) if isinstance(record.msg, str) else None
    if keep is not None and isinstance(record.args, tuple):
        record.args = tuple(a if i < keep else WITHHELD for i, a in enumerate(record.args))
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None:
        record.msg = _clean(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _clean(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


def install_redaction(*tokens: str) -> None:
    """Redact these tokens (and anything token-shaped) from every log record made from now on.

    A record factory, not only a handler filter, so handlers added later (pytest's caplog,
    a library's own) see clean records too. httpx/httpcore log each request URL, which holds
    the token, so they are also held at WARNING; aiosqlite's statement log at INFO.
    """
    global _installed
    _secrets.update(t for t in tokens if t)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters (chat ids among them) at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


def setup_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, every handler filtered for the token."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    install_redaction(token)
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenRedactor) for f in handler.filters):
            handler.addFilter(TokenRedactor())
