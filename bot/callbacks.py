"""Callback data for inline buttons: compact, ≤ 64 bytes, parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram refuses longer callback data with BUTTON_DATA_INVALID.

# kind → (pattern, meaning). Every reference is to a check-in id; the handler then checks
# that the check-in belongs to the pressing chat, so forged data cannot reach anyone else.
_PATTERNS = {
    "a": re.compile(r"a:(\d{1,12}):(\d{1,3}):(\d{1,2})"),  # answer: check-in, item index, choice index
    "s": re.compile(r"s:(\d{1,12})"),  # start the check-in now
    "z": re.compile(r"z:(\d{1,12})"),  # remind me tomorrow
    "y": re.compile(r"y:([A-Za-z0-9_-]{16,64})"),  # consent to the invite with this token
    "n": re.compile(r"n:([A-Za-z0-9_-]{16,64})"),  # decline the invite
    "c": re.compile(r"c:(stop|erase|keep)"),  # confirm /stop or /delete (acts on the presser's own chat only)
    "p": re.compile(r"p:(\d{1,12}):([rg]):(\d{1,2})"),  # self-enrolment profile: enrolment, role/agency, choice index
    "x": re.compile(r"x:([a-z_]{1,20}):([A-Za-z0-9_@.-]{0,48})"),  # admin wizard step and value (a 40-char slug + "@version" fits)
}


@dataclass(frozen=True)
class Callback:
    """A parsed button press."""

    kind: str
    args: tuple[str, ...]

    @property
    def check_in_id(self) -> int:
        """The check-in a press refers to (answer, start, snooze)."""
        return int(self.args[0])


def encode(kind: str, *args: object) -> str:
    """Build callback data; raises ValueError if it would be invalid or too long."""
    data = ":".join([kind, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES or parse(data) is None:
        raise ValueError(f"invalid callback data {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """Parse callback data; None for anything malformed or forged beyond recognition."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    pattern = _PATTERNS.get(data[0])
    match = pattern.fullmatch(data) if pattern else None
    return Callback(data[0], match.groups()) if match else None
