"""Callback data for inline buttons: the one home of their kinds (prefixes); compact, ≤ 64 bytes, parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64  # Telegram refuses longer callback data with BUTTON_DATA_INVALID.


class Kind(StrEnum):
    """What a button does: the one-letter prefix of its callback data."""

    ANSWER = "a"  # check-in, item index, choice index
    START = "s"  # start the check-in now
    SNOOZE = "z"  # remind me tomorrow
    CONSENT = "y"  # agree to the invite with this token
    DECLINE = "n"  # decline the invite
    CONFIRM = "c"  # confirm /stop or /delete (acts on the presser's own chat only)
    PROFILE = "p"  # self-enrolment profile: enrolment, ProfileField, choice index
    ADMIN = "x"  # admin wizard step and value
    LANGUAGE = "l"  # Cymraeg / English: a language, and the invite token when chosen before consenting
    IN_DEPTH = "d"  # in-depth follow-up: draw id, then yes / no / a case-study theme
    CPD = "r"  # the CPD record: ask for it, or skip the name (acts on the presser's own chat only)


class ProfileField(StrEnum):
    """Which self-enrolment question a profile button answers: the enrolment column it fills."""

    ROLE = "role"
    AGENCY = "agency"


# kind → the arguments after "kind:". Every reference is to a check-in id; the handler then
# checks that the check-in belongs to the pressing chat, so forged data cannot reach anyone else.
_ARGUMENTS = {
    Kind.ANSWER: r"(\d{1,12}):(\d{1,3}):(\d{1,2})",
    Kind.START: r"(\d{1,12})",
    Kind.SNOOZE: r"(\d{1,12})",
    # The consent request's language rides on Agree: nothing is stored about someone before they agree.
    Kind.CONSENT: r"([A-Za-z0-9_-]{16,64})(?::(cy|en))?",
    Kind.DECLINE: r"([A-Za-z0-9_-]{16,64})(?::(cy|en))?",
    Kind.CONFIRM: r"(stop|erase|keep)",
    Kind.PROFILE: rf"(\d{{1,12}}):({'|'.join(ProfileField)}):(\d{{1,2}})",
    Kind.ADMIN: r"([a-z_]{1,20}):([A-Za-z0-9_@.-]{0,48})",  # a 40-char slug + "@version" fits
    Kind.LANGUAGE: r"(cy|en)(?::([A-Za-z0-9_-]{16,59}))?",
    Kind.IN_DEPTH: r"(\d{1,12}):([a-z]{1,12})",
    Kind.CPD: r"(ask|skip)",
}
_PATTERNS = {kind: re.compile(f"{kind}:{arguments}") for kind, arguments in _ARGUMENTS.items()}


def handler_pattern(*kinds: Kind) -> str:
    """The regex a CallbackQueryHandler matches for presses of these kinds, e.g. '^(?:y|n):'."""
    return f"^(?:{'|'.join(kinds)}):"


@dataclass(frozen=True)
class Callback:
    """A parsed button press."""

    kind: Kind
    args: tuple[str, ...]

    @property
    def check_in_id(self) -> int:
        """The check-in a press refers to (answer, start, snooze)."""
        return int(self.args[0])


def encode(kind: Kind, *args: object) -> str:
    """Build callback data; raises ValueError if it would be invalid or too long."""
    data = ":".join([kind, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES or parse(data) is None:
        raise ValueError(f"invalid callback data {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """Parse callback data; None for anything malformed or forged beyond recognition."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    pattern = _PATTERNS.get(data[0])  # a Kind is its letter, so the letter finds it
    match = pattern.fullmatch(data) if pattern else None
    # An optional argument left out (a consent button without its language) is not an argument.
    return Callback(Kind(data[0]), tuple(g for g in match.groups() if g is not None)) if match else None
