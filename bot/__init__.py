"""Telegram and the app: handlers, messenger, CLI and the Bot API emulator."""

import os

# Opt in to PTB 22's timedelta durations (RetryAfter.retry_after etc.) before telegram is
# imported anywhere: the float form is deprecated and warns on every access.
os.environ.setdefault("PTB_TIMEDELTA", "1")
