"""The report's level-3 section (Kirkpatrick: behaviour): commitments made, carried out, barriers, by role and agency.

Read from the answers as surveys.domain.commitments stores them, and published under the report's
rules: no figure about fewer than k people, and complementary suppression (disclosure.protect) so
that none can be worked out from the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain import commitments
from surveys.domain.waves import order_key
from surveys.reporting.codebook import CourseInfo
from surveys.reporting.report.disclosure import Cell, protect
from surveys.store.models import Answer, CheckIn, Enrolment, QuizSetVersion
from surveys.texts import label

BREAKDOWNS = ("role", "agency")
NOT_STATED = "not stated"
WITHHELD = "withheld"

# What got in the way, grouped by simple keywords (lower case, matched anywhere in the answer); the
# first theme that matches wins, so each barrier counts once. Edit here: the one place themes live.
THEMES: dict[str, tuple[str, ...]] = {
    "Time and workload": ("time", "busy", "workload", "caseload", "capacity", "short staff", "pressure", "priorit"),
    "Management and support": ("manager", "management", "supervis", "support", "senior", "lead", "approval"),
    "Systems and processes": ("system", "process", "pathway", "forms", "policy", "procedure", "referral", "paperwork"),
    "No opportunity yet": ("no case", "not come up", "hasn't come up", "no opportunit", "not had", "haven't had"),
    "Confidence and knowledge": ("confiden", "unsure", "not sure", "knowledge", "forgot", "training", "know how"),
    "Role or circumstances changed": ("new role", "new job", "changed role", "moved", "left", "leave", "sick"),
}
OTHER_THEME = "Other"


def theme_of(barrier: str) -> str:
    """The theme a barrier belongs to (THEMES), or OTHER_THEME."""
    text = barrier.casefold()
    return next((theme for theme, words in THEMES.items() if any(w in text for w in words)), OTHER_THEME)


@dataclass
class _Person:
    role: str
    agency: str
    asked: bool = False  # the commitments item was answered (a closing row), even with none made
    made: int = 0
    statuses: dict[str, list[str]] = field(default_factory=dict)  # wave → the statuses of their commitments
    barriers: list[str] = field(default_factory=list)


async def _structure(session: AsyncSession, courses: list[CourseInfo]) -> tuple[set[str], set[str]]:
    """The commitments and commitment-review item ids of the selected courses' quiz sets (from the stored sets)."""
    ids = sorted({c.quiz_set_id for c in courses})
    made: set[str] = set()
    reviews: set[str] = set()
    for (definition,) in (
        await session.execute(select(QuizSetVersion.definition).where(QuizSetVersion.id.in_(ids)))
    ).all():
        for item in definition.get("items", []):
            if item.get("kind") == "commitments":
                made.add(item["id"])
            elif item.get("kind") == "commitment_review":
                reviews.add(item["id"])
    return made, reviews


async def _people(
    session: AsyncSession, courses: list[CourseInfo], made_ids: set[str], review_ids: set[str]
) -> dict[int, _Person]:
    """Per enrolment: their commitments made, statuses per wave and barriers (one query)."""
    wanted = sorted(made_ids | review_ids)
    # Narrowed in SQL by each item's own id and its prefix; commitments.split decides which rows count.
    rows = await session.execute(
        select(Enrolment.id, Enrolment.role, Enrolment.agency, CheckIn.id, CheckIn.wave, Answer.item_id, Answer.value)
        .join(CheckIn, CheckIn.id == Answer.check_in_id)
        .join(Enrolment, Enrolment.id == CheckIn.enrolment_id)
        .where(
            Enrolment.course_id.in_([c.id for c in courses]),
            or_(
                Answer.item_id.in_(wanted),
                *(Answer.item_id.startswith(f"{i}.", autoescape=True) for i in wanted),
            ),
        )
    )
    people: dict[int, _Person] = {}
    check_ins: dict[int, tuple[int, str, dict[str, str]]] = {}
    for enrolment_id, role, agency, check_in_id, wave, item_id, value in rows.all():
        people.setdefault(enrolment_id, _Person(role or NOT_STATED, agency or NOT_STATED))
        check_ins.setdefault(check_in_id, (enrolment_id, wave, {}))[2][item_id] = value
    for enrolment_id, wave, answers in check_ins.values():
        person = people[enrolment_id]
        for item_id in made_ids:
            if item_id in answers:
                person.asked = True
            person.made += len(commitments.commitments_from(answers, item_id))
        for key, value in answers.items():
            part = commitments.split(key)
            if part is None or part.item_id not in review_ids:
                continue
            if part.barrier:
                if value.strip():
                    person.barriers.append(value.strip())
            elif value in commitments.STATUSES:
                person.statuses.setdefault(wave, []).append(value)
    return people


async def level3(session: AsyncSession, courses: list[CourseInfo], k: int) -> dict[str, Any] | None:
    """The section as plain data (report.json's "level3"); None when no selected quiz set has commitments."""
    made_ids, review_ids = await _structure(session, courses)
    if not made_ids:
        return None
    people = await _people(session, courses, made_ids, review_ids)
    asked = [p for p in people.values() if p.asked]
    waves = sorted({w for p in people.values() for w in p.statuses}, key=order_key)
    return {
        "statuses": [{"status": s, "label": label(f"commitment.{s}")} for s in commitments.STATUSES],
        **_made_all(asked, k),
        "by_wave": [_wave(list(people.values()), wave, k) for wave in waves],
        "themes_defined": {theme: list(words) for theme, words in THEMES.items()},
        "barriers": _barriers(list(people.values()), k),
    }


def _made(asked: list[_Person], k: int) -> dict[str, Any]:
    n = len(asked)
    if n < k:
        return {"people": None, "commitments": None, "per_person": None, "suppressed": True}
    total = sum(p.made for p in asked)
    return {"people": n, "commitments": total, "per_person": total / n, "suppressed": False}


def _made_all(asked: list[_Person], k: int) -> dict[str, Any]:
    """Commitments made, in all and per role and agency, protected together."""
    total = _made(asked, k)
    breakdowns = {
        b: [
            {"group": g, **_made([p for p in asked if getattr(p, b) == g], k)}
            for g in sorted({getattr(p, b) for p in asked})
        ]
        for b in BREAKDOWNS
    }
    _protect_groups(asked, breakdowns, total, k)
    return {"made": total, "made_breakdowns": breakdowns}


def _carried(statuses: Iterable[str]) -> float | None:
    values = list(statuses)
    return 100.0 * sum(s in commitments.CARRIED_OUT for s in values) / len(values) if values else None


def _wave(people: list[_Person], wave: str, k: int) -> dict[str, Any]:
    reviewed = [p for p in people if p.statuses.get(wave)]
    everything = [s for p in reviewed for s in p.statuses[wave]]
    shown = len(reviewed) >= k
    row: dict[str, Any] = {
        "wave": wave,
        "people": len(reviewed) if shown else None,
        "reviewed": len(everything) if shown else None,
        "carried_out_pct": _carried(everything) if shown else None,
        "suppressed": not shown,
        "statuses": [],
        "breakdowns": {},
    }
    # Atoms: the statuses someone gave. A status nobody gave is no atom: were it one, a total minus
    # the shown statuses would look like more than the hidden one and slip past protect.
    present = [s for s in commitments.STATUSES if s in everything]
    cells = [Cell("total", np.ones(len(present), dtype=bool), len(reviewed), not shown, lambda: None, True)]
    for status in commitments.STATUSES:
        with_it = [p for p in reviewed if status in p.statuses[wave]]
        count = sum(s == status for s in everything)
        ok = shown and len(with_it) >= k
        figures = {
            "status": status,
            "commitments": count if ok else None,
            "pct": 100.0 * count / len(everything) if ok else None,
            "suppressed": not ok,
        }
        row["statuses"].append(figures)
        if status in present:
            atoms = np.array([s == status for s in present], dtype=bool)
            cells.append(Cell("statuses", atoms, len(with_it), not ok, _withhold(figures, "commitments", "pct")))
    # Carried out (done + partly) is a sum of status counts: withheld with them where needed.
    carried = np.array([s in commitments.CARRIED_OUT for s in present], dtype=bool)
    n_carried = len([p for p in reviewed if set(p.statuses[wave]) & commitments.CARRIED_OUT])
    cells.append(Cell("carried", carried, n_carried, not shown, _withhold(row, "carried_out_pct")))
    protect(cells, k)
    for breakdown in BREAKDOWNS:
        groups = sorted({getattr(p, breakdown) for p in reviewed})
        rows = []
        for g in groups:
            mine = [p for p in reviewed if getattr(p, breakdown) == g]
            ok = shown and len(mine) >= k
            rows.append(
                {
                    "group": g,
                    "people": len(mine) if ok else None,
                    "carried_out_pct": _carried(s for p in mine for s in p.statuses[wave]) if ok else None,
                    "suppressed": not ok,
                }
            )
        row["breakdowns"][breakdown] = rows
    _protect_groups(reviewed, row["breakdowns"], row, k, people_key="people")
    return row


def _protect_groups(
    people: list[_Person],
    breakdowns: Mapping[str, list[dict[str, Any]]],
    total: dict[str, Any],
    k: int,
    people_key: str = "people",
) -> None:
    """A total and its role and agency groups: no withheld group can be worked out (as the report's breakdowns)."""
    keys = [(p.role, p.agency) for p in people]
    atoms = list(dict.fromkeys(keys))
    cells = [Cell("total", np.ones(len(atoms), dtype=bool), len(people), total["suppressed"], lambda: None, True)]
    for name, groups in breakdowns.items():
        b = BREAKDOWNS.index(name)
        for group in groups:
            inside = np.array([a[b] == group["group"] for a in atoms], dtype=bool)
            n = sum(1 for key in keys if key[b] == group["group"])
            cells.append(Cell(name, inside, n, group["suppressed"], _withhold(group)))
    protect(cells, k)


def _withhold(figures: dict[str, Any], *keys: str) -> Callable[[], None]:
    """Blank a shown cell's figures to protect a smaller one (all but its labels when no keys are named)."""

    def withhold() -> None:
        for key in keys or [key for key in figures if key not in ("group", "status", "theme", "wave", "suppressed")]:
            figures[key] = None
        figures[f"{keys[0]}_complementary" if keys else "complementary"] = True

    return withhold


def _barriers(people: list[_Person], k: int) -> dict[str, Any]:
    """What got in the way, by theme; the list is withheld when fewer than k people said."""
    saying = [p for p in people if p.barriers]
    if len(saying) < k:
        return {"people": None, "suppressed": True, "themes": []}
    by_theme: dict[str, list[tuple[int, str]]] = {}
    for n, p in enumerate(saying):
        for b in p.barriers:
            by_theme.setdefault(theme_of(b), []).append((n, b))
    # Atoms: the themes someone's answer fell in (an empty theme is no atom, as for the statuses).
    names = [t for t in [*THEMES, OTHER_THEME] if t in by_theme]
    themes = []
    cells = [Cell("total", np.ones(len(names), dtype=bool), len(saying), False, lambda: None, True)]
    for i, theme in enumerate(names):
        said = by_theme[theme]
        n_people = len({n for n, _ in said})
        ok = n_people >= k
        counted: dict[str, int] = {}
        for _, b in said:
            counted[b] = counted.get(b, 0) + 1
        figures = {
            "theme": theme,
            "people": n_people if ok else None,
            "barriers": len(said) if ok else None,
            # Identical answers once, with how many gave them, most frequent first: never by person or time.
            "answers": [{"text": t, "count": c} for t, c in sorted(counted.items(), key=lambda tc: (-tc[1], tc[0]))]
            if ok
            else None,
            "suppressed": not ok,
        }
        themes.append(figures)
        cells.append(Cell("themes", np.arange(len(names)) == i, n_people, not ok, _withhold(figures)))
    protect(cells, k)
    return {"people": len(saying), "suppressed": False, "themes": themes}


# --- display ------------------------------------------------------------------------------------


def _count(value: Any, figures: dict[str, Any], key: str, marker: str, fmt: str = "{}") -> str:
    if figures.get(f"{key}_complementary") or figures.get("complementary"):
        return WITHHELD
    return marker if value is None else fmt.format(value)


def parts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The section for the HTML and PDF (titled tables and lists, as surveys.reporting.report.tables makes)."""
    data = report.get("level3")
    if not data:
        return []
    m = report["suppressed_marker"]
    labels = {s["status"]: s["label"] for s in data["statuses"]}
    made = data["made"]
    tables = [
        {
            "headers": ["Group", "People asked", "Commitments made", "Per person"],
            "rows": [
                [
                    "All",
                    _count(made["people"], made, "people", m),
                    _count(made["commitments"], made, "commitments", m),
                    _count(made["per_person"], made, "per_person", m, "{:.1f}"),
                ]
            ]
            + [
                [
                    f"{name.capitalize()}: {g['group']}",
                    _count(g["people"], g, "people", m),
                    _count(g["commitments"], g, "commitments", m),
                    _count(g["per_person"], g, "per_person", m, "{:.1f}"),
                ]
                for name, groups in data["made_breakdowns"].items()
                for g in groups
            ],
        }
    ]
    if data["by_wave"]:
        tables.append(
            {
                "headers": ["Wave", "People", "Reviewed", *(labels[s] for s in labels), "Carried out"],
                "rows": [
                    [
                        w["wave"],
                        _count(w["people"], w, "people", m),
                        _count(w["reviewed"], w, "reviewed", m),
                        *(
                            _count(s["commitments"], s, "commitments", m)
                            if s["commitments"] is None or s.get("commitments_complementary")
                            else f"{s['commitments']} ({s['pct']:.0f}%)"
                            for s in w["statuses"]
                        ),
                        _count(w["carried_out_pct"], w, "carried_out_pct", m, "{:.0f}%"),
                    ]
                    for w in data["by_wave"]
                ],
            }
        )
        tables.append(
            {
                "headers": ["Wave", "Group", "People", "Carried out"],
                "rows": [
                    [
                        w["wave"],
                        f"{name.capitalize()}: {g['group']}",
                        _count(g["people"], g, "people", m),
                        _count(g["carried_out_pct"], g, "carried_out_pct", m, "{:.0f}%"),
                    ]
                    for w in data["by_wave"]
                    for name, groups in w["breakdowns"].items()
                    for g in groups
                ],
            }
        )
    barriers = data["barriers"]
    lists = []
    if barriers["suppressed"]:
        lists.append({"title": "What got in the way", "items": [f"Withheld: answers from {m} people."]})
    else:
        tables.append(
            {
                "headers": ["What got in the way (theme)", "People", "Answers"],
                "rows": [
                    [t["theme"], _count(t["people"], t, "people", m), _count(t["barriers"], t, "barriers", m)]
                    for t in barriers["themes"]
                ],
            }
        )
        lists += [
            {
                "title": f"What got in the way: {t['theme']}",
                "items": [a["text"] if a["count"] == 1 else f"{a['text']} (×{a['count']})" for a in t["answers"]],
                "long": True,
            }
            for t in barriers["themes"]
            if t["answers"]
        ]
    themes = "; ".join(f"{theme}: {', '.join(words)}" for theme, words in data["themes_defined"].items())
    return [
        {
            "id": "level3",
            "title": "Behaviour (level 3): commitments to change",
            "tables": tables,
            "lists": lists,
            "notes": [
                "At the end of the course people wrote up to a few things they would do differently; at later "
                "waves each was shown back and they said whether it was done, partly done, not yet done or no "
                "longer relevant, and where not done, what got in the way. Carried out: done or partly done, as a "
                "percentage of the commitments reviewed at that wave.",
                f"Barriers are grouped by keywords (the first theme whose words appear wins): {themes}; "
                f"anything else is {OTHER_THEME}.",
                f"Figures about fewer than {report['suppress_below']} people are withheld ({m}), and figures that "
                f"would let one be worked out are withheld too ({WITHHELD}).",
            ],
        }
    ]
