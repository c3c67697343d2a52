"""The texts of a quiz set in several languages: where texts are, and splitting a bilingual set into one language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

# Names used in validation messages ("no Welsh (cy) text"); any other code is named by itself.
LANGUAGE_NAMES = {"en": "English", "cy": "Welsh"}
# Exports, the codebook and reports read a bilingual set in English (issue 14): it is the set's own view.
PRIMARY = "en"
# Texts of the set and of each item that may be given per language; `labels` (Likert) is a list per language.
SET_TEXTS = ("title", "description", "intro")
ITEM_TEXTS = ("text", "explanation", "barrier", "unit")
# Stands in for a primary text that is missing: the set is refused anyway (checks.language_problems says why),
# and the schema should not report the same gap a second time.
_MISSING = "?"

Path = tuple[str | int, ...]


def language_name(code: str) -> str:
    """ "Welsh (cy)", for messages."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else f"'{code}'"


def primary_of(codes: Sequence[str]) -> str:
    """The language a set's own attributes are in: English when the set has it, else its first language."""
    return PRIMARY if PRIMARY in codes or not codes else codes[0]


def code_of(language_tag: str) -> str:
    """The language code of a BCP 47 tag as the one-language `language` key gives it ("en-GB" → "en")."""
    return language_tag.split("-", 1)[0].strip().lower()


def declared(data: Mapping) -> tuple[str, ...] | None:
    """The codes of `languages:` when it is a list of texts, else None."""
    found = data.get("languages")
    if isinstance(found, Sequence) and not isinstance(found, str):
        return tuple(str(code) for code in found)
    return None


def text_slots(data: Mapping) -> Iterator[tuple[Path, object, bool]]:
    """(path, value, is_button) of every text a set may give per language, as written."""
    for key in SET_TEXTS:
        if key in data:
            yield (key,), data[key], False
    items = data.get("items")
    if not isinstance(items, Sequence) or isinstance(items, str):
        return
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        for key in ITEM_TEXTS:
            if key in item:
                yield ("items", i, key), item[key], False
        options = item.get("options")
        if isinstance(options, Sequence) and not isinstance(options, str):
            for k, option in enumerate(options):
                if isinstance(option, Mapping) and "label" in option:
                    yield ("items", i, "options", k, "label"), option["label"], True
        if "labels" in item:
            yield ("items", i, "labels"), item["labels"], True


def _plain_copy(node: object) -> object:
    if isinstance(node, Mapping):
        return {key: _plain_copy(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain_copy(value) for value in node]
    return node


def _filled(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_filled(v) for v in value)
    return value is not None


def set_at(data: dict, path: Path, value: object) -> None:
    """Put `value` at `path` of plain data (the path exists)."""
    node: object = data
    for part in path[:-1]:
        node = node[part]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]


def split(data: Mapping) -> tuple[dict, dict[Path, dict[str, object]]]:
    """A copy of the data with each per-language text replaced by its primary one, and the per-language texts by path.

    A one-language set comes back as it is, with no translations.
    """
    codes = declared(data)
    copy = _plain_copy(data)
    assert isinstance(copy, dict)
    if codes is None:
        return copy, {}
    primary = primary_of(codes)
    translations: dict[Path, dict[str, object]] = {}
    for path, value, button in text_slots(copy):
        if not isinstance(value, Mapping):
            continue
        texts = {str(code): text for code, text in value.items()}
        translations[path] = texts
        chosen = texts.get(primary)
        if not _filled(chosen):
            chosen = next((text for text in texts.values() if _filled(text)), None)
        if chosen is None:
            chosen = [_MISSING] * 5 if path[-1] == "labels" else _MISSING
        set_at(copy, path, chosen)
    return copy, translations
