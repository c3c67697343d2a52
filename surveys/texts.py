"""User-facing wording: Jinja2 templates in surveys/templates, rendered through one helper."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from ruamel.yaml import YAML

LABELS = "labels.yaml"


@cache
def _environment() -> Environment:
    # Plain text for chat messages (no autoescape); HTML templates are escaped.
    return Environment(
        loader=PackageLoader("surveys", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the package: no stat() of the file on every message.
        auto_reload=False,
    )


def render_text(name: str, **context: Any) -> str:
    """Render template `name` (e.g. 'invitation.txt') with the given values, stripped."""
    return _environment().get_template(name).render(**context).strip()


def _flatten(mapping: Mapping[Any, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        # An unquoted `true:` or `no:` key reads as a boolean: say so rather than lose the label.
        if not isinstance(key, str):
            raise ValueError(f"{LABELS}: key {key!r} under {prefix.rstrip('.') or 'the top'} must be quoted text")
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, str):
            flat[prefix + key] = value
        else:
            raise ValueError(f"{LABELS}: {prefix}{key} must be quoted text, not {value!r}")
    return flat


@cache
def _labels() -> dict[str, str | Template]:
    # Read and compiled once per process: labels are looked up on every answer button.
    environment = _environment()
    source, _, _ = environment.loader.get_source(environment, LABELS)  # type: ignore[union-attr]
    flat = _flatten(YAML(typ="safe").load(source) or {})
    return {key: environment.from_string(text) if "{{" in text or "{%" in text else text for key, text in flat.items()}


def label(key: str, **context: Any) -> str:
    """The short label `key` (e.g. 'consent.agree') from labels.yaml; `{{ name }}` filled from `context`."""
    text = _labels()[key]
    return text if isinstance(text, str) else text.render(**context).strip()
