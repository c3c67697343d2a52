"""Rules that span a whole quiz set (ids, waves, tags, texts), checked on plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import TemplateError

from surveys.domain.quiz_text import longest_context, render, template_problems
from surveys.domain.waves import is_wave

TELEGRAM_MAX_TEXT = 4096
# Feedback wraps the explanation ("Not quite: the answer is …. "), so leave it some room.
FEEDBACK_HEADROOM = 100


@dataclass(frozen=True)
class Problem:
    """A problem found at a path of keys and indexes into the set's data."""

    path: tuple[str | int, ...]
    message: str


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _scored(item: Mapping) -> bool:
    kind = item.get("kind")
    return kind == "true_false" or (kind == "single_choice" and item.get("correct") is not None)


def _text_problems(path: tuple, text: object, waves: list[str], limit: int, templated: bool) -> list[Problem]:
    if not isinstance(text, str):
        return []  # the schema reports the wrong type
    if templated:
        found = template_problems(text)
        if found:
            return [Problem(path, message) for message in found]
        try:
            text = render(text, longest_context(waves))
        except TemplateError as exc:
            return [Problem(path, f"cannot render the text: {exc}")]
    if len(text) > limit:
        how = " after rendering with the longest course title" if templated else ""
        return [Problem(path, f"text is {len(text)} characters{how}; the limit is {limit}")]
    return []


def _wave_problems(data: Mapping, items: list) -> list[Problem]:
    set_waves = data.get("waves")
    if not _is_list(set_waves):
        return []
    problems: list[Problem] = []
    seen: set = set()
    for k, wave in enumerate(set_waves):
        if wave in seen:
            problems.append(Problem(("waves", k), f"wave '{wave}' is listed twice"))
        seen.add(wave)
    known = ", ".join(str(w) for w in set_waves)
    used: set = set()
    for i, item in enumerate(items):
        waves = item.get("waves") if isinstance(item, Mapping) else None
        if not _is_list(waves):
            continue
        for j, wave in enumerate(waves):
            used.add(wave)
            if wave not in seen:
                problems.append(
                    Problem(("items", i, "waves", j), f"wave '{wave}' is not one of the set's waves ({known})")
                )
    for k, wave in enumerate(set_waves):
        if wave not in used and isinstance(wave, str) and is_wave(wave):
            problems.append(Problem(("waves", k), f"no item is asked at wave '{wave}'"))
    return problems


def _item_problems(i: int, item: Mapping, waves: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    tags = item.get("tags")
    if _is_list(tags):
        if _scored(item) and "knowledge" not in tags:
            problems.append(Problem(("items", i, "tags"), "an item with a correct answer must be tagged 'knowledge'"))
        if not _scored(item) and "knowledge" in tags:
            problems.append(Problem(("items", i, "tags"), "an item tagged 'knowledge' needs a correct answer"))
    problems += _text_problems(("items", i, "text"), item.get("text"), waves, TELEGRAM_MAX_TEXT, True)
    problems += _text_problems(
        ("items", i, "explanation"), item.get("explanation"), waves, TELEGRAM_MAX_TEXT - FEEDBACK_HEADROOM, True
    )
    return problems


def set_problems(data: Mapping) -> list[Problem]:
    """Every set-level problem in the data, tolerating parts the schema will reject anyway."""
    items = data.get("items")
    items = list(items) if _is_list(items) else []
    set_waves = data.get("waves")
    waves = [w for w in set_waves if isinstance(w, str) and is_wave(w)] if _is_list(set_waves) else []
    problems = _wave_problems(data, items)
    problems += _text_problems(("intro",), data.get("intro"), waves, TELEGRAM_MAX_TEXT, True)
    problems += _text_problems(("description",), data.get("description"), waves, TELEGRAM_MAX_TEXT, False)
    first_use: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in first_use:
                problems.append(
                    Problem(
                        ("items", i, "id"), f"duplicate id '{item_id}' (first used by item {first_use[item_id] + 1})"
                    )
                )
            else:
                first_use[item_id] = i
        problems += _item_problems(i, item, waves)
    return problems
