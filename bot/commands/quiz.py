"""`followup quiz …`: validate quiz-set files and preview a quiz in the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from surveys.engine import Conversation, Prompt, Summary
from surveys.quizset import QuizSet, QuizSetInvalid, bundled_quiz_set, load_quiz_set
from surveys.render import RenderContext, render, wave_months


def resolve_quiz_source(ref: str) -> Path:
    """Turn FILE or SLUG into a quiz-set file: an existing path, else a bundled set (the database comes later)."""
    path = Path(ref)
    if path.is_file():
        return path
    bundled = bundled_quiz_set(ref)
    if bundled is None:
        raise click.BadParameter(f"{ref!r} is neither a file nor the slug of a bundled quiz set", param_hint="FILE|SLUG")
    return bundled


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
        click.echo(f"- {missed.text} You said {missed.answer_label}; the answer is {missed.correct_label}.{explanation}")
    for construct, mean in sorted(summary.construct_means.items()):
        click.echo(f"{construct}: {mean:.2f} (1–5)")


@cli.command()
@click.argument("ref", metavar="FILE|SLUG")
@click.option("--wave", default="post", show_default=True, help="Which wave's items to ask.")
@click.option("--course-title", default="CSE awareness (preview)", show_default=True, help="Fills {{ course_title }}.")
def preview(ref: str, wave: str, course_title: str) -> None:
    """Take the quiz in FILE (or bundled SLUG) in the terminal, through the real conversation engine."""
    path = resolve_quiz_source(ref)
    try:
        quiz = load_quiz_set(path, filename=str(path))
    except QuizSetInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise SystemExit(1) from None
    if wave not in quiz.waves:
        raise click.BadParameter(f"{wave!r} is not one of {', '.join(quiz.waves)}", param_hint="--wave")
    context = RenderContext(course_title, wave, wave_months(wave))
    conversation = Conversation(quiz, wave, context)
    click.echo(f"{quiz.title} — {_describe(quiz)}")
    if quiz.intro:
        click.echo(render(quiz.intro, context))
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
