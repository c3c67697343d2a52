"""build_report: the impact report as plain data (exactly what report.json holds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.codebook import Codebook, CourseInfo, SelectionError, load_codebook, select_courses, wave_key
from surveys.report import data
from surveys.report.stats import mann_whitney, mean_ci, paired_change, percent, suppressed
from surveys.clock import system_clock
from surveys.settings import Settings

Report = dict[str, Any]
"""The report: JSON-ready dicts and lists; every figure the HTML and PDF show is in here."""

CONSTRUCT_LABELS = {
    "victim_blaming": "Victim blaming (higher = more blaming)",
    "blaming_parents": "Blaming parents and carers (higher = more blaming)",
    "self_efficacy": "Self-efficacy (powerlessness reversed; higher = more able)",
    "confidence": "Confidence to spot the signs",
    "resources": "Resources to identify CSE and act",
}
BREAKDOWNS = ("role", "agency", "level")
NOT_STATED = "not stated"
FADED_SHOWN = 5


async def build_report(
    session: AsyncSession, courses: list[str] | None, settings: Settings, *, now: datetime | None = None
) -> Report:
    """Aggregate the selected courses (all when None) into the report; SelectionError if none match.

    `now` stamps the report (the injected clock; the system clock when not given).
    """
    k = settings.suppress_below
    selected = await select_courses(session, courses)
    codebook = await load_codebook(session, selected)
    checkins = await data.checkin_frame(session, selected, codebook)
    if checkins.empty:
        raise SelectionError(f"no answers yet in {', '.join(c.code for c in selected)}: nothing to report")
    item_waves = await data.item_wave_frame(session, selected)
    states = await data.checkin_state_frame(session, selected)
    enrolled = await data.enrolled_counts(session, selected)
    free_text = await data.free_text_frame(session, selected, codebook)
    waves = sorted({w for c in selected for w in c.waves}, key=wave_key)
    baseline, last = _attrition_waves(waves)
    last_states = await data.last_wave_states(session, selected, last) if last else pd.DataFrame()

    knowledge = _by_wave(checkins, "knowledge_core_pct", waves, k)
    items = _retention(codebook, item_waves, waves, k)
    return {
        "title": "CSE training follow-up: impact report",
        "generated_at": (now or system_clock()).astimezone(UTC).isoformat(timespec="seconds"),
        "suppress_below": k,
        "suppressed_marker": f"fewer than {k}",
        "courses": [_course(c, enrolled.get(c.id, 0), k) for c in selected],
        "waves": waves,
        "response": _response(selected, waves, checkins, states, enrolled, k),
        "knowledge": {
            "items": [i.id for i in codebook.core_knowledge()],
            "by_wave": knowledge,
        },
        "paired_change": _paired(checkins, waves, k),
        "items": items,
        "faded_most": _faded_most(items),
        "constructs": [
            {"construct": c, "label": CONSTRUCT_LABELS.get(c, c), "by_wave": _by_wave(checkins, c, waves, k)}
            for c in codebook.constructs
        ],
        "practice": _practice(codebook, item_waves, waves, k),
        "attrition": _attrition(checkins, last_states, baseline, last, k),
        "breakdowns": {name: _breakdown(checkins, name, waves, k) for name in BREAKDOWNS},
        "free_text": _free_text(codebook, free_text, waves, k),
        "methods": _methods(selected, codebook, waves, checkins, k),
    }


def _course(course: CourseInfo, enrolled: int, k: int) -> dict[str, Any]:
    return {
        "code": course.code,
        "title": course.title,
        "level": course.level,
        "delivered_on": course.delivered_on.isoformat(),
        "waves": list(course.waves),
        "expected_attendance": course.expected_attendance,
        "enrolled": enrolled if enrolled >= k else None,
        "enrolled_suppressed": enrolled < k,
    }


def _response(
    courses: list[CourseInfo], waves: list[str], checkins: pd.DataFrame,
    states: pd.DataFrame, enrolled: dict[int, int], k: int,
) -> list[dict[str, Any]]:
    out = []
    for wave in waves:
        with_wave = [c for c in courses if wave in c.waves]
        n_enrolled = sum(enrolled.get(c.id, 0) for c in with_wave)
        attended = [c.expected_attendance for c in with_wave if c.expected_attendance]
        attendance = sum(attended) if attended else None
        at_wave = checkins[checkins["wave"] == wave]
        responded = int(len(at_wave))
        wave_states = states[states["wave"] == wave] if len(states) else states
        completed = int(wave_states.loc[wave_states["state"] == "completed", "n"].sum()) if len(states) else 0
        # Only courses with a known attendance count towards the attendance-based rate.
        responded_att = int(at_wave["course"].isin({c.code for c in with_wave if c.expected_attendance}).sum())
        row = suppressed(responded, k, {
            "responded": responded,
            "completed": completed if completed >= k else None,
            "rate_attendance": 100.0 * responded_att / attendance if attendance else None,
            "rate_enrolled": 100.0 * responded / n_enrolled if n_enrolled else None,
        })
        row.pop("n")
        out.append({"wave": wave, "expected_attendance": attendance,
                    "enrolled": n_enrolled if n_enrolled >= k else None, **row})
    return out


def _by_wave(frame: pd.DataFrame, column: str, waves: list[str], k: int) -> list[dict[str, Any]]:
    return [
        {"wave": wave, **mean_ci(frame.loc[frame["wave"] == wave, column].to_numpy(dtype="float64"), k)}
        for wave in waves
    ]


def paired_pairs(waves: list[str]) -> list[tuple[str, str]]:
    """The paired comparisons shown: post→each later wave, and pre→post when there is a pre wave."""
    pairs = [("post", w) for w in waves if wave_key(w) > 0] if "post" in waves else []
    if "pre" in waves and "post" in waves:
        pairs.insert(0, ("pre", "post"))
    return pairs


def _paired(checkins: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    scores = checkins.pivot_table(index="enrolment_id", columns="wave", values="knowledge_core_pct", aggfunc="first")
    out = []
    for before, after in paired_pairs(waves):
        if before in scores and after in scores:
            both = scores[[before, after]].dropna()
            result = paired_change(both[before].to_numpy(), both[after].to_numpy(), k)
        else:
            result = paired_change(np.array([]), np.array([]), k)
        out.append({"from": before, "to": after, **result})
    return out


def _retention(codebook: Codebook, item_waves: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    out = []
    for item_id in codebook.item_ids():
        item = codebook.first(item_id)
        if not item.scored:
            continue
        rows = item_waves[item_waves["item_id"] == item_id].set_index("wave")
        cells = []
        for wave in waves:
            if wave in rows.index:
                n, total = int(rows.at[wave, "n"]), float(rows.at[wave, "score_sum"] or 0.0)
                cells.append({"wave": wave, **percent(int(round(total)), n, k, "pct_correct")})
        shown = [c for c in cells if not c["suppressed"] and c["wave"] != "pre"]
        fade = None
        if len(shown) >= 2:
            fade = {"from": shown[0]["wave"], "to": shown[-1]["wave"],
                    "points": shown[0]["pct_correct"] - shown[-1]["pct_correct"]}
        out.append({"item_id": item_id, "text": item.text, "tags": list(item.tags),
                    "age_of_consent": item.age_of_consent, "by_wave": cells, "fade": fade})
    return out


def _faded_most(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    faded = [i for i in items if i["fade"] and i["fade"]["points"] > 0]
    # Age of consent first when it faded: the known weak spot the board asks about.
    faded.sort(key=lambda i: (not i["age_of_consent"], -i["fade"]["points"]))
    return [{"item_id": i["item_id"], "text": i["text"], "age_of_consent": i["age_of_consent"], **i["fade"]}
            for i in faded[:FADED_SHOWN]]


def _practice(codebook: Codebook, item_waves: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    out = []
    for item_id in codebook.item_ids():
        item = codebook.first(item_id)
        if item.kind != "yes_no":
            continue
        rows = item_waves[item_waves["item_id"] == item_id].set_index("wave")
        cells = [
            {"wave": w, **percent(int(rows.at[w, "yes"]), int(rows.at[w, "yes_no"]), k, "pct_yes")}
            for w in waves if w in rows.index
        ]
        out.append({"item_id": item_id, "text": item.text, "by_wave": cells})
    return out


def _attrition_waves(waves: list[str]) -> tuple[str | None, str | None]:
    baseline = "post" if "post" in waves else (waves[0] if waves else None)
    later = [w for w in waves if baseline and wave_key(w) > wave_key(baseline)]
    return baseline, (later[-1] if later else None)


FINISHED_STATES = ("completed", "expired", "missed", "cancelled")


def _attrition(
    checkins: pd.DataFrame, last_states: pd.DataFrame, baseline: str | None, last: str | None, k: int
) -> dict[str, Any]:
    empty = {"baseline": baseline, "later": last}
    if baseline is None or last is None:
        return {**empty, "stayed": mean_ci([], k), "dropped": mean_ci([], k),
                **suppressed(0, k, {"mann_whitney_u": None, "p": None, "rank_biserial": None})}
    base = checkins[checkins["wave"] == baseline].set_index("enrolment_id")["knowledge_core_pct"].dropna()
    answered_last = set(checkins.loc[checkins["wave"] == last, "enrolment_id"])
    # Only people whose later check-in is over can have dropped out; pending ones are left out.
    over = set(last_states.loc[last_states["state"].isin(FINISHED_STATES), "enrolment_id"]) if len(last_states) else set()
    stayed = base[base.index.isin(answered_last)].to_numpy()
    dropped = base[base.index.isin(over - answered_last)].to_numpy()
    u, p, r = mann_whitney(stayed, dropped)
    n = min(len(stayed), len(dropped))
    test = suppressed(n, k, {"mann_whitney_u": u, "p": p, "rank_biserial": r})
    test.pop("n")
    return {**empty, "stayed": mean_ci(stayed, k), "dropped": mean_ci(dropped, k), **test}


def _breakdown(checkins: pd.DataFrame, column: str, waves: list[str], k: int) -> list[dict[str, Any]]:
    groups = checkins[column].astype("object").where(checkins[column].notna(), NOT_STATED).astype(str)
    out = []
    for group in sorted(set(groups)):
        mine = checkins[groups == group]
        out.append({
            "group": group,
            "by_wave": [
                {"wave": w, **mean_ci(mine.loc[mine["wave"] == w, "knowledge_core_pct"].to_numpy(dtype="float64"), k)}
                for w in waves
            ],
        })
    return out


def _free_text(codebook: Codebook, frame: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    out = []
    for item_id in codebook.item_ids():
        item = codebook.first(item_id)
        if item.kind != "text":
            continue
        for wave in [w for w in waves if w in item.waves]:
            mine = frame[(frame["item_id"] == item_id) & (frame["wave"] == wave)] if len(frame) else frame
            people = int(mine["enrolment_id"].nunique()) if len(mine) else 0
            shown = people >= k
            out.append({
                "item_id": item_id, "text": item.text, "wave": wave,
                "n": people if shown else None,
                "answers": [str(v) for v in mine["value"]] if shown else None,
                "suppressed": not shown,
            })
    return out


def _methods(
    courses: list[CourseInfo], codebook: Codebook, waves: list[str], checkins: pd.DataFrame, k: int
) -> dict[str, Any]:
    people = int(checkins["enrolment_id"].nunique()) if len(checkins) else 0
    return {
        "waves": waves,
        "courses": len(courses),
        "people_answering": people if people >= k else None,
        "answers": int(checkins["n_answers"].sum()) if len(checkins) else 0,
        "feedback_shown": codebook.feedback,
        "knowledge_items": [i.id for i in codebook.core_knowledge()],
        "suppress_below": k,
        "notes": [
            "Knowledge score: the percentage of knowledge items answered correctly, counting only the "
            "items asked at every wave of the quiz set (so waves are compared on the same questions); "
            "partly completed check-ins count with the items they answered.",
            "95% confidence intervals of means: t-interval, mean ± t(0.975, n−1) × SD/√n (scipy.stats.t).",
            "Paired change: people who answered both waves; difference = later − earlier; two-sided "
            "Wilcoxon signed-rank test (scipy.stats.wilcoxon, zero differences dropped); effect size: "
            "matched-pairs rank-biserial correlation r = (R+ − R−) / (R+ + R−), where R+ and R− are the "
            "sums of the ranks of |d| over positive and negative non-zero differences (−1 to 1).",
            "Attrition: the baseline knowledge score of people who answered the last wave against those "
            "whose last check-in closed unanswered; two-sided Mann–Whitney U test (scipy.stats.mannwhitneyu), "
            "rank-biserial r = 2U/(n1·n2) − 1.",
            "Attitude constructs: mean of the 1–5 answers per person, reverse-worded items flipped (6 − x).",
            f"Suppression: any figure computed from fewer than {k} people is withheld (shown as "
            f"“fewer than {k}”, null in report.json, not drawn in charts); free-text lists from fewer "
            f"than {k} people are withheld.",
            "Taking a quiz is itself retrieval practice: where feedback was shown at earlier waves, later "
            "scores measure training plus that practice.",
        ],
    }
