"""The in-depth follow-up's rules: which wave, who is drawn (seeded, stratified by agency), the case-study questions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from math import gcd

from surveys.domain import waves

DEFAULT_SHARE = 25
"""The board's plan: a deeper follow-up with 25% of attendees, three months or more after the course."""

FROM_MONTHS = 3
NOT_STATED = "not stated"
"""The stratum of people whose agency is not known."""

STATUSES = ("invited", "agreed", "declined", "told")  # told: the case study is complete
INVITED, AGREED, DECLINED, TOLD = STATUSES
TOOK_PART = (AGREED, TOLD)
"""Statuses of people who agreed: the only ones an officer can reach through /relay."""

# The case study, in the order asked; the wording is the bot's (bot/templates/in_depth.txt).
TYPED_QUESTIONS = ("situation", "different", "helped", "changed")
THEME = "theme"
QUESTIONS = (*TYPED_QUESTIONS, THEME)
QUESTION_LABELS = {
    "situation": "The situation",
    "different": "What they did differently",
    "helped": "What helped or hindered",
    "changed": "What changed for the child or family",
}
THEMES = {
    "signs": "Spotting the signs",
    "referral": "Referral and the local pathway",
    "sharing": "Sharing information",
    "language": "Language and victim blaming",
    "family": "Working with the family",
    "other": "Something else",
}
"""What a case study was mostly about, as the person chose it: the report groups case studies by it."""


def in_depth_wave(course_waves: Sequence[str]) -> str | None:
    """The wave whose completers are drawn: the first one three months or more after the course, if any."""
    later = [w for w in course_waves if waves.months(w) >= FROM_MONTHS]
    return min(later, key=waves.order_key) if later else None


def stratum(agency: str | None) -> str:
    """The draw's stratum: the person's agency, or "not stated"."""
    return agency or NOT_STATED


def block(share: int) -> tuple[int, int]:
    """(block size, places drawn per block): 25% → 1 place in each block of 4, 30% → 3 in 10."""
    common = gcd(share, 100)
    return 100 // common, share // common


def is_selected(seed: str, stratum_name: str, sequence: int, share: int) -> bool:
    """Whether the `sequence`-th completer (from 1) of a stratum is invited: permuted blocks, seeded.

    Why blocks: people are asked at the end of their own check-in, one at a time, so the draw cannot wait
    for the wave to close (a draw at closing would reach people weeks after they answered, in a chat they
    have left). Each stratum's completers are taken in blocks of B (4 for 25%); in each block, k of the B
    places (1 for 25%) are drawn at random from `seed`, the stratum and the block's number. So every
    completer has exactly share% chance, the share holds exactly at every full block of every agency and
    is never off by more than one block's k per agency, and the same seed and sequence numbers give the
    same draw again (an audit re-draws it with this function).
    """
    if share <= 0:
        return False
    if share >= 100:
        return True
    size, chosen = block(share)
    number, place = divmod(sequence - 1, size)
    # A str seed is hashed with SHA-512 by random.Random: the same across processes and Python versions.
    places = random.Random(f"{seed}:{stratum_name}:{number}").sample(range(size), chosen)
    return place in places
