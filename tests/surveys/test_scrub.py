"""Scrubbing contact details out of free-text answers."""

from __future__ import annotations

import pytest

from surveys.domain.scrub import scrub_free_text


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("mail jo.bloggs+cse@council.gov.uk today", "mail [removed] today"),
        ("call 07700 900123 please", "call [removed] please"),
        ("ring +44 20 7946 0958.", "ring [removed]."),
        ("tel (020) 7946 0958", "tel [removed]"),
        ("0044 7700 900123", "[removed]"),
        ("US office +1 (555) 123-4567", "US office [removed]"),
        ("she lives near SW1A 1AA", "she lives near [removed]"),
        ("postcode m1 1ae", "postcode [removed]"),
    ],
)
def test_contact_details_are_replaced(text: str, scrubbed: str) -> None:
    assert scrub_free_text(text) == scrubbed


@pytest.mark.parametrize(
    "text",
    ["16 children in 2024, 3 cases", "ref 12345", "born 2009-04-01", "I now ask about age of consent (16)."],
)
def test_ordinary_numbers_and_words_are_kept(text: str) -> None:
    assert scrub_free_text(text) == text


def test_telegram_handles_and_profile_links_are_removed_but_ordinary_at_signs_stay():
    text = "Ask @jo_smith99 or see t.me/jsmith and https://telegram.me/another; meet @ 3pm, 5 @ £2"
    assert scrub_free_text(text) == "Ask [removed] or see [removed] and [removed] meet @ 3pm, 5 @ £2"


def test_what_the_report_says_is_scrubbed_is_exactly_what_is_removed():
    from surveys.domain.scrub import REMOVED, SCRUBBED

    examples = {
        "e-mail addresses": "write to jo@example.org",
        "t.me and telegram.me links": "see t.me/jsmith",
        "@handles": "ask @jo_smith99",
        "phone numbers (9 to 15 digits)": "ring 07700 900123",
        "UK postcodes": "near SW1A 1AA",
    }
    assert set(SCRUBBED) == set(examples)
    for text in examples.values():
        assert REMOVED in scrub_free_text(text)
    assert scrub_free_text("Jo Smith from Leeds") == "Jo Smith from Leeds"  # names are not removed: the report says so
