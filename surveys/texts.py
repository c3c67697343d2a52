"""Wording in Jinja2 templates, rendered through one helper: `Texts` over one or more packages' template folders."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, cached_property
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from ruamel.yaml import YAML

LABELS = "labels.yaml"


class Texts:
    """Templates from the given packages' `templates/` folders (the first that has a name wins) and their labels."""

    def __init__(self, *packages: str) -> None:
        # Plain text for chat messages (no autoescape); HTML templates are escaped.
        self.environment = Environment(
            loader=ChoiceLoader([PackageLoader(package, "templates") for package in packages]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates ship with the package: no stat() of the file on every message.
            auto_reload=False,
        )

    def render(self, name: str, **context: Any) -> str:
        """Render template `name` (e.g. 'invitation.txt') with the given values, stripped."""
        return self.environment.get_template(name).render(**context).strip()

    @cached_property
    def labels(self) -> dict[str, str | Template]:
        # Read and compiled once per process: labels are looked up on every answer button.
        source, _, _ = self.environment.loader.get_source(self.environment, LABELS)  # type: ignore[union-attr]
        flat = flatten_labels(YAML(typ="safe").load(source) or {})
        return {k: self.environment.from_string(v) if "{{" in v or "{%" in v else v for k, v in flat.items()}

    def label(self, key: str, **context: Any) -> str:
        """The short label `key` (e.g. 'consent.agree') from labels.yaml; `{{ name }}` filled from `context`."""
        text = self.labels[key]
        return text if isinstance(text, str) else text.render(**context).strip()


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
def shared() -> Texts:
    """The core's own wording (invitations, reminders, feedback, the invite sheet, labels)."""
    return Texts("surveys")


def render_text(name: str, **context: Any) -> str:
    """Render one of the core's templates."""
    return shared().render(name, **context)


def label(key: str, **context: Any) -> str:
    """One of the core's labels."""
    return shared().label(key, **context)
