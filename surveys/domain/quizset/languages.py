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
# What a review asks after "partly" or "not yet" when the set does not say, per language.
DEFAULT_BARRIER = {"en": "What got in the way?", "cy": "Beth wnaeth eich rhwystro?"}
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


def _key(data: Mapping, path: Path) -> Path:
    """A path by item id and option value rather than position, so it survives items added or removed."""
    if path[0] != "items":
        return path
    item = data["items"][path[1]]
    key: Path = ("items", str(item.get("id")), *path[2:])
    if len(path) > 3 and path[2] == "options":
        key = (*key[:3], str(item["options"][path[3]].get("value")), *path[4:])
    return key


def locate(data: Mapping, key: Path) -> Path | None:
    """Where a key (see _key) is in plain data now, or None when its item or option is gone."""
    if key[0] != "items":
        return key if key[0] in data else None
    index = next((i for i, item in enumerate(data["items"]) if str(item.get("id")) == key[1]), None)
    if index is None or key[2] not in data["items"][index]:
        return None
    path: Path = ("items", index, *key[2:])
    if key[2] == "options":
        options = data["items"][index]["options"]
        k = next((k for k, option in enumerate(options) if str(option.get("value")) == key[3]), None)
        path = None if k is None else ("items", index, "options", k, *key[4:])  # type: ignore[assignment]
    return path


def get_at(data: Mapping, path: Path) -> object:
    """The value at `path` of plain data."""
    node: object = data
    for part in path:
        node = node[part]  # type: ignore[index]
    return node


def set_at(data: dict, path: Path, value: object) -> None:
    """Put `value` at `path` of plain data (the path exists)."""
    get_at(data, path[:-1])[path[-1]] = value  # type: ignore[index]


def split(data: Mapping) -> tuple[dict, dict[Path, dict[str, object]]]:
    """A copy of the data with each per-language text replaced by its primary one, and the per-language texts.

    The texts are keyed by item id and option value (_key, locate). A one-language set comes back as it is.
    """
    codes = declared(data)
    copy = _plain_copy(data)
    assert isinstance(copy, dict)
    # Without `languages:` a mapping is an error (checks.language_problems); the schema need not repeat it.
    primary = primary_of(codes) if codes is not None else None
    _default_barriers(copy, codes)
    translations: dict[Path, dict[str, object]] = {}
    for path, value, _ in text_slots(copy):
        if not isinstance(value, Mapping):
            continue
        texts = {str(code): text for code, text in value.items()}
        if codes is not None:
            translations[_key(copy, path)] = texts
        chosen = texts.get(primary) if primary else None
        if not _filled(chosen):
            chosen = next((text for text in texts.values() if _filled(text)), None)
        if chosen is None:
            chosen = [_MISSING] * 5 if path[-1] == "labels" else _MISSING
        set_at(copy, path, chosen)
    return copy, translations


def _default_barriers(data: dict, codes: tuple[str, ...] | None) -> None:
    """A review without `barrier` asks DEFAULT_BARRIER in each of the set's languages (English if it has none)."""
    spoken = codes if codes is not None else (code_of(str(data.get("language") or PRIMARY)),)
    items = data.get("items")
    if not isinstance(items, list) or not all(code in DEFAULT_BARRIER for code in spoken):
        return
    for item in items:
        if isinstance(item, dict) and item.get("kind") == "commitment_review" and "barrier" not in item:
            texts = {code: DEFAULT_BARRIER[code] for code in spoken}
            item["barrier"] = texts if codes is not None and len(codes) > 1 else texts[spoken[0]]


def merge(definition: dict, translations: Mapping[Path, Mapping[str, object]], primary: str) -> None:
    """Put the per-language texts back into a definition; its own (primary) texts win over the kept ones."""
    for key, texts in translations.items():
        path = locate(definition, key)
        if path is not None:
            set_at(definition, path, {**texts, primary: get_at(definition, path)})


def resolve(definition: dict, translations: Mapping[Path, Mapping[str, object]], code: str) -> None:
    """Replace each text of a definition that has translations with its text in `code`."""
    for key, texts in translations.items():
        path = locate(definition, key)
        if path is not None and code in texts:
            set_at(definition, path, texts[code])
