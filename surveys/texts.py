"""User-facing wording: Jinja2 templates in surveys/templates, rendered through one helper."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


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
