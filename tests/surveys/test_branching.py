"""show_if and the commitment kinds in the engine: hidden items are never asked, no answer sequence stalls."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.domain import commitments
from surveys.domain.engine import Conversation
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import CommitmentReviewItem, QuizSet, QuizSetInvalid, load_quiz_set

DATA = Path(__file__).resolve().parents[1] / "support" / "data"
QUIZ = load_quiz_set(DATA / "branching.yaml")
POST = RenderContext("CSE Level 2", "post", 0)
THREE = RenderContext("CSE Level 2", "3m", 3)
OWN = {"commit": ("Ask about older boyfriends", "Refer through the pathway sooner")}


def condition_holds(quiz: QuizSet, item_id: str, answers: dict[str, str]) -> bool:
    """The show_if rule written out again, independently of the engine."""
    condition = quiz.item(item_id).show_if
    if condition is None:
        return True
    target = quiz.item(condition.item)
    if isinstance(target, CommitmentReviewItem):
        return any(answers.get(commitments.entry_id(target.id, n)) in condition.values for n in range(1, 10))
    return answers.get(condition.item) in condition.values


def owner(answer_id: str) -> str:
    part = commitments.split(answer_id)
    return part.item_id if part else answer_id


# Each draw is either a button (by position) or typed text, some of it nonsense.
moves = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=7),
        st.sampled_from(["", "👍", "skip", "yes", "no", "7", "banana", "x" * 300, "not yet", "That's all"]),
        st.text(max_size=20),
    ),
    max_size=60,
)


def drive(conversation: Conversation, sequence: list[int | str]) -> None:
    """Answer with the sequence (then always the last button: "That's all", "Skip") and check every prompt."""
    last_total = None
    for step in range(200):
        prompt = conversation.next_prompt()
        if prompt is None:
            summary = conversation.summary()
            assert summary.answered == summary.total
            return
        item_id = owner(prompt.item_id)
        assert condition_holds(conversation.quiz, item_id, conversation.answers), f"{item_id} is hidden"
        assert 1 <= prompt.position <= prompt.total
        assert last_total is None or prompt.total <= last_total  # the total only shrinks
        last_total = prompt.total
        move = sequence[step] if step < len(sequence) else -1
        if isinstance(move, int):
            raw = prompt.choices[move % len(prompt.choices)].value if prompt.choices else "3"
        else:
            raw = move
        outcome = conversation.accept(raw, item_id=prompt.item_id)
        for row in outcome.records:
            assert owner(row.item_id) == item_id
    pytest.fail("the check-in never ended")


@settings(max_examples=150, deadline=None)
@given(sequence=moves)
def test_post_never_asks_a_hidden_item_and_always_ends(sequence: list[int | str]) -> None:
    drive(Conversation(QUIZ, "post", POST), sequence)


@settings(max_examples=150, deadline=None)
@given(sequence=moves, made=st.integers(min_value=0, max_value=3))
def test_a_review_never_asks_a_hidden_item_and_always_ends(sequence: list[int | str], made: int) -> None:
    own = {"commit": tuple(f"Commitment {n}" for n in range(1, made + 1))}
    drive(Conversation(QUIZ, "3m", THREE, own=own), sequence)


@settings(max_examples=100, deadline=None)
@given(sequence=moves)
def test_resuming_from_the_stored_answers_asks_the_same_next_step(sequence: list[int | str]) -> None:
    conversation = Conversation(QUIZ, "3m", THREE, own=OWN)
    for move in sequence:
        prompt = conversation.next_prompt()
        if prompt is None:
            break
        raw = (
            prompt.choices[move % len(prompt.choices)].value if isinstance(move, int) and prompt.choices else str(move)
        )
        conversation.accept(raw, item_id=prompt.item_id)
        resumed = Conversation(QUIZ, "3m", THREE, conversation.answers, own=OWN)
        assert resumed.next_prompt() == conversation.next_prompt()


def test_progress_counts_only_what_will_be_asked() -> None:
    conversation = Conversation(QUIZ, "post", POST)
    first = conversation.next_prompt()
    # role, supervises, how-many (not known yet: counted), note, commit.
    assert first is not None and first.progress == "1 of 5"
    conversation.accept("a")  # frontline: supervises and how-many are not asked
    following = conversation.next_prompt()
    assert following is not None and (following.item_id, following.progress) == ("note", "2 of 3")


def test_a_manager_is_asked_the_follow_up_and_a_frontline_worker_is_not() -> None:
    manager = Conversation(QUIZ, "post", POST, {"job": "b"})
    frontline = Conversation(QUIZ, "post", POST, {"job": "a"})
    assert manager.next_prompt().item_id == "supervises"
    assert frontline.next_prompt().item_id == "note"


def test_commitments_are_typed_one_per_message_scrubbed_and_closed_by_thats_all() -> None:
    conversation = Conversation(QUIZ, "post", POST, {"job": "a", "note": ""})
    assert conversation.accept("   ").reprompt  # empty: asked again, nothing stored
    assert conversation.accept("👍").records == ()
    assert "280" in (conversation.accept("x" * 281).reprompt or "")
    first = conversation.accept("Ask about gifts; call me on 07700 900123")
    assert [(r.item_id, r.value) for r in first.records] == [("commit.1", "Ask about gifts; call me on [removed]")]
    prompt = conversation.next_prompt()
    assert prompt is not None and "«Ask about gifts; call me on [removed]»" in prompt.text
    assert [c.label for c in prompt.choices] == ["Add another", "That's all"]
    assert conversation.accept("more").records == ()  # "Add another" stores nothing
    closing = conversation.accept("enough")
    assert [(r.item_id, r.value) for r in closing.records] == [("commit", "1")]
    assert conversation.done


def test_the_third_commitment_closes_the_item_and_none_at_all_is_allowed() -> None:
    conversation = Conversation(QUIZ, "post", POST, {"job": "a", "note": ""})
    conversation.accept("One")
    conversation.accept("Two")
    third = conversation.accept("Three")
    assert [r.item_id for r in third.records] == ["commit.3", "commit"] and third.also[0].value == "3"
    none = Conversation(QUIZ, "post", POST, {"job": "a", "note": ""})
    assert [(r.item_id, r.value) for r in none.accept("Skip").records] == [("commit", "0")]


def test_a_review_shows_each_commitment_back_and_asks_the_barrier_only_when_not_done() -> None:
    conversation = Conversation(QUIZ, "3m", THREE, {"job": "a", "note": ""}, own=OWN)
    prompt = conversation.next_prompt()
    assert prompt is not None and "«Ask about older boyfriends»" in prompt.text and prompt.progress == "3 of 6"
    assert [c.label for c in prompt.choices] == ["Done", "Partly", "Not yet", "No longer relevant"]
    conversation.accept("done")
    assert conversation.next_prompt().item_id == "review.2"  # no barrier after "done"
    conversation.accept("Not yet")
    barrier = conversation.next_prompt()
    assert barrier is not None and barrier.item_id == "review.2.barrier" and "Refer through" in barrier.text
    rows = conversation.accept("No time; e-mail me at a@b.org").records
    assert [(r.item_id, r.value) for r in rows] == [
        ("review.2.barrier", "No time; e-mail me at [removed]"),
        ("review", "2"),
    ]
    assert conversation.next_prompt().item_id == "support"  # shown: one status is "notyet"


def test_a_person_without_commitments_skips_the_review_and_its_follow_ups() -> None:
    conversation = Conversation(QUIZ, "3m", THREE, {"job": "a", "note": ""}, own={})
    assert conversation.done
    assert Conversation(QUIZ, "1m", RenderContext("T", "1m", 1), own=OWN).done  # a message-only wave asks nothing


BASE = """\
slug: bad-branch
title: T
description: D
estimate_minutes: 2
waves: [post, 3m]
items:
  - id: first
    kind: yes_no
    text: Q?
    tags: [practice]
    waves: [post, 3m]
{show_if}
  - id: second
    kind: yes_no
    text: Q2?
    tags: [practice]
    waves: [{second_waves}]
"""


def errors(show_if: str, second_waves: str = "post, 3m", tail: str = "") -> list[str]:
    text = BASE.format(show_if=show_if, second_waves=second_waves) + tail
    with pytest.raises(QuizSetInvalid) as caught:
        load_quiz_set(text, filename="set.yaml")
    return [str(e) for e in caught.value.errors]


def test_a_forward_show_if_is_refused_at_file_line_col() -> None:
    assert errors('    show_if: {item: second, in: ["yes"]}') == [
        "set.yaml:12:21: item 'first': show_if names item 'second', which comes later (item 2): "
        "it must point at an earlier item"
    ]


def test_an_unknown_item_an_impossible_value_and_a_wave_never_asked_are_refused() -> None:
    tail = '    show_if: {item: first, in: ["yes", maybe]}\n'
    assert errors("", "post, 3m", tail) == [
        "set.yaml:18:40: item 'second': item 'first' can never be 'maybe' (it can be: no, yes)"
    ]
    assert errors("", "post, 3m", '    show_if: {item: nowhere, in: ["yes"]}\n') == [
        "set.yaml:18:21: item 'second': show_if names item 'nowhere', which is not in the set"
    ]
    only_post = BASE.replace("waves: [post, 3m]\n{show_if}", "waves: [post]\n{show_if}")
    text = only_post.format(show_if="", second_waves="post, 3m") + '    show_if: {item: first, in: ["yes"]}\n'
    with pytest.raises(QuizSetInvalid) as caught:
        load_quiz_set(text, filename="set.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "set.yaml:18:21: item 'second': show_if names item 'first', which is not asked at wave(s) 3m"
    ]


def test_a_review_must_name_a_commitments_item_asked_earlier() -> None:
    tail = """\
  - id: review
    kind: commitment_review
    of: second
    text: Done?
    tags: [commitments]
    waves: [3m]
"""
    assert errors("", "post, 3m", tail) == [
        "set.yaml:20:9: item 'review': 'of' must name a commitments item of the set; 'second' is not one"
    ]


def test_sets_without_show_if_keep_their_checksum() -> None:
    assert "show_if" not in QUIZ.to_definition()["items"][0]
    assert QuizSet.from_definition(QUIZ.to_definition()) == QUIZ


def test_an_item_is_undecided_until_the_answer_it_depends_on_is_given() -> None:
    supervises, how_many = QUIZ.item("supervises"), QUIZ.item("how-many")
    assert Conversation(QUIZ, "post", POST).shown(supervises) is None  # job not answered yet
    assert Conversation(QUIZ, "post", POST, {"job": "b"}).shown(how_many) is None
    assert Conversation(QUIZ, "post", POST, {"job": "a"}).shown(how_many) is False  # its chain is hidden
    assert Conversation(QUIZ, "post", POST, {"job": "b", "supervises": "yes"}).shown(how_many) is True
