"""Every practitioner-facing text exists in English and Welsh (issue 14): templates, labels and their placeholders."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from scheduler.messages import local_day
from surveys import language
from surveys.texts import catalogue_problems, label, render_text, wave_label

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"bot": ROOT / "bot" / "templates", "surveys": ROOT / "surveys" / "templates"}
ENGLISH_ONLY = ROOT / "surveys" / "templates" / "english_only.yaml"


def test_every_template_and_label_is_in_both_languages() -> None:
    assert catalogue_problems(FOLDERS, ENGLISH_ONLY) == []


@pytest.fixture
def copy(tmp_path: Path) -> dict[str, Path]:
    """The template folders copied, to break one thing at a time."""
    folders = {}
    for name, folder in FOLDERS.items():
        folders[name] = tmp_path / name
        shutil.copytree(folder, folders[name])
    return folders


def test_a_welsh_template_missing_is_named(copy: dict[str, Path]) -> None:
    (copy["bot"] / "cy" / "help.txt").unlink()
    assert catalogue_problems(copy, ENGLISH_ONLY) == ["bot/templates/help.txt: no cy copy in bot/templates/cy/"]


def test_a_new_english_template_without_welsh_is_named(copy: dict[str, Path]) -> None:
    (copy["surveys"] / "nudge.txt").write_text("How are you getting on?")
    assert catalogue_problems(copy, ENGLISH_ONLY) == [
        "surveys/templates/nudge.txt: no cy copy in surveys/templates/cy/"
    ]


def test_a_welsh_template_without_english_is_named(copy: dict[str, Path]) -> None:
    (copy["bot"] / "cy" / "extra.txt").write_text("Helo")
    assert catalogue_problems(copy, ENGLISH_ONLY) == [
        "bot/templates/cy/extra.txt: no English original in bot/templates/"
    ]


def test_a_welsh_text_that_drops_a_placeholder_is_named(copy: dict[str, Path]) -> None:
    edited = copy["bot"] / "cy" / "edited.txt"
    edited.write_text(edited.read_text().replace("{{ contact }}", "eich swyddog"))
    [problem] = catalogue_problems(copy, ENGLISH_ONLY)
    assert problem.startswith("bot/templates/cy/edited.txt: placeholders differ") and "'contact'" in problem


def test_a_label_in_one_language_only_is_named(copy: dict[str, Path]) -> None:
    labels = copy["surveys"] / "cy" / "labels.yaml"
    labels.write_text(labels.read_text().replace('  agree: "Cytuno"\n', ""))
    empty = labels.read_text().replace('decline: "Dim diolch"', 'decline: " "', 1)
    labels.write_text(empty)
    assert catalogue_problems(copy, ENGLISH_ONLY) == [
        "surveys/templates/labels.yaml: consent.agree has no cy label",
        "surveys/templates/cy/labels.yaml: consent.decline is empty",
    ]


def test_officers_texts_may_stay_english_and_fall_back_to_it() -> None:
    from bot.texts import render_text as chat_text

    def chat_text_in_english(name: str, **context: object) -> str:
        with language.speaking(language.ENGLISH):
            return chat_text(name, **context)

    with language.speaking(language.WELSH):
        assert label("admin.cancel") == "Cancel"
        assert chat_text("admin.txt", kind="refused", evaluators=False) == chat_text_in_english(
            "admin.txt", kind="refused", evaluators=False
        )
        assert label("consent.agree") == "Cytuno"


def test_welsh_dates_and_waves_read_as_people_say_them() -> None:
    day = date(2026, 3, 2)
    assert local_day(day, "Europe/London") == "Monday 2 March"
    with language.speaking(language.WELSH):
        assert local_day(day, "Europe/London") == "dydd Llun 2 Mawrth"
        assert wave_label("pre") == "cyn y cwrs"
        assert wave_label("2m") == "dau fis ar ôl y cwrs"
        assert wave_label("6m") == "chwe mis ar ôl y cwrs"
        assert wave_label("30m") == "30 mis ar ôl y cwrs"
    assert wave_label("6m") == "six months after the course"


def test_the_language_is_per_block_and_english_outside() -> None:
    with language.speaking("cy"):
        assert render_text("feedback.txt", correct=True, explanation="", answer="16") == "Cywir."
    assert render_text("feedback.txt", correct=True, explanation="", answer="16") == "Correct."


def test_an_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(language.LanguageError, match="expected cy or en, not 'fr'"):
        language.parse("fr")
