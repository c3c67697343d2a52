"""Quiz sets in Welsh and English: validation of every translation, the one-language views, cross-language answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.commands.quiz import cli
from surveys.domain.engine import Conversation, Recorded
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import QuizSet, QuizSetInvalid, bundled_quiz_set, load_quiz_set

CSE_CORE = bundled_quiz_set("cse-core")
assert CSE_CORE is not None
QUIZ = load_quiz_set(CSE_CORE)
PRE = RenderContext("CSE Level 2", "pre", 0)
POST = RenderContext("CSE Level 2", "post", 0)


def errors_of(text: str) -> list[str]:
    with pytest.raises(QuizSetInvalid) as caught:
        load_quiz_set(text, filename="set.yaml")
    return [str(error) for error in caught.value.errors]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def at(text: str, needle: str) -> str:
    """ "LINE:COL" of the first `needle` in the text."""
    line = line_of(text, needle)
    return f"{line}:{text.splitlines()[line - 1].index(needle) + 1}"


def one_language(labels: str = "[Strongly disagree, Disagree, Neither, Agree, Strongly agree]") -> str:
    return f"""\
slug: tiny
title: Tiny
description: A tiny set.
estimate_minutes: 1
waves: [post]
items:
  - id: vb
    kind: likert
    text: Children choose it.
    tags: [attitude]
    waves: [post]
    construct: victim_blaming
    labels: {labels}
"""


BILINGUAL = """\
slug: tiny
title: {en: Tiny, cy: Bach}
description: {en: A tiny set., cy: Set fach.}
languages: [en, cy]
estimate_minutes: 1
waves: [post, 3m]
items:
  - id: pick
    kind: single_choice
    text: {en: Pick one., cy: Dewiswch un.}
    tags: [practice]
    waves: [post]
    options:
      - {value: a, label: {en: Red, cy: Coch}}
      - {value: b, label: {en: Green, cy: Gwyrdd}}
      - {value: c, label: {en: Coch, cy: Glas}}
  - id: commit
    kind: commitments
    text: {en: What will you do?, cy: Beth wnewch chi?}
    tags: [commitments]
    waves: [post]
  - id: review
    kind: commitment_review
    of: commit
    text: {en: Done it?, cy: Wedi'i wneud?}
    tags: [commitments]
    waves: [3m]
"""


def test_validate_refuses_cse_core_with_one_welsh_text_removed_naming_file_line_and_column(tmp_path: Path) -> None:
    text = CSE_CORE.read_text(encoding="utf-8")
    welsh = "      cy: Pwy all gamfanteisio'n rhywiol ar blentyn?\n"
    assert welsh in text
    broken = tmp_path / "cse-core.yaml"
    broken.write_text(text.replace(welsh, ""), encoding="utf-8")
    at = line_of(broken.read_text(encoding="utf-8"), "      en: Who can sexually exploit a child?") - 1

    result = CliRunner().invoke(cli, ["validate", str(broken)])

    assert result.exit_code == 1
    assert result.stderr == f"{broken}:{at}:5: item 'perp-who': no Welsh (cy) text\n"


def test_an_empty_translation_is_named_where_it_is_written() -> None:
    text = BILINGUAL.replace("cy: Gwyrdd", 'cy: " "')
    where = at(text, '" "')
    assert errors_of(text) == [f"set.yaml:{where}: item 'pick': no Welsh (cy) text"]


def test_every_missing_translation_is_reported_at_once_including_set_texts() -> None:
    text = BILINGUAL.replace(", cy: Bach}", "}").replace("{en: Done it?, cy: Wedi'i wneud?}", "Done it?")
    assert errors_of(text) == [
        "set.yaml:2:1: no Welsh (cy) text",
        f"set.yaml:{at(text, 'Done it?')}: item 'review': one text for en, cy: give each language its own, "
        "as en: … cy: …",
    ]


def test_button_labels_are_limited_in_each_language() -> None:
    long = "Gwyrdd fel y glaswellt ar ochr y mynydd yn y gwanwyn"
    text = BILINGUAL.replace("cy: Gwyrdd", f"cy: {long}")
    assert errors_of(text) == [
        f"set.yaml:{at(text, long)}: item 'pick': Welsh (cy) label is {len(long)} characters; "
        f"buttons allow at most 40: {long!r}",
    ]
    english = BILINGUAL.replace("en: Green", "en: Green as the grass on the side of a mountain")
    assert "buttons allow at most 40" in errors_of(english)[0]


def test_likert_labels_are_checked_in_each_language() -> None:
    labels = "{en: [Strongly disagree, Disagree, Neither, Agree, Strongly agree], cy: [Anghytuno, Cytuno]}"
    text = one_language(labels).replace("estimate_minutes", "languages: [en, cy]\nestimate_minutes")
    text = text.replace("title: Tiny", "title: {en: Tiny, cy: Bach}")
    text = text.replace("description: A tiny set.", "description: {en: A tiny set., cy: Set fach.}")
    text = text.replace("text: Children choose it.", "text: {en: Children choose it., cy: Mae plant yn ei ddewis.}")
    assert errors_of(text) == [
        f"set.yaml:{at(text, 'cy: [Anghytuno')}: item 'vb': a Likert item needs exactly 5 Welsh (cy) labels, found 2"
    ]


def test_a_language_not_declared_and_a_mapping_in_a_one_language_set_are_refused() -> None:
    text = BILINGUAL.replace("cy: Bach}", "cy: Bach, fr: Petit}")
    assert errors_of(text) == [f"set.yaml:{at(text, 'Petit')}: 'fr' is not one of the set's languages (en, cy)"]
    mapped = one_language().replace("text: Children choose it.", "text: {en: Children choose it., cy: Dewis.}")
    assert errors_of(mapped) == [
        f"set.yaml:{line_of(mapped, 'text:')}:5: item 'vb': "
        "a text in several languages needs `languages: [en, cy]` at the top of the set"
    ]


def test_a_one_language_set_keeps_plain_strings_and_its_language_tag() -> None:
    quiz = load_quiz_set(one_language())
    assert quiz.language_codes == ("en",) and quiz.in_language("cy") is quiz
    assert "languages" not in quiz.to_definition()


def test_the_set_reads_in_english_and_in_language_gives_the_welsh_texts() -> None:
    welsh = QUIZ.in_language("cy")
    assert QUIZ.title == "CSE core follow-up" and welsh.title == "Dilyniant craidd CSE"
    assert QUIZ.item("aoc-age").text.startswith("What is the age of consent")
    assert welsh.item("aoc-age").text == "Beth yw'r oedran cydsynio i weithgarwch rhywiol yng Nghymru a Lloegr?"
    assert [o.value for o in welsh.item("aoc-age").options] == [o.value for o in QUIZ.item("aoc-age").options]
    assert QUIZ.text_in("perp-who", "cy") == "Pwy all gamfanteisio'n rhywiol ar blentyn?"
    assert QUIZ.in_language("fr") is QUIZ.in_language("en")  # not written in it: English


def test_a_stored_definition_keeps_every_language_and_its_checksum() -> None:
    again = QuizSet.from_definition(QUIZ.to_definition())
    assert again == QUIZ and again.checksum == QUIZ.checksum
    assert again.in_language("cy").item("commit-review").barrier.startswith("Beth wnaeth eich rhwystro?")


def test_a_review_without_its_own_barrier_asks_it_in_the_persons_language() -> None:
    quiz = load_quiz_set(BILINGUAL)
    assert quiz.in_language("cy").item("review").barrier == "Beth wnaeth eich rhwystro?"
    assert quiz.item("review").barrier == "What got in the way?"
    welsh_only = BILINGUAL.replace("[en, cy]", "[cy]")
    for english in ("{en: Tiny, ", "{en: A tiny set., ", "{en: Pick one., ", "{en: What will you do?, "):
        welsh_only = welsh_only.replace(english, "{")
    welsh_only = welsh_only.replace("{en: Done it?, ", "{").replace("en: Red, ", "").replace("en: Green, ", "")
    welsh_only = welsh_only.replace("en: Coch, ", "")
    quiz = load_quiz_set(welsh_only)
    assert quiz.language_codes == ("cy",) and quiz.title == "Bach"
    assert quiz.item("review").barrier == "Beth wnaeth eich rhwystro?"


def test_the_engine_asks_in_welsh() -> None:
    prompt = Conversation(QUIZ, "pre", PRE, language="cy").next_prompt()
    assert prompt.text.startswith("Rwy'n teimlo'n hyderus")
    assert [choice.label for choice in prompt.choices][::4] == ["Anghytuno'n gryf", "Cytuno'n gryf"]
    english = Conversation(QUIZ, "pre", PRE, language="en").next_prompt()
    assert english.text.startswith("I feel confident") and english.choices[0].label == "Strongly disagree"


def test_welsh_feedback_explains_in_welsh() -> None:
    answers = {item.id: "3" for item in QUIZ.items_for("post") if item.kind == "likert"}
    outcome = Conversation(QUIZ, "post", POST, answers, language="cy").accept("a")
    assert outcome.correct is False and "16 ydyw, beth bynnag yw'r berthynas." in outcome.feedback


@pytest.mark.parametrize(
    ("language", "typed"), [("en", "Cytuno"), ("en", "cytuno"), ("cy", "Agree"), ("cy", "Cytuno"), ("en", "Agree")]
)
def test_a_likert_label_typed_in_either_language_is_understood(language: str, typed: str) -> None:
    outcome = Conversation(QUIZ, "pre", PRE, language=language).accept(typed)
    assert outcome.recorded == Recorded("att-confidence-signs", "4", 4.0)


def test_answers_in_either_language_store_the_same_option_value() -> None:
    answers = {item.id: "3" for item in QUIZ.items_for("pre") if item.kind == "likert"}
    in_welsh = Conversation(QUIZ, "pre", PRE, answers, language="cy").accept("Mae'n dibynnu ar y berthynas")
    in_english = Conversation(QUIZ, "pre", PRE, answers, language="en").accept("it depends on the relationship")
    assert in_welsh.recorded == in_english.recorded == Recorded("aoc-age", "d", 0.0)
    crossed = Conversation(QUIZ, "pre", PRE, answers, language="en").accept("Mae'n dibynnu ar y berthynas")
    assert crossed.recorded == in_english.recorded


def test_the_persons_own_language_wins_and_a_label_of_no_option_is_asked_again() -> None:
    quiz = load_quiz_set(BILINGUAL)
    # "Coch" is option a in Welsh and option c in English: each reader gets their own language's.
    assert Conversation(quiz, "post", POST, language="cy").accept("Coch").recorded.value == "a"
    assert Conversation(quiz, "post", POST, language="en").accept("coch").recorded.value == "c"
    assert Conversation(quiz, "post", POST, language="en").accept("Glas").recorded.value == "c"
    refused = Conversation(quiz, "post", POST, language="cy").accept("Porffor")
    assert refused.recorded is None and "Coch" in refused.reprompt and "Red" not in refused.reprompt


def test_preview_asks_in_welsh_and_refuses_a_language_the_set_is_not_written_in() -> None:
    result = CliRunner().invoke(cli, ["preview", "cse-core", "--wave", "pre", "--language", "cy"], input="Agree\n")
    assert result.exit_code == 0, result.output
    assert "Dilyniant craidd CSE" in result.output and "Croeso i'ch gwiriad ar gyfer" in result.output
    assert "[1 of 15] Rwy'n teimlo'n hyderus" in result.output and "[2 of 15] Mae rhai pobl ifanc" in result.output
    refused = CliRunner().invoke(cli, ["preview", "cse-core", "--language", "fr"])
    assert refused.exit_code == 2 and "'fr' is not one of en, cy" in refused.output
