"""The wording helper: templates and the short labels in labels.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveys import texts
from surveys.texts import label, render_text

ROOT = Path(__file__).resolve().parents[2]


def test_a_label_is_read_from_labels_yaml() -> None:
    assert label("consent.agree") == "Agree"
    assert label("checkin.start") == "Start now"


def test_a_label_with_a_placeholder_is_filled_in() -> None:
    assert label("admin.end", code="CSE-2026-03") == "End CSE-2026-03 now"


def test_labels_are_read_once_per_process() -> None:
    assert texts.shared().labels is texts.shared().labels


def test_an_unknown_label_names_the_key() -> None:
    with pytest.raises(KeyError, match="consent.maybe"):
        label("consent.maybe")


def test_an_unquoted_boolean_key_is_refused_with_its_place() -> None:
    with pytest.raises(ValueError, match="must be quoted text"):
        texts.flatten_labels({"answer": {True: "True"}})


def test_every_label_the_code_asks_for_exists() -> None:
    used = set()
    for folder in ("surveys", "bot", "scheduler"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r'\blabel\("([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert used, "no label() calls found"
    assert used <= set(texts.shared().labels), sorted(used - set(texts.shared().labels))


def test_the_engine_feedback_reads_as_before() -> None:
    assert render_text("feedback.txt", correct=True, explanation="", answer="16") == "Correct."
    wrong = render_text("feedback.txt", correct=False, explanation="Why.", answer="16", explained=False)
    assert wrong == "Not quite: the answer is 16. Why."
