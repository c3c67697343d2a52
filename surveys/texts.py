"""Wording in Jinja2 templates, one folder per language, rendered through one helper: `Texts` over packages' folders.

English lives in each package's `templates/`, Welsh beside it in `templates/cy/` under the same names.
The texts officers and evaluators read may stay English: `templates/english_only.yaml` lists them, and a
Welsh lookup of such a name falls back to English. tests/surveys/test_catalogue.py fails when any other
template or label exists in one language and not the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    meta,
    select_autoescape,
)
from ruamel.yaml import YAML

from surveys import language as languages
from surveys.domain import waves

LABELS = "labels.yaml"
ENGLISH_ONLY = "english_only.yaml"
"""In surveys/templates: the templates (names) and labels (dotted keys) that stay English, as shell patterns."""


def _folder(language: str) -> str:
    return "templates" if language == languages.ENGLISH else f"templates/{language}"


class Texts:
    """Templates from the given packages' template folders (the first that has a name wins) and their labels."""

    def __init__(self, *packages: str) -> None:
        self.packages = packages
        english = [PackageLoader(package, "templates") for package in packages]
        self.environments = {
            language: self._environment(
                # Welsh falls back to English only for what english_only.yaml lets stay English
                # (the catalogue test makes sure nothing else is missing).
                ChoiceLoader([*(PackageLoader(p, _folder(language)) for p in packages), *english])
                if language != languages.ENGLISH
                else ChoiceLoader(english)
            )
            for language in languages.LANGUAGES
        }

    @staticmethod
    def _environment(loader: BaseLoader) -> Environment:
        # Plain text for chat messages (no autoescape); HTML templates are escaped.
        return Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates ship with the package: no stat() of the file on every message.
            auto_reload=False,
        )

    @property
    def environment(self) -> Environment:
        """The environment of the language being spoken now (surveys.language.current)."""
        return self.environments[languages.current()]

    def render(self, name: str, **context: Any) -> str:
        """Render template `name` (e.g. 'invitation.txt') in the current language with the given values, stripped."""
        return self.environment.get_template(name).render(**context).strip()

    @cached_property
    def _labels(self) -> dict[str, dict[str, str | Template]]:
        # Read and compiled once per process: labels are looked up on every answer button.
        by_language: dict[str, dict[str, str | Template]] = {}
        for language, environment in self.environments.items():
            flat = flatten_labels(YAML(typ="safe").load(_source(environment, LABELS)) or {})
            compiled = {k: environment.from_string(v) if "{{" in v or "{%" in v else v for k, v in flat.items()}
            by_language[language] = compiled
        english = by_language[languages.ENGLISH]
        # A label Welsh does not have (an officer's button) is the English one.
        return {language: {**english, **labels} for language, labels in by_language.items()}

    @property
    def labels(self) -> dict[str, str | Template]:
        """Every label of the current language, dotted key → text (or template)."""
        return self._labels[languages.current()]

    def label(self, key: str, **context: Any) -> str:
        """The short label `key` (e.g. 'consent.agree') from labels.yaml; `{{ name }}` filled from `context`."""
        text = self.labels[key]
        return text if isinstance(text, str) else text.render(**context).strip()

    def in_every_language(self, key: str) -> frozenset[str]:
        """Label `key` (plain text) as each language says it, case-folded."""
        return frozenset(str(labels[key]).casefold() for labels in self._labels.values() if key in labels)

    def has_label(self, key: str) -> bool:
        """Whether `key` is a label (optional ones, such as a configured role's words, may be missing)."""
        return key in self.labels


def _source(environment: Environment, name: str) -> str:
    source, _, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
    return source


def flatten_labels(mapping: Mapping[Any, Any], prefix: str = "") -> dict[str, str]:
    """labels.yaml's nested keys as dotted ones ('consent.agree'); a key or value that is not text is refused."""
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        # An unquoted `true:` or `no:` key reads as a boolean: say so rather than lose the label.
        if not isinstance(key, str):
            raise ValueError(f"{LABELS}: key {key!r} under {prefix.rstrip('.') or 'the top'} must be quoted text")
        if isinstance(value, Mapping):
            flat.update(flatten_labels(value, f"{prefix}{key}."))
        elif isinstance(value, str):
            flat[prefix + key] = value
        else:
            raise ValueError(f"{LABELS}: {prefix}{key} must be quoted text, not {value!r}")
    return flat


@cache
def english_only() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(template name patterns, label key patterns) that stay English: officers' and evaluators' wording."""
    source = _source(shared().environments[languages.ENGLISH], ENGLISH_ONLY)
    listed = YAML(typ="safe").load(source) or {}
    return tuple(listed.get("templates") or ()), tuple(listed.get("labels") or ())


def stays_english(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a template name or label key matches one of english_only.yaml's patterns."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)


@cache
def shared() -> Texts:
    """The core's own wording (invitations, reminders, feedback, the invite sheet, labels)."""
    return Texts("surveys")


def render_text(name: str, **context: Any) -> str:
    """Render one of the core's templates in the current language."""
    return shared().render(name, **context)


def label(key: str, **context: Any) -> str:
    """One of the core's labels in the current language."""
    return shared().label(key, **context)


def wave_label(wave: str) -> str:
    """A wave in words in the current language, from wave.txt (English is waves.label's own words)."""
    parsed = waves.parse(wave)
    return render_text("wave.txt", wave=parsed.name, months=parsed.months, english=parsed.label)


def catalogue_problems(folders: Mapping[str, Path], english_only_list: Path) -> list[str]:
    """What is missing or different between English and each other language, over `folders` (name → templates/).

    A template or label in one language and not the other, or a template whose placeholders differ
    (a Welsh text that forgets `{{ contact }}`), is a problem; english_only.yaml's entries need no Welsh.
    """
    listed = YAML(typ="safe").load(english_only_list.read_text(encoding="utf-8")) or {}
    only_templates, only_labels = tuple(listed.get("templates") or ()), tuple(listed.get("labels") or ())
    own_values = listed.get("placeholders") or {}
    problems: list[str] = []
    for name, folder in folders.items():
        english = {p.name for p in folder.iterdir() if p.is_file()} - {LABELS}
        for language in languages.LANGUAGES:
            if language == languages.ENGLISH:
                continue
            translated_folder = folder / language
            translated = {p.name for p in translated_folder.iterdir() if p.is_file()} - {LABELS}
            needed = {n for n in english if not stays_english(n, only_templates)}
            problems += [
                f"{name}/templates/{n}: no {language} copy in {name}/templates/{language}/"
                for n in sorted(needed - translated)
            ]
            problems += [
                f"{name}/templates/{language}/{n}: no English original in {name}/templates/"
                for n in sorted(translated - english)
            ]
            for n in sorted(needed & translated):
                # Values one language's words need and another's not (wave.txt), as english_only.yaml lists them.
                allowed = set(own_values.get(n) or ())
                original = _placeholders(folder / n) - allowed
                copy = _placeholders(translated_folder / n) - allowed
                if original != copy:
                    problems.append(
                        f"{name}/templates/{language}/{n}: placeholders differ from English "
                        f"(only English: {sorted(original - copy)}, only {language}: {sorted(copy - original)})"
                    )
            problems += _label_problems(name, folder, language, only_labels)
    return problems


def _read_labels(path: Path) -> dict[str, str]:
    return flatten_labels(YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def _placeholders(path: Path) -> set[str]:
    return meta.find_undeclared_variables(Environment().parse(path.read_text(encoding="utf-8")))


def _label_problems(name: str, folder: Path, language: str, only_labels: tuple[str, ...]) -> list[str]:
    english_file, translated_file = folder / LABELS, folder / language / LABELS
    if not english_file.exists() and not translated_file.exists():
        return []
    english, translated = _read_labels(english_file), _read_labels(translated_file)
    needed = {k for k in english if not stays_english(k, only_labels)}
    problems = [f"{name}/templates/{LABELS}: {k} has no {language} label" for k in sorted(needed - set(translated))]
    problems += [
        f"{name}/templates/{language}/{LABELS}: {k} has no English label"
        for k in sorted(set(translated) - set(english))
    ]
    problems += [
        f"{name}/templates/{language}/{LABELS}: {k} is empty" for k in sorted(translated) if not translated[k].strip()
    ]
    return problems


@cache
def in_every_language(key: str) -> frozenset[str]:
    """A label as every language says it, case-folded: a typed "Gwir" in an English check-in still means true."""
    return shared().in_every_language(key)
