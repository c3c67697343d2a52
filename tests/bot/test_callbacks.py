"""Callback data: one kind per button, built and parsed in bot.callbacks only."""

from __future__ import annotations

import re

import pytest

from bot.callbacks import Kind, encode, handler_pattern, parse

EXAMPLES = {
    Kind.ANSWER: (12, 3, 1),
    Kind.START: (12,),
    Kind.SNOOZE: (12,),
    Kind.CONSENT: ("A" * 22, "cy"),
    Kind.DECLINE: ("A" * 22,),
    Kind.CONFIRM: ("erase",),
    Kind.PROFILE: (7, "agency", 2),
    Kind.ADMIN: ("quiz", "cse-core@2"),
    Kind.LANGUAGE: ("cy", "A" * 22),
    Kind.IN_DEPTH: (12, "referral"),
    Kind.CPD: ("skip",),
}


def test_every_kind_has_an_example_here() -> None:
    assert set(EXAMPLES) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind))
def test_a_button_reads_back_as_what_it_was_built_from(kind: Kind) -> None:
    data = encode(kind, *EXAMPLES[kind])
    parsed = parse(data)
    assert parsed is not None and parsed.kind is kind and parsed.args == tuple(str(a) for a in EXAMPLES[kind])


@pytest.mark.parametrize("kind", list(Kind))
def test_the_handler_pattern_routes_exactly_its_own_kinds(kind: Kind) -> None:
    for other in Kind:
        routed = re.match(handler_pattern(kind), encode(other, *EXAMPLES[other])) is not None
        assert routed == (other is kind)


@pytest.mark.parametrize("data", ["a:1:0", "s:x", "q:1", "", "a:1:0:0:0", "c:everything"])
def test_malformed_data_parses_to_nothing(data: str) -> None:
    assert parse(data) is None


def test_data_that_would_be_refused_by_telegram_is_not_built() -> None:
    with pytest.raises(ValueError):
        encode(Kind.ADMIN, "quiz", "x" * 60)
