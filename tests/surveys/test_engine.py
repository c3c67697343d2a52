"""The conversation engine: matching typed answers, re-prompts, resume, feedback and summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.domain.engine import Conversation, Recorded
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import bundled_quiz_set, load_quiz_set

QUIZ = load_quiz_set(Path(__file__).resolve().parents[1] / "support" / "data" / "valid.yaml")
THREE_MONTHS = RenderContext("CSE Level 2", "3m", 3)


def at_3m(answers: dict[str, str] | None = None) -> Conversation:
    return Conversation(QUIZ, "3m", THREE_MONTHS, answers or {})


@pytest.mark.parametrize("typed", ["b", "B", "B)", "b.", "(b)", " 16 ", "b) 16"])
def test_typed_letters_and_labels_match_a_single_choice_option(typed: str) -> None:
    assert at_3m().accept(typed).recorded == Recorded("aoc", "b", 1.0)


def test_a_number_is_not_a_position_when_the_labels_are_numbers() -> None:
    outcome = at_3m().accept("2")
    assert outcome.recorded is None
    assert outcome.reprompt == "Sorry, that isn't one of the choices. Tap a button or type: a) 13, b) 16, c) 18."


def test_a_number_is_a_position_when_the_labels_are_words() -> None:
    conversation = at_3m({"aoc": "b", "choice-myth": "false"})
    assert conversation.accept("2").recorded == Recorded("who-refers", "b", 0.0)
    assert at_3m({"aoc": "b", "choice-myth": "false"}).accept("designated  SAFEGUARDING lead").recorded.value == "a"


@pytest.mark.parametrize(("typed", "value"), [("True", "true"), ("t", "true"), ("YES", "true"), ("n", "false")])
def test_true_false_accepts_the_usual_spellings(typed: str, value: str) -> None:
    assert at_3m({"aoc": "b"}).accept(typed).recorded.value == value


@pytest.mark.parametrize(("typed", "value", "score"), [("4", "4", 2.0), ("strongly agree", "5", 1.0), ("1.", "1", 5.0)])
def test_a_reversed_likert_answer_is_scored_six_minus_the_point(typed: str, value: str, score: float) -> None:
    conversation = at_3m({"aoc": "b", "choice-myth": "false", "who-refers": "a", "vb-clothes": "2"})
    assert conversation.accept(typed).recorded == Recorded("se-powerless", value, score)


def answered_up_to(item_id: str) -> dict[str, str]:
    ids = [item.id for item in QUIZ.items_for("3m")]
    sample = {
        "aoc": "b",
        "choice-myth": "false",
        "who-refers": "a",
        "vb-clothes": "2",
        "se-powerless": "4",
        "shared-learning": "yes",
        "cases-seen": "3",
    }
    return {i: sample[i] for i in ids[: ids.index(item_id)]}


@pytest.mark.parametrize(("typed", "value"), [("16 years", "16"), ("0", "0"), ("100", "100"), (" 7 ", "7")])
def test_a_number_item_takes_a_whole_number_in_range_with_words_after_it(typed: str, value: str) -> None:
    assert at_3m(answered_up_to("cases-seen")).accept(typed).recorded.value == value


@pytest.mark.parametrize("typed", ["sixteen", "101", "-1", "16.5", "", "about 16"])
def test_a_number_item_reprompts_for_anything_else(typed: str) -> None:
    outcome = at_3m(answered_up_to("cases-seen")).accept(typed)
    assert outcome.recorded is None
    assert "whole number from 0 to 100" in outcome.reprompt


def test_an_optional_text_item_can_be_skipped_and_a_long_answer_is_refused_with_the_limit() -> None:
    conversation = at_3m(answered_up_to("change"))
    assert conversation.accept("x" * 201).reprompt == "That's 201 characters; please keep it to 200 or fewer."
    assert conversation.accept("Skip").recorded == Recorded("change", "", None)
    assert conversation.done


def test_a_free_text_answer_is_stored_as_typed_without_surrounding_space() -> None:
    assert at_3m(answered_up_to("change")).accept("  I ask more questions.  ").recorded.value == "I ask more questions."


def test_a_button_for_another_item_reprompts_and_records_nothing() -> None:
    conversation = at_3m()
    outcome = conversation.accept("a", item_id="choice-myth")
    assert outcome.recorded is None and outcome.reprompt.startswith("That button belongs to another question.")
    assert conversation.accept("b", item_id="aoc").recorded is not None


def test_resuming_from_stored_answers_continues_at_the_first_unanswered_item() -> None:
    conversation = at_3m({"aoc": "a", "choice-myth": "true", "other-wave-item": "x"})
    prompt = conversation.next_prompt()
    assert (prompt.item_id, prompt.progress) == ("who-refers", "3 of 8")
    assert conversation.answers == {"aoc": "a", "choice-myth": "true"}


def test_a_prompt_renders_placeholders_and_offers_buttons_and_a_hint() -> None:
    prompt = at_3m(answered_up_to("cases-seen")).next_prompt()
    assert prompt.text == "How many CSE concerns have you raised in the last 3 months?"
    assert prompt.hint == "Type a whole number from 0 to 100 (concerns)"
    first = at_3m().next_prompt()
    assert [c.label for c in first.choices] == ["13", "16", "18"]
    assert first.hint == "Tap a button or type a, b, c"


def test_feedback_says_correct_or_gives_the_right_answer_and_explanation() -> None:
    assert at_3m().accept("16").feedback == "Correct — The age of consent is 16 (Sexual Offences Act 2003)."
    wrong = at_3m().accept("a")
    assert wrong.correct is False
    # The explanation names the answer (16), so feedback does not say it first as well.
    assert wrong.feedback == "Not quite — The age of consent is 16 (Sexual Offences Act 2003)."
    assert at_3m({"aoc": "b"}).accept("true").feedback == (
        "Not quite: the answer is False. A child cannot consent to their own exploitation."
    )


CSE_CORE = load_quiz_set(bundled_quiz_set("cse-core"))


def _wrong_feedback(item_id: str, typed: str) -> str | None:
    """The feedback to `typed` for one item of the bundled set at post, the items before it answered."""
    ids = [item.id for item in CSE_CORE.items_for("post")]
    answers = dict.fromkeys(ids[: ids.index(item_id)], "1")
    return Conversation(CSE_CORE, "post", RenderContext("CSE Level 2", "post", 0), answers).accept(typed).feedback


def test_true_false_feedback_states_the_answer_once() -> None:
    assert _wrong_feedback("aoc-under-13", "true") == (
        "Not quite — False. A child under 13 cannot legally consent to sexual activity in any circumstances. "
        'Don\'t describe a 12-year-old as "sexually active".'
    )


def test_single_choice_feedback_states_the_answer_once() -> None:
    assert _wrong_feedback("aoc-17-exchange", "a") == (
        "Not quite — Yes. 16- and 17-year-olds are children and can be victims of CSE even though they can "
        "legally consent to sex. Getting something in exchange doesn't make her less of a victim: children "
        "cannot consent to their own abuse."
    )
    assert _wrong_feedback("perp-who", "a").startswith(
        "Not quite: the answer is Any gender or age, alone or in groups. Perpetrators can be individuals"
    )


def test_the_summary_does_not_repeat_an_answer_its_explanation_gives() -> None:
    conversation = at_3m()
    conversation.accept("a")
    conversation.accept("true")
    missed = {m.item_id: m.explained for m in conversation.summary().missed}
    assert missed == {"aoc": True, "choice-myth": False}


def test_unscored_items_get_no_feedback() -> None:
    outcome = at_3m(answered_up_to("vb-clothes")).accept("3")
    assert outcome.feedback is None and outcome.correct is None


def test_no_feedback_when_the_set_turns_it_off() -> None:
    quiz = QUIZ.model_copy(update={"feedback": False})
    assert Conversation(quiz, "post", THREE_MONTHS).accept("a").feedback is None


def test_the_summary_lists_missed_items_with_the_right_answer() -> None:
    conversation = at_3m()
    for typed in ["a", "false", "b", "4", "2", "no", "3", "skip"]:
        assert conversation.accept(typed).recorded is not None
    summary = conversation.summary()
    assert (summary.correct, summary.scored, round(summary.knowledge_percent, 2)) == (1, 3, 33.33)
    assert [(m.item_id, m.answer_label, m.correct_label) for m in summary.missed] == [
        ("aoc", "13", "16"),
        ("who-refers", "The child's parents", "Designated safeguarding lead"),
    ]
    assert summary.construct_means == {"victim_blaming": 4.0, "self_efficacy": 4.0}
    assert conversation.next_prompt() is None
    assert conversation.accept("a").recorded is None


def test_an_unknown_wave_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of the set's waves"):
        Conversation(QUIZ, "pre", THREE_MONTHS)


# Everything a practitioner might send: button values, labels, numbers, junk.
BUTTON_VALUES = ["a", "b", "c", "true", "false", "1", "2", "3", "4", "5", "yes", "no", "skip"]
messages = st.lists(
    st.one_of(st.sampled_from(BUTTON_VALUES), st.text(max_size=30), st.integers(-5, 120).map(str)),
    max_size=40,
)


def hand_knowledge(answers: dict[str, str]) -> float | None:
    right = {"aoc": "b", "choice-myth": "false", "who-refers": "a"}
    marks = [answers[i] == right[i] for i in right if i in answers]
    return 100 * sum(marks) / len(marks) if marks else None


def hand_constructs(answers: dict[str, str]) -> dict[str, float]:
    means: dict[str, float] = {}
    if "vb-clothes" in answers:
        means["victim_blaming"] = int(answers["vb-clothes"])
    if "se-powerless" in answers:
        means["self_efficacy"] = 6 - int(answers["se-powerless"])
    return means


@settings(max_examples=300, deadline=None)
@given(sent=messages, use_ids=st.booleans())
def test_any_sequence_of_messages_records_valid_answers_or_reprompts(sent: list[str], use_ids: bool) -> None:
    conversation = at_3m()
    valid = {
        "aoc": {"a", "b", "c"},
        "choice-myth": {"true", "false"},
        "who-refers": {"a", "b"},
        "vb-clothes": set("12345"),
        "se-powerless": set("12345"),
        "shared-learning": {"yes", "no"},
    }
    for raw in sent:
        before = conversation.next_prompt()
        outcome = conversation.accept(raw, item_id=before.item_id if (before and use_ids) else None)
        if outcome.recorded is None:
            assert outcome.reprompt
            assert conversation.next_prompt() == before
            continue
        assert before is not None and outcome.recorded.item_id == before.item_id
        value = outcome.recorded.value
        if before.item_id in valid:
            assert value in valid[before.item_id]
        elif before.item_id == "cases-seen":
            assert 0 <= int(value) <= 100
        else:
            assert len(value) <= 200
    answers = conversation.answers
    summary = conversation.summary()
    expected = hand_knowledge(answers)
    if expected is None:
        assert summary.knowledge_percent is None
    else:
        assert summary.knowledge_percent == pytest.approx(expected)
    assert summary.construct_means == pytest.approx(hand_constructs(answers))
