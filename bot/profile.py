"""Self-enrolment's two questions (role, then agency) as buttons from the configured lists."""

from __future__ import annotations

from bot import callbacks
from bot.callbacks import ProfileField
from bot.texts import chat_texts, has_label, label, render_text
from surveys.domain.names import match, normalise
from surveys.settings import Settings
from surveys.store.models import Enrolment

PER_ROW = 2  # "residential care" and "children's services" fit two to a row on a phone


def options(settings: Settings, field: str) -> tuple[str, ...]:
    """The configured names for a field (roles or agencies), already lower-cased."""
    return settings.roles if field == ProfileField.ROLE else settings.agencies


def missing_field(enrolment: Enrolment) -> ProfileField | None:
    """Which question comes next: role first, then agency; None when both are known."""
    if enrolment.role is None:
        return ProfileField.ROLE
    if enrolment.agency is None:
        return ProfileField.AGENCY
    return None


Rows = list[list[tuple[str, str]]]


def question(settings: Settings, enrolment: Enrolment, field: str, *, again: bool = False) -> tuple[str, Rows]:
    """The role or agency question, and (label, callback data) buttons two to a row."""
    names = options(settings, field)
    buttons = [
        (shown(field, name), callbacks.encode(callbacks.Kind.PROFILE, enrolment.id, field, n))
        for n, name in enumerate(names)
    ]
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return render_text("profile.txt", field=field, again=again), rows


def answered(field: str, value: str) -> str:
    """The question once answered: what was chosen."""
    return render_text("profile.txt", field=field, chosen=shown(field, value))


def typed(settings: Settings, field: str, text: str) -> str | None:
    """The configured name a typed answer stands for: the name itself, or its button's words in either language."""
    names = options(settings, field)
    found = match(text, names)
    if found is not None:
        return found
    said = normalise(text)
    return next((name for name in names if said in {normalise(w) for w in _in_every_language(field, name)}), None)


def _in_every_language(field: str, name: str) -> frozenset[str]:
    key = f"{field}.{name}"
    return chat_texts().in_every_language(key) if has_label(key) else frozenset()


def shown(field: str, name: str) -> str:
    """A configured role or agency as its button says it, in the current language (labels.yaml), else as configured."""
    key = f"{field}.{name}"
    return label(key) if has_label(key) else name.capitalize()
