"""Render quiz texts (Jinja2 placeholders) safely, in a sandbox, with a known context."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from jinja2 import StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from surveys.domain import waves
from surveys.texts import wave_label

ALLOWED_PLACEHOLDERS = frozenset({"course_title", "wave", "wave_label", "months_since"})

# The longest values we expect at run time; validation renders every text with them so a
# text that fits here fits in a real message. Course titles longer than this are refused
# when a course is created.
MAX_COURSE_TITLE = 120
LONGEST_MONTHS_SINCE = 120


@dataclass(frozen=True)
class RenderContext:
    """What a text may refer to: the course, the wave and the months since the course."""

    course_title: str
    wave: str
    months_since: int

    def variables(self) -> dict[str, object]:
        """The placeholder values, including the derived wave label."""
        return {
            "course_title": self.course_title,
            "wave": self.wave,
            "wave_label": wave_label(self.wave),  # in the language being spoken
            "months_since": self.months_since,
        }


def longest_context(wave_names: list[str] | tuple[str, ...]) -> RenderContext:
    """The context that makes texts longest: a maximal title and the wordiest of the waves."""
    wave = max(wave_names, key=lambda w: (len(waves.label(w)), len(w)), default="post")
    return RenderContext("W" * MAX_COURSE_TITLE, wave, LONGEST_MONTHS_SINCE)


@cache
def _environment() -> SandboxedEnvironment:
    # autoescape off: texts go to Telegram as plain text, not HTML.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    # Every question is rendered on every answer: compiling its text each time cost more than
    # the answer's database work (bench/README.md, conversation). Item texts are few and fixed.
    return _environment().from_string(text)


def template_problems(text: str) -> list[str]:
    """Say what is wrong with a text as a template: syntax errors and unknown placeholders."""
    env = _environment()
    try:
        ast = env.parse(text)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line} of the text)" if line and "\n" in text else ""
        return [f"template syntax error{where}: {exc.message or exc}"]
    unknown = sorted(meta.find_undeclared_variables(ast) - ALLOWED_PLACEHOLDERS)
    allowed = ", ".join(sorted(ALLOWED_PLACEHOLDERS))
    return [f"unknown placeholder '{{{{ {name} }}}}' (allowed: {allowed})" for name in unknown]


def render(text: str, context: RenderContext) -> str:
    """Render one text with the context in the sandbox; raise jinja2.TemplateError if it cannot."""
    return _compiled(text).render(context.variables())
