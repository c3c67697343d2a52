"""Simulated practitioners for the offline demo: who they are and how they answer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bot.demo import welsh
from surveys.domain import waves
from surveys.reporting.codebook import AGE_OF_CONSENT_TAG
from surveys.settings import DEFAULT_AGENCIES, DEFAULT_ROLES

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Femi",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Kiran",
    "Leah",
    "Mo",
    "Nia",
    "Owen",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tom",
    "Uma",
    "Vic",
    "Will",
    "Zara",
)
# Free-text answers; one carries an e-mail and a phone number to show they are scrubbed.
DIFFERENTLY = (
    "I ask about older boyfriends and gifts much earlier now.",
    "I challenge colleagues who say a young person is putting themselves at risk.",
    "I use the local referral pathway instead of waiting to be sure.",
    "I share information with the MASH sooner and record why.",
    "I talk to parents as partners rather than blaming them.",
    "Contact me at j.smith@example.org or 07700 900123 if you want more detail.",
)


# Commitments typed at the end of the course day (one is scrubbed of its phone number), and what got in the way.
COMMITMENTS = (
    "Ask every young person about older friends and gifts at each review",
    "Use the local referral pathway the same day instead of waiting to be sure",
    "Challenge 'putting themselves at risk' when I hear it in team meetings",
    "Brief my team on the signs of CSE at our next meeting; my number is 07700 900456",
)
BARRIERS = (
    "Caseload: no time to set it up",
    "My manager wasn't sure it was our job",
    "Haven't had a case where it came up yet",
    "skip",
)


@dataclass
class Persona:
    """One simulated attendee: their role, what they know, how it fades, how they behave."""

    user_id: int
    first_name: str
    role: str
    agency: str
    before: float  # chance of a right answer before the course (the pre wave)
    knowledge: float  # chance of a right answer at the end of the course
    fade: float  # lost per month afterwards
    aoc_fade: float  # age-of-consent knowledge fades faster (the known weak spot)
    blame: float  # 1–5 lean towards victim/parent blaming after the course
    efficacy: float  # 1–5 sense of being able to change practice
    practice: float  # chance of a 'yes' to a practice-change question
    last_wave: str  # drops out after this wave ('6m' = stays to the end)
    needs_reminder: bool = False
    stops_midway: bool = False  # leaves a check-in half done, then carries on after a reminder
    types_nonsense: bool = False
    types_answers: bool = False  # types "b" or "16" instead of tapping
    blocks_bot: bool = False
    uses_stop: bool = False
    language: str = "en"  # what they choose above the consent request: some choose Cymraeg (bot/demo/welsh.py)
    commits: int = 0  # commitments typed at the end of the course day (0 to 3)
    follow_through: float = 0.5  # chance each commitment is done by 3 months (more by 6)
    extra: dict[str, float] = field(default_factory=dict)

    def p_correct(self, wave: str, tags: tuple[str, ...]) -> float:
        """Chance of knowing the answer at a wave: before the course, or `months` after it."""
        if wave == waves.PRE:
            return self.before
        fade = self.aoc_fade if AGE_OF_CONSENT_TAG in tags else self.fade
        return max(0.15, min(0.98, self.knowledge - fade * waves.months(wave)))


# pre and post on the day (pre in the room, right after consent), the 1m reminder of commitments, then 3m and 6m.
WAVES = ("pre", "post", "1m", "3m", "6m")


def make_personas(n: int, seed: int = 7) -> list[Persona]:
    """A varied group: roles and agencies, knowledge that fades, some drop out, one blocks the bot."""
    rng = random.Random(seed)
    people = []
    for i in range(n):
        role = rng.choice(DEFAULT_ROLES[:-1])
        agency = _agency_for(role, rng)
        stays = rng.random()
        last_wave = "6m" if stays < 0.62 else ("3m" if stays < 0.85 else "post")
        people.append(
            Persona(
                user_id=900_000_000 + i,
                first_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]}",
                role=role,
                agency=agency,
                before=rng.uniform(0.35, 0.6),
                knowledge=rng.uniform(0.7, 0.95),
                fade=rng.uniform(0.005, 0.03),
                aoc_fade=rng.uniform(0.03, 0.07),
                blame=rng.uniform(1.4, 2.6),
                efficacy=rng.uniform(2.6, 4.4),
                practice=rng.uniform(0.25, 0.8),
                last_wave=last_wave,
                needs_reminder=rng.random() < 0.2,
                stops_midway=rng.random() < 0.08,
                types_nonsense=rng.random() < 0.1,
                types_answers=rng.random() < 0.15,
                language=welsh.language_of(i),
            )
        )
    # Drawn apart from the rest so the personas above stay as they were before commitments existed.
    habits = random.Random(seed + 1)
    for person in people:
        person.commits = habits.choice((0, 1, 1, 2, 2, 3))
        person.follow_through = habits.uniform(0.2, 0.8)
    if people:
        people[-1].blocks_bot = True  # blocks the bot after the post-course check-in
        people[-1].last_wave = "6m"
    if len(people) > 2:
        people[-2].uses_stop = True  # withdraws with /stop after the post-course check-in
        people[-2].last_wave = "6m"
    return people


def _agency_for(role: str, rng: random.Random) -> str:
    natural = {
        "social worker": "children's services",
        "teacher": "education",
        "police": "police",
        "health": "health",
        "youth worker": "youth services",
        "early years": "education",
        "residential care": "children's services",
        "housing": "voluntary sector",
        "licensing": "licensing",
        "elected member": "other",
    }
    return natural.get(role, rng.choice(DEFAULT_AGENCIES))
