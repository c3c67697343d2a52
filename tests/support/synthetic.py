"""A seeded synthetic cohort: practitioners whose knowledge fades, some drop out, some type text."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import commitments, waves
from surveys.domain.quizset import (
    CommitmentReminderItem,
    CommitmentReviewItem,
    CommitmentsItem,
    LikertItem,
    QuizSet,
)
from surveys.domain.scoring import item_score
from surveys.domain.states import CheckInState
from surveys.domain.tokens import new_pseudonym
from surveys.store.checkins import record_answer
from surveys.store.enrolments import enrol
from surveys.store.invites import issue_invite
from surveys.store.models import Answer, CheckIn, Contact, Course, Enrolment

ROLES = {
    "teacher": "education",
    "social worker": "children's services",
    "police officer": "police",
    "nurse": "health",
    "youth worker": "voluntary sector",
    "housing officer": "housing",
}
# Share of people answering each wave; lower-scoring people drop out a little more often.
RESPONSE = {"pre": 0.95, "post": 0.92, "3m": 0.72, "6m": 0.58}
FADE_PER_MONTH = 0.035
TEXTS = (
    "I now ask about older boyfriends when a pupil goes missing.",
    "I use the referral pathway rather than waiting.",
    "I challenge colleagues who say a young person is putting themselves at risk.",
    "I share information with the police earlier.",
    "I record what the child says in their own words.",
)
# Attitude means by wave: training lowers victim blaming and raises confidence; some slides back.
ATTITUDE = {
    "victim_blaming": {"pre": 2.9, "post": 2.1, "3m": 2.3, "6m": 2.5},
    "blaming_parents": {"pre": 2.8, "post": 2.3, "3m": 2.4, "6m": 2.5},
    "self_efficacy": {"pre": 3.0, "post": 3.8, "3m": 3.6, "6m": 3.5},
    "confidence": {"pre": 2.7, "post": 3.9, "3m": 3.7, "6m": 3.5},
    "resources": {"pre": 3.0, "post": 3.4, "3m": 3.3, "6m": 3.2},
}


@dataclass(frozen=True)
class Practitioner:
    """Who was made: the enrolment id and pseudonym, and the (fake) chat id that stands for them."""

    enrolment_id: int
    pseudonym: str
    chat_id: int
    role: str


def chat_id_for(seed: int, index: int) -> int:
    """The fake Telegram chat id of practitioner `index` in cohort `seed` (distinctive digits)."""
    return 7_770_000_000 + seed * 100_000 + index


def wave_offset(wave: str) -> timedelta:
    """When a wave falls relative to the course day."""
    if wave == "pre":
        return timedelta(days=-7)
    if wave == "post":
        return timedelta(hours=2)
    return timedelta(days=30 * waves.months(wave))


def _months(wave: str) -> int:
    return 0 if wave in ("pre", "post") else int(wave.rstrip("m"))


def _value(item, wave: str, ability: float, rng: random.Random) -> str:
    kind = item.kind
    if item.scored:
        p = ability - FADE_PER_MONTH * _months(wave) - (0.3 if wave == "pre" else 0.0)
        # Age of consent fades faster: the known weak spot.
        if "age-of-consent" in item.tags:
            p -= 0.02 * _months(wave)
        right = rng.random() < min(max(p, 0.05), 0.98)
        if kind == "true_false":
            return item.correct_value if right else ("false" if item.correct_value == "true" else "true")
        wrong = [o.value for o in item.options if o.value != item.correct]
        return item.correct if right else rng.choice(wrong)
    if isinstance(item, LikertItem):
        mean = ATTITUDE[item.construct_name].get(wave, 3.0)
        mean = 6 - mean if item.reverse else mean
        return str(min(5, max(1, round(rng.gauss(mean, 0.9)))))
    if kind == "yes_no":
        return "yes" if rng.random() < 0.25 + 0.05 * _months(wave) else "no"
    if kind == "number":
        return str(rng.randint(item.min, item.max))
    if kind == "text":
        return rng.choice(TEXTS) if rng.random() < 0.6 else ""
    if isinstance(item, (CommitmentsItem, CommitmentReviewItem, CommitmentReminderItem)):
        return "0"  # a closing row with none made (_rows writes the commitments themselves)
    return options_first(item)


COMMITMENTS = (
    "Ask about older boyfriends and gifts at every review",
    "Use the local referral pathway without waiting to be sure",
    "Challenge victim-blaming language in team meetings",
    "Share what I learnt with my team",
)
BARRIERS = ("Caseload", "No time this term", "Waiting for training on the pathway", "")


def _shown(item, given: dict[str, str]) -> bool:
    """show_if over the rows generated so far (a review's condition holds when any status matches)."""
    condition = item.show_if
    if condition is None:
        return True
    statuses = (given.get(commitments.entry_id(condition.item, n)) for n in range(1, 10))
    return given.get(condition.item) in condition.values or any(s in condition.values for s in statuses)


def _rows(items, wave: str, ability: float, rng: random.Random, made: dict[str, int]) -> list:
    """(answer row id, item, value) for every row a person answering these items stores, as the engine asks them.

    `made` carries the person's number of commitments from the wave that asked for them to their review.
    """
    out: list = []
    given: dict[str, str] = {}
    for item in items:
        if isinstance(item, CommitmentReminderItem) or not _shown(item, given):
            continue
        if isinstance(item, CommitmentsItem):
            count = made[item.id] = rng.randint(0, item.max)
            rows = [(commitments.entry_id(item.id, n), COMMITMENTS[n - 1]) for n in range(1, count + 1)]
            rows.append((item.id, str(count)))
        elif isinstance(item, CommitmentReviewItem):
            count = made.get(item.of, 0)
            if not count:
                continue
            rows = []
            for n in range(1, count + 1):
                status = rng.choice(commitments.STATUSES)
                rows.append((commitments.entry_id(item.id, n), status))
                if status in commitments.BARRIER_ASKED:
                    rows.append((commitments.barrier_id(item.id, n), rng.choice(BARRIERS)))
            rows.append((item.id, str(count)))
        else:
            rows = [(item.id, _value(item, wave, ability, rng))]
        given.update(rows)
        out += [(row_id, item, value) for row_id, value in rows]
    return out


def options_first(item) -> str:
    """A valid value for any single-choice item (fallback)."""
    return item.options[0].value


async def populate(
    session: AsyncSession,
    course: Course,
    n: int,
    seed: int,
    now: datetime,
    *,
    via_store: bool = True,
    roles: list[str] | None = None,
) -> list[Practitioner]:
    """Enrol `n` practitioners on `course` and answer its waves, seeded and reproducible.

    `via_store` goes through the real store (enrol, record_answer); False bulk-inserts the same
    rows, for benchmark-sized cohorts. `roles` fixes each person's role in turn (tests of groups).
    """
    rng = random.Random(seed)
    quiz = QuizSet.from_definition(course.quiz_set.definition)
    start = datetime.combine(course.delivered_on, time(15, 0), tzinfo=UTC)
    invite = (await issue_invite(session, course, now)).invite if via_store else None
    people: list[Practitioner] = []
    enrolment_rows, contact_rows, checkin_rows = [], [], []
    for index in range(n):
        role = roles[index] if roles and index < len(roles) else rng.choice(sorted(ROLES))
        chat_id = chat_id_for(seed, index)
        if via_store:
            enrolment = await enrol(session, invite, chat_id, now, role=role, agency=ROLES.get(role, "other"))
            people.append(Practitioner(enrolment.id, enrolment.pseudonym, chat_id, role))
        else:
            enrolment_rows.append(
                {
                    "pseudonym": new_pseudonym(),
                    "course_id": course.id,
                    "role": role,
                    "agency": ROLES.get(role, "other"),
                    "level": course.level,
                    "consented_at": now,
                }
            )
            contact_rows.append(chat_id)
        ability = min(0.97, max(0.35, rng.gauss(0.82, 0.1)))
        made: dict[str, int] = {}
        for wave in course.waves:
            due = start + wave_offset(wave)
            p = RESPONSE.get(wave, 0.5) + (ability - 0.82)
            answers = quiz.items_for(wave) if rng.random() < p else ()
            stopped = bool(answers) and rng.random() < 0.05
            full = _rows(answers, wave, ability, rng, made)
            values = full[: len(full) // 2] if stopped else full  # stopped half way
            complete = bool(values) and len(values) == len(full)
            state = (
                CheckInState.COMPLETED if complete else CheckInState.EXPIRED if not values else CheckInState.IN_PROGRESS
            )
            if via_store:
                await _store_wave(session, enrolment, wave, due, values, state)
            else:
                checkin_rows.append((index, wave, due, state, values))
    if not via_store:
        people = await _bulk(session, course, enrolment_rows, contact_rows, checkin_rows, now)
    return people


async def answer_wave(
    session: AsyncSession,
    enrolment: Enrolment,
    quiz: QuizSet,
    wave: str,
    ability: float,
    rng: random.Random,
    due: datetime | None = None,
) -> None:
    """One person answers every item of a wave through the real store (deterministic tests)."""
    due = due or datetime.combine(enrolment.course.delivered_on, time(15, 0), tzinfo=UTC) + wave_offset(wave)
    values = _rows(quiz.items_for(wave), wave, ability, rng, {})
    await _store_wave(session, enrolment, wave, due, values, CheckInState.COMPLETED)


async def _store_wave(
    session: AsyncSession, enrolment: Enrolment, wave: str, due: datetime, values: list, state: str
) -> None:
    check_in = CheckIn(
        enrolment_id=enrolment.id,
        wave=wave,
        state=CheckInState.SENT,
        due_at=due,
        closes_at=due + timedelta(days=21),
        sent_at=due,
    )
    check_in.enrolment = enrolment
    session.add(check_in)
    await session.flush()
    # (item, value) pairs are plain items' rows; _rows gives (row id, item, value).
    values = [row if len(row) == 3 else (row[0].id, *row) for row in values]
    for position, (row_id, item, value) in enumerate(values):
        score = item_score(item, value) if value != "" and row_id == item.id else None
        at = due + timedelta(hours=1, seconds=20 * position)
        await record_answer(
            session,
            check_in,
            item_id=row_id,
            value=value,
            score=score,
            now=at,
            completes=state == CheckInState.COMPLETED and position == len(values) - 1,
        )
    if state != CheckInState.COMPLETED:
        check_in.state = state
        await session.flush()


async def _bulk(
    session: AsyncSession, course: Course, enrolments: list, chat_ids: list, checkins: list, now: datetime
) -> list[Practitioner]:
    # Chunked: SQLite caps bound parameters per statement.
    ids: list[int] = []
    for chunk in _chunks(enrolments, 2000):
        ids += list(
            await session.scalars(insert(Enrolment).returning(Enrolment.id, sort_by_parameter_order=True), chunk)
        )
    for chunk in _chunks(list(zip(ids, chat_ids, strict=False)), 5000):
        await session.execute(insert(Contact), [{"enrolment_id": e, "chat_id": c, "created_at": now} for e, c in chunk])
    rows = [
        {
            "enrolment_id": ids[i],
            "wave": w,
            "state": s,
            "due_at": d,
            "closes_at": d + timedelta(days=21),
            "completed_at": d + timedelta(hours=1) if s == CheckInState.COMPLETED else None,
        }
        for i, w, d, s, _ in checkins
    ]
    checkin_ids: list[int] = []
    for chunk in _chunks(rows, 2000):
        checkin_ids += list(
            await session.scalars(insert(CheckIn).returning(CheckIn.id, sort_by_parameter_order=True), chunk)
        )
    answers = []
    for check_in_id, (_, _, due, _, values) in zip(checkin_ids, checkins, strict=False):
        for position, (row_id, item, value) in enumerate(values):
            answers.append(
                {
                    "check_in_id": check_in_id,
                    "item_id": row_id,
                    "quiz_set_id": course.quiz_set_id,
                    "value": value,
                    "score": item_score(item, value) if value != "" and row_id == item.id else None,
                    "answered_at": due + timedelta(hours=1, seconds=20 * position),
                }
            )
    for chunk in _chunks(answers, 5000):
        await session.execute(insert(Answer), chunk)
    return [Practitioner(e, r["pseudonym"], c, r["role"]) for e, c, r in zip(ids, chat_ids, enrolments, strict=False)]


def _chunks(rows: list, size: int):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
