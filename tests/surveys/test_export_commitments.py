"""Exports carry commitments, their statuses and barriers with labels, and tell "not asked (branch)" from skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from surveys.domain.quizset import load_quiz_set
from surveys.domain.states import CheckInState
from surveys.reporting.codebook import NOT_ASKED
from surveys.reporting.export import codebook_path, export
from surveys.store.catalog import import_quiz_set
from surveys.store.courses import create_course
from surveys.store.enrolments import enrol
from surveys.store.invites import issue_invite
from tests.support.synthetic import _store_wave as store_wave

BRANCHING = Path(__file__).resolve().parents[1] / "support" / "data" / "branching.yaml"
QUIZ = load_quiz_set(BRANCHING)


def rows(wave: str, answers: dict[str, str]) -> list:
    items = {item.id: item for item in QUIZ.items}
    return [(row_id, items[row_id.split(".")[0]], value) for row_id, value in answers.items()]


@pytest.fixture
async def two_people(sessions, now):
    """Alice made one commitment and had not done it at 3m; Bob made none."""
    async with sessions() as session, session.begin():
        await import_quiz_set(session, QUIZ, now)
        course = await create_course(
            session,
            code="BR-1",
            title="CSE awareness level 2",
            delivered_on=date(2025, 6, 2),
            level=2,
            quiz_ref=QUIZ.slug,
            now=now,
            waves=("post", "1m", "3m"),
        )
        invite = (await issue_invite(session, course, now)).invite
        start = datetime.combine(course.delivered_on, time(15, 0), tzinfo=UTC)
        alice = await enrol(session, invite, 7_100_000_001, now, role="teacher", agency="education")
        bob = await enrol(session, invite, 7_100_000_002, now, role="police", agency="police")
        done = CheckInState.COMPLETED
        alice_post = {"job": "a", "note": "", "commit.1": "Ask about older boyfriends", "commit": "1"}
        await store_wave(session, alice, "post", start, rows("post", alice_post), done)
        alice_3m = {
            "job": "b",
            "supervises": "no",
            "note": "",
            "review.1": "notyet",
            "review.1.barrier": "No time this term",
            "review": "1",
            "support": "no",
        }
        await store_wave(session, alice, "3m", start + timedelta(days=92), rows("3m", alice_3m), done)
        await store_wave(session, bob, "post", start, rows("post", {"job": "a", "note": "", "commit": "0"}), done)
        await store_wave(session, bob, "3m", start + timedelta(days=92), rows("3m", {"job": "a", "note": "hi"}), done)
        return alice.pseudonym, bob.pseudonym


async def test_wide_marks_what_a_branch_left_out_and_keeps_skipped_empty(sessions, two_people, tmp_path):
    async with sessions() as session:
        await export(session, ["BR-1"], "csv", "wide", tmp_path / "wide.csv")
    wide = pd.read_csv(tmp_path / "wide.csv", dtype=str, keep_default_na=False).set_index(["pseudonym", "wave"])
    alice, bob = two_people
    alice_post, alice_3m, bob_post, bob_3m = (
        wide.loc[key] for key in ((alice, "post"), (alice, "3m"), (bob, "post"), (bob, "3m"))
    )
    assert (alice_post["supervises"], alice_post["how-many"], alice_post["note"]) == (NOT_ASKED, NOT_ASKED, "")
    assert alice_post["commit.1"] == "Ask about older boyfriends" and alice_post["commit"] == "1"
    assert (alice_3m["review.1"], alice_3m["review.1.barrier"], alice_3m["review"]) == (
        "notyet",
        "No time this term",
        "1",
    )
    assert alice_3m["support"] == "no" and alice_3m["support-who"] == NOT_ASKED
    assert bob_post["commit"] == "0" and bob_post["commit.1"] == ""
    # Bob made no commitments: nothing to review, so neither the review nor its follow-up was asked.
    assert (bob_3m["review"], bob_3m["support"]) == (NOT_ASKED, NOT_ASKED)
    codebook = pd.read_csv(codebook_path(tmp_path / "wide.csv"), dtype=str, keep_default_na=False).set_index("variable")
    assert "notyet=Not yet" in codebook.at["review.1", "values"]
    assert codebook.at["review.1.barrier", "label"] == "Commitment 1: What got in the way?"
    assert codebook.at["commit.1", "label"] == "Commitment 1 as typed (scrubbed)"
    assert f"{NOT_ASKED}=not asked (branch)" in codebook.at["supervises", "values"]


async def test_long_carries_every_commitment_row_and_spss_labels_the_statuses(sessions, two_people, tmp_path):
    async with sessions() as session:
        await export(session, ["BR-1"], "csv", "long", tmp_path / "long.csv")
        await export(session, ["BR-1"], "sav", "wide", tmp_path / "wide.sav")
    long = pd.read_csv(tmp_path / "long.csv", dtype=str, keep_default_na=False)
    assert {"commit.1", "commit", "review.1", "review.1.barrier", "review"} <= set(long["item_id"])
    assert long.loc[long["item_id"] == "review.1.barrier", "value"].tolist() == ["No time this term"]
    codebook = pd.read_csv(codebook_path(tmp_path / "long.csv"), dtype=str, keep_default_na=False)
    assert {"commit.1", "commit.3", "review.3.barrier"} <= set(codebook["variable"])
    data, meta = pyreadstat.read_sav(str(tmp_path / "wide.sav"))
    assert meta.variable_value_labels["review_1"]["partly"] == "Partly"
    assert meta.column_names_to_labels["commit_1"] == "commit.1: Commitment 1 as typed (scrubbed)"
    assert set(data["how_many"].dropna()) <= {float(NOT_ASKED)} | set(map(float, range(1, 51)))
