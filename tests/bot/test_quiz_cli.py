"""`followup quiz validate` and `followup quiz preview`."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.commands.quiz import cli

VALID = Path(__file__).resolve().parents[1] / "support" / "data" / "valid.yaml"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_validate_prints_ok_with_a_description_and_exits_zero() -> None:
    result = run("validate", str(VALID))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{VALID}: ok (8 items, waves post, 3m, 6m, about 3 minutes)\n"


def test_validate_reports_a_correct_answer_that_is_not_an_option_and_exits_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    shutil.copy(VALID, broken)
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("    correct: b\n", "    correct: d\n"), encoding="utf-8"
    )
    result = run("validate", str(VALID), str(broken))
    assert result.exit_code == 1
    assert result.stdout == f"{VALID}: ok (8 items, waves post, 3m, 6m, about 3 minutes)\n"
    assert (
        result.stderr == f"{broken}:20:14: item 'aoc': correct answer 'd' is not one of the option values (a, b, c)\n"
    )


def test_every_command_has_help() -> None:
    for args in (["--help"], ["validate", "--help"], ["preview", "--help"]):
        assert run(*args).exit_code == 0


def test_preview_takes_the_quiz_with_reprompts_feedback_and_a_summary() -> None:
    result = run("preview", str(VALID), "--wave", "post", input="sixteen\nb\nt\n2\nStrongly agree\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "It's 0 months since CSE awareness (preview) (at the end of the course)." in out
    assert "[1 of 4] What is the age of consent in England and Wales?" in out
    assert "Sorry, that isn't one of the choices. Tap a button or type: a) 13, b) 16, c) 18." in out
    assert "Correct — The age of consent is 16" in out
    assert "Not quite: the answer is False. A child cannot consent to their own exploitation." in out
    assert "Knowledge: 1 of 2 correct (50%)." in out
    assert "self_efficacy: 1.00 (1–5)" in out


def test_preview_stops_politely_at_the_end_of_input() -> None:
    result = run("preview", str(VALID), input="b\n")
    assert result.exit_code == 0
    assert result.stdout.endswith("Stopped before the end; nothing is saved in a preview.\n")


def test_preview_refuses_an_unknown_source_or_wave() -> None:
    assert run("preview", "no-such-set").exit_code == 2
    assert run("preview", str(VALID), "--wave", "pre").exit_code == 2


def test_preview_finds_a_bundled_set_by_slug() -> None:
    result = run("preview", "cse-core", input="")
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("engine")
async def test_preview_takes_a_stored_quiz_set_by_slug_or_version(database_url, monkeypatch) -> None:
    from bot.cli import main

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", database_url)
    runner = CliRunner()
    imported = await asyncio.to_thread(runner.invoke, main, ["quiz", "import", str(VALID)])
    assert imported.exit_code == 0, imported.output
    for ref in ("mini-cse", "mini-cse@1"):
        result = await asyncio.to_thread(runner.invoke, main, ["quiz", "preview", ref], input="")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Mini CSE check — 8 items, waves post, 3m, 6m")
    unknown = await asyncio.to_thread(runner.invoke, main, ["quiz", "preview", "mini-cse@9"])
    assert unknown.exit_code == 2 and "not a file, a stored quiz set" in unknown.output


def test_preview_shows_a_commitment_back_and_asks_what_got_in_the_way_and_validate_refuses_a_forward_show_if(
    tmp_path,
) -> None:
    branching = VALID.parent / "branching.yaml"
    result = run(
        "preview", str(branching), "--wave", "3m", "--commitment", "Ask about gifts", input="a\nskip\n3\nNo time\n"
    )
    assert result.exit_code == 0, result.output
    assert "«Ask about gifts»" in result.output and "What got in the way?" in result.output
    assert "Would support help?" in result.output  # shown: the status was "not yet"
    forward = tmp_path / "forward.yaml"
    text = branching.read_text().replace("show_if: {item: job, in: [b, c]}", "show_if: {item: note, in: [x]}")
    forward.write_text(text)
    refused = run("validate", str(forward))
    assert refused.exit_code != 0
    assert f"{forward}:22:21: item 'supervises': show_if names item 'note', which comes later" in refused.output
