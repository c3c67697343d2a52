"""The wave grammar: one parser for names, months, labels and order."""

import pytest

from surveys.domain import waves


def test_wave_months_are_calendar_months_after_the_course():
    assert [waves.months(w) for w in ("pre", "post", "1m", "3m", "6m", "12m")] == [0, 0, 1, 3, 6, 12]


@pytest.mark.parametrize("text", ["", "0m", "00m", "3w", "month", "m3", "100m", "Post", " 3m"])
def test_an_unknown_wave_is_refused_with_what_waves_look_like(text):
    with pytest.raises(waves.WaveError, match="unknown wave.*pre, post"):
        waves.parse(text)


def test_waves_are_said_in_words():
    assert waves.label("pre") == "before the course"
    assert waves.label("post") == "at the end of the course"
    assert waves.label("1m") == "one month after the course"
    assert waves.label("6m") == "six months after the course"
    assert waves.label("30m") == "30 months after the course"


def test_a_wave_list_is_parsed_into_time_order_and_defaults_to_pre_post_3m_6m():
    assert waves.parse_list("6m, post,pre ,3m") == ("pre", "post", "3m", "6m")
    assert waves.parse_list(None) == waves.parse_list("  ") == ("pre", "post", "3m", "6m")


@pytest.mark.parametrize(
    ("text", "problem"), [("post,later", "later"), ("post,post", "twice"), ("[post]", r"\[post\]")]
)
def test_a_bad_wave_list_names_the_problem(text, problem):
    with pytest.raises(waves.WaveError, match=problem):
        waves.parse_list(text)


def test_waves_sort_pre_post_then_months():
    assert sorted(["12m", "post", "3m", "pre", "1m"], key=waves.order_key) == ["pre", "post", "1m", "3m", "12m"]
