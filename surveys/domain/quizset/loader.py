"""Load a quiz set from YAML and report every problem at once, with line and column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import StringIO
from pathlib import Path

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from surveys.domain.quizset.checks import set_problems
from surveys.domain.quizset.errors import QuizSetError, QuizSetInvalid
from surveys.domain.quizset.models import ITEM_KINDS, Option, QuizSet, ShowIf

_PATTERN_WORDS = {
    "slug": "may only use a-z, 0-9 and '-', 3–40 characters",
    "id": "may only use a-z, 0-9, '-' and '_' (at most 40 characters, starting with a letter or digit)",
    "value": "must be a short code of a-z and 0-9 (at most 8 characters)",
    "waves": "must be pre, post or a number of months like 3m",
}


def load_quiz_set(source: str | Path, filename: str | None = None) -> QuizSet:
    """Load a quiz set from a file (a Path) or YAML text (a str); raise QuizSetInvalid listing every problem."""
    if isinstance(source, Path):
        text = source.read_text(encoding="utf-8")
        filename = filename or str(source)
    else:
        text = source
        filename = filename or "<string>"
    try:
        raw = YAML(typ="rt").load(StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = f"{exc.problem} ({exc.context})" if exc.context and exc.problem else (exc.problem or exc.context)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise QuizSetInvalid([QuizSetError(filename, line, col, None, f"YAML syntax error: {detail}")]) from None
    except YAMLError as exc:
        raise QuizSetInvalid([QuizSetError(filename, 1, 1, None, f"YAML syntax error: {exc}")]) from None
    if not isinstance(raw, Mapping):
        found = "an empty file" if raw is None else "a list" if isinstance(raw, list) else f"the value {raw!r}"
        message = f"a quiz set must be a mapping of keys (slug, title, items …), found {found}"
        raise QuizSetInvalid([QuizSetError(filename, 1, 1, None, message)])
    return validate_data(raw, filename)


def validate_data(raw: Mapping, filename: str) -> QuizSet:
    """Validate parsed data (ruamel nodes keep positions; plain dicts have none); raise QuizSetInvalid."""
    errors: list[QuizSetError] = []
    model: QuizSet | None = None
    try:
        model = QuizSet.model_validate(_plain(raw), context={"checked_by_loader": True})
    except ValidationError as exc:
        translated = (_schema_error(raw, filename, error) for error in exc.errors())
        errors += [error for error in translated if error is not None]
    for problem in set_problems(raw):
        errors.append(_error_at(raw, filename, problem.path, problem.message, point_at_key=False))
    if errors or model is None:
        unique = {(e.line or 0, e.col or 0, e.item_id or "", e.message): e for e in errors}
        raise QuizSetInvalid([unique[key] for key in sorted(unique)])
    return model


def _plain(node: object) -> object:
    """Turn ruamel's round-trip nodes into plain Python values, so the model stores plain ones."""
    if isinstance(node, Mapping):
        return {str(key) if isinstance(key, str) else key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _locate(raw: object, path: Sequence[str | int], point_at_key: bool) -> tuple[int, int] | None:
    """1-based (line, col) of the node a path leads to: a scalar's value, else its key."""
    node, position = raw, None
    for n, part in enumerate(path):
        last = n == len(path) - 1
        if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
            child = node[part]
            at_value = last and not point_at_key and not isinstance(child, (CommentedMap, CommentedSeq))
            position = node.lc.value(part) if at_value else node.lc.key(part)
            node = child
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            position = node.lc.item(part)
            node = node[part]
        # Anything else is a step pydantic adds (the kind tag) or a key that is missing:
        # the nearest enclosing node is the best place to point at.
    if position is None:
        return (1, 1) if isinstance(raw, CommentedMap) else None
    return position[0] + 1, position[1] + 1


def _item_id(raw: Mapping, path: Sequence[str | int]) -> str | None:
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        items = raw.get("items")
        if isinstance(items, list) and 0 <= path[1] < len(items) and isinstance(items[path[1]], Mapping):
            item_id = items[path[1]].get("id")
            return str(item_id) if isinstance(item_id, (str, int)) else None
    return None


def _error_at(raw: Mapping, filename: str, path: Sequence[str | int], message: str, point_at_key: bool) -> QuizSetError:
    position = _locate(raw, path, point_at_key)
    line, col = position if position else (None, None)
    return QuizSetError(filename, line, col, _item_id(raw, path), message)


def _field_name(loc: Sequence[str | int]) -> str:
    names = [part for part in loc if isinstance(part, str) and part not in ITEM_KINDS]
    return names[-1] if names else "set"


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    model: type[BaseModel] = QuizSet
    if "options" in loc:
        model = Option
    elif "show_if" in loc:
        model = ShowIf
    elif len(loc) >= 3 and loc[0] == "items" and loc[2] in ITEM_KINDS:
        model = ITEM_KINDS[str(loc[2])]
    return [field.alias or name for name, field in model.model_fields.items()]


def _raw_length(raw: object, loc: Sequence[str | int]) -> int | None:
    node = raw
    for part in loc:
        if (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
    return len(node) if isinstance(node, list) else None


def _schema_error(raw: Mapping, filename: str, error: dict) -> QuizSetError | None:
    """Translate one pydantic error into a friendly message at the right position."""
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    field = _field_name(loc)
    kinds = ", ".join(ITEM_KINDS)
    if kind == "extra_forbidden":
        message = f"unknown key '{loc[-1]}' (allowed: {', '.join(_allowed_keys(loc[:-1]))})"
        return _error_at(raw, filename, loc, message, point_at_key=True)
    if kind == "union_tag_invalid":
        message = f"unknown kind '{ctx.get('tag')}' (expected one of: {kinds})"
        return _error_at(raw, filename, (*loc, "kind"), message, point_at_key=False)
    if kind == "union_tag_not_found":
        return _error_at(raw, filename, loc, f"missing key 'kind' (one of: {kinds})", point_at_key=False)
    if kind == "missing":
        return _error_at(raw, filename, loc, f"missing key '{field}'", point_at_key=False)
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    elif kind == "string_pattern_mismatch":
        message = f"{field} {error['input']!r} {_PATTERN_WORDS.get(field, 'has the wrong form')}"
    elif kind in ("too_short", "too_long"):
        limit = int(ctx.get("min_length", ctx.get("max_length", 0)))
        written = _raw_length(raw, loc)
        if kind == "too_short" and written is not None and written >= limit:
            return None  # pydantic counts only valid entries; the broken entry has its own error
        if kind == "too_short" and limit == 1:
            message = f"{field} must not be empty"
        else:
            bound = "at least" if kind == "too_short" else "at most"
            found = written if written is not None else ctx.get("actual_length")
            message = f"{field} needs {bound} {limit} entries, found {found}"
    else:
        message = f"{field}: {error['msg']}"
    return _error_at(raw, filename, loc, message, point_at_key=False)
