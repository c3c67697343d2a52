"""Rules that span a whole quiz set (ids, waves, tags, texts, show_if, commitments), checked on plain data."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import TemplateError

from surveys.domain import commitments
from surveys.domain.quiz_text import longest_context, render, template_problems
from surveys.domain.quizset.languages import declared, language_name, primary_of, text_slots
from surveys.domain.waves import is_wave, order_key

TELEGRAM_MAX_TEXT = 4096
MAX_BUTTON_LABEL = 40
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
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
    if isinstance(text, Mapping):  # one text per language: each is rendered and measured
        return [
            problem
            for code, each in text.items()
            for problem in _text_problems((*path, code), each, waves, limit, templated)
        ]
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
    problems += _reference_problems(items)
    problems += language_problems(data)
    return problems


def _empty(text: object) -> bool:
    return text is None or (isinstance(text, str) and not text.strip())


def _button_problems(path: tuple, labels: object, code: str, likert: bool) -> list[Problem]:
    """A translation's button labels: present, at most MAX_BUTTON_LABEL characters, five for a Likert scale."""
    if likert and (not _is_list(labels) or len(labels) != 5):  # type: ignore[arg-type]
        found = len(labels) if _is_list(labels) else "none"  # type: ignore[arg-type]
        return [Problem(path, f"a Likert item needs exactly 5 {language_name(code)} labels, found {found}")]
    problems = []
    for k, label in enumerate(labels if likert else [labels]):  # type: ignore[union-attr]
        where = (*path, k) if likert else path
        if _empty(label):
            problems.append(Problem(where, f"no {language_name(code)} text"))
        elif len(str(label)) > MAX_BUTTON_LABEL:
            problems.append(
                Problem(
                    where,
                    f"{language_name(code)} label is {len(str(label))} characters; "
                    f"buttons allow at most {MAX_BUTTON_LABEL}: {str(label)!r}",
                )
            )
    return problems


def language_problems(data: Mapping) -> list[Problem]:
    """Every text in every language of `languages:` (and nowhere else), buttons short enough in each."""
    codes = declared(data)
    if codes is None:
        if data.get("languages") is not None:
            return []  # the schema reports the wrong type
        hint = "a text in several languages needs `languages: [en, cy]` at the top of the set"
        return [Problem(path, hint) for path, value, _ in text_slots(data) if isinstance(value, Mapping)]
    problems: list[Problem] = []
    for k, code in enumerate(codes):
        if not LANGUAGE_CODE.fullmatch(code):
            problems.append(Problem(("languages", k), f"language {code!r} must be a code such as en or cy"))
        elif code in codes[:k]:
            problems.append(Problem(("languages", k), f"language '{code}' is listed twice"))
    if "language" in data:
        problems.append(Problem(("language",), "a set with `languages:` takes no `language:` key; drop it"))
    primary = primary_of(codes)
    listed = ", ".join(codes)
    for path, value, button in text_slots(data):
        if value is None:
            continue  # an optional text left out
        if not isinstance(value, Mapping):
            if len(codes) > 1:
                problems.append(
                    Problem(path, f"one text for {listed}: give each language its own, as {codes[0]}: … {codes[1]}: …")
                )
            continue
        for code in value:
            if str(code) not in codes:
                problems.append(Problem((*path, code), f"'{code}' is not one of the set's languages ({listed})"))
        for code in codes:
            if code not in value:
                problems.append(Problem(path, f"no {language_name(code)} text"))
            elif button and code != primary:  # the schema checks the primary language's buttons
                problems += _button_problems((*path, code), value[code], code, likert=path[-1] == "labels")
            elif _empty(value[code]):
                problems.append(Problem((*path, code), f"no {language_name(code)} text"))
    problems += _distinct_labels(data, codes, primary)
    return problems


def _distinct_labels(data: Mapping, codes: tuple[str, ...], primary: str) -> list[Problem]:
    """Two options of an item may not read the same in any language (a typed label must name one option)."""
    problems = []
    seen: dict[tuple, set[str]] = {}
    for path, value, button in text_slots(data):
        if not button or path[-1] != "label" or not isinstance(value, Mapping):
            continue
        for code in codes:
            text = value.get(code)
            if code == primary or not isinstance(text, str):
                continue
            squashed = " ".join(text.casefold().split())
            labels = seen.setdefault((path[1], code), set())
            if squashed in labels:
                problems.append(Problem((*path, code), f"two options read {text!r} in {language_name(code)}"))
            labels.add(squashed)
    return problems


def possible_values(item: Mapping) -> set[str] | None:
    """Every value an item can store (for show_if), or None when any text can be stored."""
    kind = item.get("kind")
    if kind == "single_choice":
        options = item.get("options")
        return {str(o.get("value")) for o in options if isinstance(o, Mapping)} if _is_list(options) else set()
    if kind == "true_false":
        return {"true", "false"}
    if kind == "yes_no":
        return {"yes", "no"}
    if kind == "likert":
        return {"1", "2", "3", "4", "5"}
    if kind == "number":
        low, high = item.get("min"), item.get("max")
        ok = isinstance(low, int) and isinstance(high, int) and high - low <= 10_000
        return {str(n) for n in range(low, high + 1)} if ok else None  # type: ignore[arg-type]
    if kind == "commitment_review":
        return set(commitments.STATUSES)
    if kind == "commitments":
        top = item.get("max", commitments.DEFAULT_MAX)
        return {str(n) for n in range(0, top + 1)} if isinstance(top, int) else None
    if kind == "commitment_reminder":
        return set()  # a message: nothing is ever stored
    return None


def _waves_of(item: Mapping) -> list[str]:
    found = item.get("waves")
    return [w for w in found if isinstance(w, str) and is_wave(w)] if _is_list(found) else []


def _reference_problems(items: list) -> list[Problem]:
    """show_if must point back at an item asked at the same waves, with values it can have; `of` at commitments."""
    problems: list[Problem] = []
    index = {item.get("id"): i for i, item in enumerate(items) if isinstance(item, Mapping)}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        problems += _show_if_problems(i, item, items, index)
        problems += _commitment_problems(i, item, items, index)
    return problems


def _show_if_problems(i: int, item: Mapping, items: list, index: dict) -> list[Problem]:
    show_if = item.get("show_if")
    if not isinstance(show_if, Mapping) or not isinstance(show_if.get("item"), str):
        return []  # absent, or the schema reports the wrong shape
    path = ("items", i, "show_if")
    target_id = show_if["item"]
    if target_id == item.get("id"):
        return [Problem((*path, "item"), f"show_if cannot depend on the item itself ('{target_id}')")]
    if target_id not in index:
        return [Problem((*path, "item"), f"show_if names item '{target_id}', which is not in the set")]
    j = index[target_id]
    if j > i:
        return [
            Problem(
                (*path, "item"),
                f"show_if names item '{target_id}', which comes later (item {j + 1}): it must point at an earlier item",
            )
        ]
    target = items[j]
    problems = []
    never = [w for w in _waves_of(item) if w not in _waves_of(target)]
    if never:
        problems.append(
            Problem(
                (*path, "item"),
                f"show_if names item '{target_id}', which is not asked at wave(s) {', '.join(never)}",
            )
        )
    if target.get("kind") == "commitment_reminder":
        problems.append(Problem((*path, "item"), f"item '{target_id}' is a reminder: it has no answer to test"))
        return problems
    allowed = possible_values(target)
    values = show_if.get("in")
    if allowed is not None and _is_list(values):
        for k, value in enumerate(values):
            if str(value) not in allowed:
                shown = ", ".join(sorted(allowed, key=lambda v: (len(v), v))[:12])
                problems.append(
                    Problem((*path, "in", k), f"item '{target_id}' can never be {str(value)!r} (it can be: {shown})")
                )
    return problems


def _commitment_problems(i: int, item: Mapping, items: list, index: dict) -> list[Problem]:
    kind = item.get("kind")
    if kind not in ("commitment_review", "commitment_reminder"):
        return []
    problems: list[Problem] = []
    if kind == "commitment_reminder":
        if item.get("show_if") is not None:
            problems.append(Problem(("items", i, "show_if"), "a commitment_reminder is a message: it takes no show_if"))
        for wave in _waves_of(item):
            others = [
                other.get("id")
                for other in items
                if isinstance(other, Mapping) and other.get("kind") != kind and wave in _waves_of(other)
            ]
            if others:
                problems.append(
                    Problem(
                        ("items", i, "waves"),
                        f"a commitment_reminder is a wave's only message: wave '{wave}' also asks "
                        f"{', '.join(map(str, others))}",
                    )
                )
    of = item.get("of")
    if not isinstance(of, str):
        return problems
    j = index.get(of)
    if j is None or not isinstance(items[j], Mapping) or items[j].get("kind") != "commitments":
        return [
            *problems,
            Problem(("items", i, "of"), f"'of' must name a commitments item of the set; '{of}' is not one"),
        ]
    made = _waves_of(items[j])
    first = min((order_key(w) for w in made), default=None)
    early = [w for w in _waves_of(item) if first is None or order_key(w) <= first]
    if early:
        problems.append(
            Problem(
                ("items", i, "waves"),
                f"wave(s) {', '.join(early)} come(s) no later than the first wave where '{of}' is asked: "
                "nothing to show back yet",
            )
        )
    return problems
