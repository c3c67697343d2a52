"""Loading and validating quiz-set YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys.domain.quizset import QuizSet, QuizSetInvalid, bundled_quiz_sets, load_quiz_set

DATA = Path(__file__).resolve().parents[1] / "support" / "data"
VALID = DATA / "valid.yaml"


def errors_of(source: str | Path) -> list[str]:
    with pytest.raises(QuizSetInvalid) as caught:
        load_quiz_set(source, filename="set.yaml")
    return [str(error) for error in caught.value.errors]


def test_a_valid_set_loads_with_its_items_in_file_order() -> None:
    quiz = load_quiz_set(VALID)
    assert quiz.slug == "mini-cse"
    assert [item.id for item in quiz.items][:3] == ["aoc", "choice-myth", "who-refers"]
    assert [item.id for item in quiz.items_for("post")] == ["aoc", "choice-myth", "vb-clothes", "se-powerless"]


def test_every_mistake_in_a_file_is_reported_at_once_with_line_col_and_item() -> None:
    assert errors_of(DATA / "many-errors.yaml") == [
        "set.yaml:5:1: unknown key 'colour' (allowed: slug, title, description, language, languages, estimate_minutes, "
        "feedback, waves, intro, items)",
        "set.yaml:16:14: item 'aoc': correct answer 'd' is not one of the option values (a, b)",
        "set.yaml:17:9: item 'aoc': duplicate id 'aoc' (first used by item 1)",
        "set.yaml:19:11: item 'aoc': unknown placeholder '{{ course_name }}' (allowed: course_title, "
        "months_since, wave, wave_label)",
        "set.yaml:21:19: item 'aoc': wave '9m' is not one of the set's waves (post, 3m)",
        "set.yaml:29:5: item 'vb': a Likert item needs exactly 5 labels (strongly disagree … strongly agree), found 4",
        "set.yaml:31:11: item 'multi': unknown kind 'multiple_choice' (expected one of: single_choice, "
        "true_false, likert, yes_no, number, text, commitments, commitment_review, commitment_reminder)",
        "set.yaml:37:11: item 'long-label': template syntax error: Unexpected end of template. Jinja was looking "
        "for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.",
        "set.yaml:39:5: item 'long-label': waves must not be empty",
        "set.yaml:41:27: item 'long-label': label is 52 characters; buttons allow at most 40: "
        "'This label is much too long to fit on a phone button'",
        "set.yaml:43:5: item 'long-label': unknown key 'hint' (allowed: id, text, tags, waves, source, required, "
        "show_if, kind, options, correct, explanation)",
    ]


def test_a_yaml_syntax_error_points_at_the_line_and_column() -> None:
    assert errors_of("slug: x\nwaves: [post\nitems: []\n") == [
        "set.yaml:3:6: YAML syntax error: expected ',' or ']', but got ':' (while parsing a flow sequence)"
    ]


def test_a_file_that_is_not_a_mapping_is_a_set_level_error_without_an_item() -> None:
    assert errors_of("- just\n- a list\n") == [
        "set.yaml:1:1: a quiz set must be a mapping of keys (slug, title, items …), found a list"
    ]


def valid_text() -> str:
    return VALID.read_text(encoding="utf-8")


def test_a_text_too_long_after_rendering_the_longest_course_title_is_an_error() -> None:
    # 4000 characters fit on their own but not with a 120-character course title.
    text = valid_text().replace(
        "text: What is the age of consent in England and Wales?",
        'text: "{{ course_title }} ' + "x" * 4000 + '"',
    )
    [error] = errors_of(text)
    assert error.startswith("set.yaml:13:11: item 'aoc': text is 4121 characters after rendering")


def test_a_missing_key_points_at_the_item_and_names_the_key() -> None:
    text = valid_text().replace("    min: 0\n", "")
    assert errors_of(text) == ["set.yaml:58:5: item 'cases-seen': missing key 'min'"]


def test_a_wave_without_items_and_a_knowledge_item_without_answer_are_reported() -> None:
    text = valid_text().replace("waves: [post, 3m, 6m]\nintro", "waves: [pre, post, 3m, 6m]\nintro")
    text = text.replace(
        "tags: [practice]\n    waves: [3m, 6m]\n    min", "tags: [knowledge]\n    waves: [3m, 6m]\n    min"
    )
    assert errors_of(text) == [
        "set.yaml:7:9: no item is asked at wave 'pre'",
        "set.yaml:61:5: item 'cases-seen': an item tagged 'knowledge' needs a correct answer",
    ]


def test_nothing_invalid_ever_becomes_a_quiz_set() -> None:
    definition = load_quiz_set(VALID).to_definition()
    definition["items"][0]["correct"] = "z"
    with pytest.raises(QuizSetInvalid) as caught:
        QuizSet.from_definition(definition)
    assert "correct answer 'z' is not one of the option values" in str(caught.value)


def test_a_duplicate_id_in_a_stored_definition_is_refused_too() -> None:
    definition = load_quiz_set(VALID).to_definition()
    definition["items"][1]["id"] = "aoc"
    with pytest.raises(QuizSetInvalid, match="duplicate id 'aoc'"):
        QuizSet.from_definition(definition)


def test_the_checksum_is_stable_across_reloads_and_round_trips() -> None:
    first, second = load_quiz_set(VALID), load_quiz_set(valid_text())
    assert first.checksum == second.checksum
    assert QuizSet.from_definition(first.to_definition()).checksum == first.checksum
    assert QuizSet.from_definition(first.to_definition()) == first


def test_the_checksum_changes_when_a_text_changes() -> None:
    changed = load_quiz_set(valid_text().replace("age of consent in England", "age of consent in Wales"))
    assert changed.checksum != load_quiz_set(VALID).checksum


def test_a_loaded_set_is_frozen() -> None:
    quiz = load_quiz_set(VALID)
    with pytest.raises(ValueError):
        quiz.slug = "other"  # type: ignore[misc]


def test_every_bundled_set_is_valid() -> None:
    for path in bundled_quiz_sets():
        assert load_quiz_set(path).slug == path.stem
