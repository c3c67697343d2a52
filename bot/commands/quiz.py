"""`followup quiz …`: validate quiz-set files and preview a quiz in the terminal."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from surveys.domain import waves
from surveys.domain.engine import Conversation, Prompt, Summary
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import QuizSet, QuizSetInvalid, bundled_quiz_set, load_quiz_set


def load_or_exit(path: Path) -> QuizSet:
    """Load a quiz-set file; every problem as FILE:LINE:COL and exit 1 if it is invalid."""
    try:
        return load_quiz_set(path, filename=str(path))
    except QuizSetInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise SystemExit(1) from None


async def stored_quiz_set(ref: str) -> QuizSet | None:
    """The stored version SLUG or SLUG@VERSION, or None when there is none (or no database set up)."""
    from surveys.settings import SettingsError, load_settings
    from surveys.store.catalog import UnknownQuizSet, find_quiz_set, parsed
    from surveys.store.db import make_sessionmaker
    from surveys.store.migrate import DatabaseNotReady, ready_engine

    try:
        engine = await ready_engine(load_settings().database_url)
    except (SettingsError, DatabaseNotReady):
        return None
    try:
        async with make_sessionmaker(engine)() as session:
            return parsed(await find_quiz_set(session, ref))
    except UnknownQuizSet:
        return None
    finally:
        await engine.dispose()


def resolve_quiz(ref: str) -> QuizSet:
    """FILE, else a stored SLUG[@VERSION], else a bundled SLUG; a usage error naming all three otherwise."""
    path = Path(ref)
    if path.is_file():
        return load_or_exit(path)
    if (stored := asyncio.run(stored_quiz_set(ref))) is not None:
        return stored
    bundled = bundled_quiz_set(ref)
    if bundled is None:
        raise click.BadParameter(
            f"{ref!r} is not a file, a stored quiz set (`followup quiz list`) or a bundled one", param_hint="FILE|SLUG"
        )
    return load_or_exit(bundled)


def _describe(quiz: QuizSet) -> str:
    return f"{len(quiz.items)} items, waves {', '.join(quiz.waves)}, about {quiz.estimate_minutes} minutes"


@click.group(name="quiz")
def cli() -> None:
    """Check quiz-set files and try them out."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check quiz-set FILEs; print every problem as FILE:LINE:COL and exit 1 if any file is invalid."""
    invalid = 0
    for path in files:
        try:
            quiz = load_quiz_set(path, filename=str(path))
        except QuizSetInvalid as exc:
            invalid += 1
            for error in exc.errors:
                click.echo(str(error), err=True)
            continue
        click.echo(f"{path}: ok ({_describe(quiz)})")
    if invalid:
        raise SystemExit(1)


def _show_prompt(prompt: Prompt) -> None:
    click.echo(f"\n[{prompt.progress}] {prompt.text}")
    for choice in prompt.choices:
        click.echo(f"  {choice.value}) {choice.label}")
    click.echo(f"({prompt.hint})")


def _show_summary(summary: Summary) -> None:
    click.echo(f"\nDone: {summary.answered} of {summary.total} answered.")
    if summary.knowledge_percent is not None:
        click.echo(f"Knowledge: {summary.correct} of {summary.scored} correct ({summary.knowledge_percent:.0f}%).")
    for missed in summary.missed:
        explanation = f" {missed.explanation}" if missed.explanation else ""
        click.echo(
            f"- {missed.text} You said {missed.answer_label}; the answer is {missed.correct_label}.{explanation}"
        )
    for construct, mean in sorted(summary.construct_means.items()):
        click.echo(f"{construct}: {mean:.2f} (1–5)")


@cli.command()
@click.argument("ref", metavar="FILE|SLUG[@VERSION]")
@click.option("--wave", default="post", show_default=True, help="Which wave's items to ask.")
@click.option("--course-title", default="CSE awareness (preview)", show_default=True, help="Fills {{ course_title }}.")
@click.option(
    "--commitment", "own", multiple=True, help="A commitment made earlier, to preview its review (repeatable)."
)
@click.option("--language", default=None, help="Ask in this language of a bilingual set (en, cy).")
def preview(ref: str, wave: str, course_title: str, own: tuple[str, ...], language: str | None) -> None:
    """Take the quiz in FILE (or stored SLUG[@VERSION], or bundled SLUG) in the terminal, through the real engine."""
    quiz = resolve_quiz(ref)
    if wave not in quiz.waves:
        raise click.BadParameter(f"{wave!r} is not one of {', '.join(quiz.waves)}", param_hint="--wave")
    if language is not None and language not in quiz.language_codes:
        raise click.BadParameter(
            f"{language!r} is not one of {', '.join(quiz.language_codes)}", param_hint="--language"
        )
    context = RenderContext(course_title, wave, waves.months(wave))
    reviewed = {getattr(item, "of", None) for item in quiz.items_for(wave)} - {None}
    conversation = Conversation(quiz, wave, context, own={str(of): own for of in reviewed}, language=language)
    shown = conversation.view
    click.echo(f"{shown.title} — {_describe(quiz)}")
    if shown.intro:
        click.echo(render(shown.intro, context))
    while (prompt := conversation.next_prompt()) is not None:
        _show_prompt(prompt)
        line = sys.stdin.readline()
        if not line:
            click.echo("\nStopped before the end; nothing is saved in a preview.")
            return
        outcome = conversation.accept(line.rstrip("\r\n"))
        for message in (outcome.reprompt, outcome.feedback):
            if message:
                click.echo(message)
    _show_summary(conversation.summary())


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Validate FILEs and store each as a new version (an unchanged file is a no-op that says so)."""
    from bot.commands.common import settings_or_exit, transaction
    from surveys.clock import system_clock
    from surveys.store.audit import CLI
    from surveys.store.catalog import import_quiz_set

    quizzes = []
    invalid = False
    for path in files:
        try:
            quizzes.append(load_quiz_set(path, filename=str(path)))
        except QuizSetInvalid as exc:
            invalid = True
            for error in exc.errors:
                click.echo(str(error), err=True)
    if invalid:
        # All or nothing: a half-imported batch is harder to reason about than none.
        click.echo("Nothing imported: fix the problems above.", err=True)
        raise SystemExit(1)
    settings = settings_or_exit()

    async def run() -> list[str]:
        async with transaction(settings) as session:
            return [(await import_quiz_set(session, quiz, system_clock(), actor=CLI)).describe() for quiz in quizzes]

    for line in asyncio.run(run()):
        click.echo(line)


@cli.command("list")
def list_command() -> None:
    """List the stored quiz sets and their versions."""
    from bot.commands.common import settings_or_exit, transaction
    from surveys.store.catalog import list_quiz_sets, parsed

    settings = settings_or_exit()

    async def run() -> list[str]:
        async with transaction(settings) as session:
            return [
                f"{v.ref}\t{v.created_at:%Y-%m-%d}\t{len(parsed(v).items)} items\t{v.title}"
                for v in await list_quiz_sets(session)
            ]

    lines = asyncio.run(run())
    click.echo("\n".join(lines) if lines else "No quiz sets stored: `followup quiz import FILE` adds one.")
