"""build_report: the impact report as plain data (exactly what report.json holds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.clock import system_clock
from surveys.domain import constructs
from surveys.domain import states as check_in_states
from surveys.domain.scrub import scrubbed_sentence
from surveys.domain.states import CheckInState
from surveys.domain.waves import POST, PRE
from surveys.domain.waves import order_key as wave_order
from surveys.reporting.codebook import (
    Codebook,
    CourseInfo,
    ItemInfo,
    SelectionError,
    load_codebook,
    select_courses,
    selection_label,
)
from surveys.reporting.period import Period, courses_in
from surveys.reporting.report import annual, data, languages, level3
from surveys.reporting.report.disclosure import Cell, protect
from surveys.reporting.report.in_depth import in_depth_part
from surveys.reporting.report.stats import LIKERT, PERCENT, mann_whitney, mean_ci, paired_change, percent, suppressed
from surveys.settings import Settings
from surveys.store.audit import SYSTEM, AuditActor, record

Report = dict[str, Any]
"""The report: JSON-ready dicts and lists; every figure the HTML and PDF show is in here."""

BREAKDOWNS = ("role", "agency", "level")
NOT_STATED = "not stated"
FADED_SHOWN = 5
WITHHELD = "withheld"
"""Shown for a figure about enough people that is withheld so that a smaller one cannot be worked out."""


async def build_report(
    session: AsyncSession,
    courses: list[str] | None,
    settings: Settings,
    *,
    now: datetime | None = None,
    actor: AuditActor = SYSTEM,
    period: Period | None = None,
) -> Report:
    """Aggregate the selected courses (all when None) into the report; SelectionError if none match.

    `now` stamps the report (the injected clock; the system clock when not given). With a `period`, the
    annual report: the courses delivered in it (of those named) and its own tables (report.annual).
    """
    k = settings.suppress_below
    selected = await (select_courses(session, courses) if period is None else courses_in(session, period, courses))
    await record(
        session,
        actor,
        "report" if period is None else "report.annual",
        now=now or system_clock(),
        target=selection_label(selected, courses)
        if period is None
        else f"{period.label}: {selection_label(selected, courses)}",
    )
    codebook = await load_codebook(session, selected)
    read = await data.report_data(session, selected, codebook, all_courses=not courses and period is None)
    frames = tabulate(read, selected, codebook)
    checkins = frames.checkins
    if checkins.empty:
        raise SelectionError(f"no answers yet in {', '.join(c.code for c in selected)}: nothing to report")
    item_waves, states, enrolled, free_text = frames.item_waves, frames.states, frames.enrolled, frames.free_text
    waves = read.waves
    baseline, last = _attrition_waves(waves)
    last_states = frames.wave_states(last) if last else pd.DataFrame()

    knowledge = _by_wave(checkins, "knowledge_core_pct", waves, k, PERCENT)
    breakdowns = {name: _breakdown(checkins, name, waves, k) for name in BREAKDOWNS}
    _protect_breakdowns(checkins, knowledge, breakdowns, waves, k)
    courses_out = [_course(c, enrolled.get(c.id, 0), k) for c in selected]
    response = _response(selected, waves, checkins, states, enrolled, k)
    _protect_enrolled(selected, courses_out, response, enrolled, k)
    by_language = await languages.by_language(session, selected, courses_out, response, k)
    items = _retention(codebook, item_waves, waves, k)
    report = {
        "title": "CSE training follow-up: impact report",
        "generated_at": (now or system_clock()).astimezone(UTC).isoformat(timespec="seconds"),
        "suppress_below": k,
        "suppressed_marker": f"fewer than {k}",
        "withheld_marker": WITHHELD,
        "courses": courses_out,
        "waves": waves,
        "response": response,
        "knowledge": {
            "items": codebook.core_knowledge_ids(),
            "by_wave": knowledge,
        },
        "paired_change": _paired(checkins, waves, k),
        "items": items,
        "faded_most": _faded_most(items),
        "constructs": [
            {"construct": c, "label": constructs.label(c), "by_wave": _by_wave(checkins, c, waves, k, LIKERT)}
            for c in codebook.constructs
        ],
        "practice": _practice(codebook, item_waves, waves, k),
        "attrition": _attrition(checkins, last_states, baseline, last, k, knowledge),
        "breakdowns": breakdowns,
        "languages": by_language,
        "free_text": _free_text(codebook, free_text, waves, k),
        "in_depth": await in_depth_part(session, selected, k),
        "level3": await level3.level3(session, selected, k),
        "methods": _methods(selected, codebook, waves, checkins, k),
    }
    if period is not None:
        report.update(
            await annual.annual_part(session, period, selected, checkins, report, k, named=_named, withhold=_withhold)
        )
    return report


@dataclass
class _Frames:
    """The tables build_report reduces to figures, each made from report_data's arrays with numpy."""

    checkins: pd.DataFrame  # one row per answered check-in (as data.checkin_frame, without pseudonyms)
    item_waves: pd.DataFrame  # item_id, wave, n, scored_n, score_sum, yes, yes_no
    states: pd.DataFrame  # wave, state, n
    enrolled: dict[int, int]
    free_text: pd.DataFrame  # item_id, wave, enrolment_id, value
    _read: data.ReportData

    def wave_states(self, wave: str) -> pd.DataFrame:
        """Enrolment id and check-in state at one wave (for the attrition comparison)."""
        c = self._read.checkins
        mine = c[c["wave"] == self._read.waves.index(wave)]
        states = np.array([*self._read.states, "other"], dtype=object)
        return pd.DataFrame(
            {"enrolment_id": mine["enrolment_id"].to_numpy(), "state": states[mine["state"].to_numpy()]}
        )


def _item_table(
    codebook: Codebook, read: data.ReportData, answers: pd.DataFrame
) -> tuple[np.ndarray, list[ItemInfo | None]]:
    """Each answer's codebook entry (by quiz-set version and item id) as an index; -1 when none."""
    sets = sorted(codebook.quiz_sets)
    n_items = len(read.item_ids)
    table: list[ItemInfo | None] = [None] * (len(sets) * n_items)
    position = {item_id: i for i, item_id in enumerate(read.item_ids)}
    for info in codebook.items:
        table[sets.index(info.quiz_set_id) * n_items + position[info.id]] = info
    qs = answers["quiz_set_id"].to_numpy()
    qs_pos = np.searchsorted(np.asarray(sets, dtype="int64"), qs)
    known = (qs_pos < len(sets)) & (np.asarray(sets, dtype="int64")[np.minimum(qs_pos, len(sets) - 1)] == qs)
    item = answers["item"].to_numpy()
    key = np.where(known & (item >= 0), qs_pos * n_items + item, -1)
    return key, table


def _per_key(table: list[ItemInfo | None], test: Any) -> np.ndarray:
    # One slot per codebook entry, plus a last one (index -1) for answers outside the codebook.
    return np.array([bool(info is not None and test(info)) for info in table] + [False])


def _sum_ratio(pos: np.ndarray, n: int, mask: np.ndarray, score: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Per check-in: mean stored score of the answers `mask` selects; a skipped one (no score) is not answered
    (surveys.domain.scoring, the reference); NaN when none was answered."""
    total = np.bincount(pos, weights=np.where(mask & has, score, 0.0), minlength=n)
    stored = np.bincount(pos[mask & has], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(stored > 0, total / np.where(stored > 0, stored, 1), np.nan)


def tabulate(read: data.ReportData, courses: list[CourseInfo], codebook: Codebook) -> _Frames:
    """report_data's arrays as tables (numpy): per answered check-in its knowledge % and construct means, and more."""
    ans, chk, enr = read.answers, read.checkins, read.enrolments
    chk = chk.sort_values("id", kind="stable")
    ci_ids = chk["id"].to_numpy()
    pos = np.searchsorted(ci_ids, ans["check_in_id"].to_numpy())
    ok = (pos < len(ci_ids)) & (ci_ids[np.minimum(pos, len(ci_ids) - 1)] == ans["check_in_id"].to_numpy())
    if not ok.all():  # answers of check-ins outside the selection (cannot happen with the filtered read)
        ans, pos = ans[ok], pos[ok]
    n_ci = len(ci_ids)
    key, table = _item_table(codebook, read, ans)
    score = ans["score"].to_numpy(dtype="float64")
    has = ans["has_score"].to_numpy()
    scored = _per_key(table, lambda i: i.scored)[key]
    core_ids = {(i.quiz_set_id, i.id) for i in codebook.core_knowledge()}
    core = _per_key(table, lambda i: (i.quiz_set_id, i.id) in core_ids)[key]

    n_answers = np.bincount(pos, minlength=n_ci)
    answered = n_answers > 0
    # Per-check-in sums over the answered check-ins only (most check-ins are never answered):
    # `at` numbers them 0..n-1 in id order.
    at = (np.cumsum(answered) - 1)[pos]
    n_at = int(answered.sum())
    columns: dict[str, Any] = {
        "check_in_id": ci_ids[answered],
        "n_answers": n_answers[answered],
        "knowledge_pct": _sum_ratio(at, n_at, scored, score, has) * 100.0,
        "knowledge_core_pct": _sum_ratio(at, n_at, core, score, has) * 100.0,
    }
    # Every construct at once: an answer counts towards at most one, so one (check-in, construct) key.
    constructs = list(codebook.constructs)
    width = max(len(constructs), 1)
    of_key = np.array(
        [
            constructs.index(i.construct) if i is not None and i.kind == "likert" and i.construct in constructs else -1
            for i in table
        ]
        + [-1]
    )
    which = of_key[key]
    stored = (which >= 0) & has
    cells = at[stored] * width + which[stored]
    totals = np.bincount(cells, weights=score[stored], minlength=n_at * width).reshape(n_at, width)
    counts = np.bincount(cells, minlength=n_at * width).reshape(n_at, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / counts  # 0/0 → NaN: nothing of that construct answered
    for c, construct in enumerate(constructs):
        columns[construct] = means[:, c]
    frame = pd.DataFrame(columns)
    frame["enrolment_id"] = chk["enrolment_id"].to_numpy()[answered]
    wave_codes = chk["wave"].to_numpy()
    # Categorical: the report compares waves dozens of times, and codes compare much faster than strings.
    frame["wave"] = pd.Categorical.from_codes(
        np.where(wave_codes >= 0, wave_codes, len(read.waves))[answered], categories=[*read.waves, ""]
    )
    frame["state"] = np.array([*read.states, "other"], dtype=object)[chk["state"].to_numpy()[answered]]

    enr = enr.sort_values("id", kind="stable")
    e_ids = enr["id"].to_numpy()
    e_pos = np.searchsorted(e_ids, frame["enrolment_id"].to_numpy())
    code_of = {c.id: c.code for c in courses}
    course_ids = enr["course_id"].to_numpy()[e_pos]
    frame["course"] = pd.Series(course_ids).map(code_of).to_numpy()
    for column in ("role", "agency", "level"):
        frame[column] = enr[column].to_numpy()[e_pos]
    frame = frame.sort_values(["course", "enrolment_id", "wave"], kind="stable").reset_index(drop=True)

    # Per (item id, wave), over all quiz-set versions: answers (n) and answers with a score (scored_n).
    n_waves = len(read.waves)
    a_wave = wave_codes[pos]
    item = ans["item"].to_numpy()
    keep = (item >= 0) & (a_wave >= 0)
    cell = item[keep] * n_waves + a_wave[keep]
    size = len(read.item_ids) * n_waves
    yn = ans["yn"].to_numpy()[keep]
    counts = np.bincount(cell, minlength=size)
    sums = np.bincount(cell, weights=np.where(has[keep], score[keep], 0.0), minlength=size)
    scored_n = np.bincount(cell, weights=has[keep], minlength=size)  # a skip (no score) is not answered
    yes = np.bincount(cell, weights=(yn == 2), minlength=size)
    yes_no = np.bincount(cell, weights=(yn > 0), minlength=size)
    present = np.nonzero(counts)[0]
    item_waves = pd.DataFrame(
        {
            "item_id": np.array(read.item_ids, dtype=object)[present // n_waves],
            "wave": np.array(read.waves, dtype=object)[present % n_waves],
            "n": counts[present],
            "scored_n": scored_n[present].astype("int64"),
            "score_sum": sums[present],
            "yes": yes[present].astype("int64"),
            "yes_no": yes_no[present].astype("int64"),
        }
    )

    state_codes = chk["state"].to_numpy()
    n_states = len(read.states) + 1
    known_wave = wave_codes >= 0
    by = np.bincount(
        wave_codes[known_wave] * n_states + state_codes[known_wave] % n_states, minlength=n_waves * n_states
    )
    present = np.nonzero(by)[0]
    states = pd.DataFrame(
        {
            "wave": np.array(read.waves, dtype=object)[present // n_states],
            "state": np.array([*read.states, "other"], dtype=object)[present % n_states],
            "n": by[present],
        }
    )
    enrolled = {
        int(c): int(n) for c, n in zip(*np.unique(enr["course_id"].to_numpy(), return_counts=True), strict=False)
    }

    text = read.free_text
    if len(text):
        t_key, _ = _item_table(codebook, read, text)
        is_text = _per_key(table, lambda i: i.kind == "text")[t_key]
        t_pos = np.searchsorted(ci_ids, text["check_in_id"].to_numpy())
        t_pos = np.minimum(t_pos, len(ci_ids) - 1)
        inside = (ci_ids[t_pos] == text["check_in_id"].to_numpy()) & is_text
        t_pos = t_pos[inside]
        free_text = pd.DataFrame(
            {
                "item_id": np.array(read.item_ids, dtype=object)[text["item"].to_numpy()[inside]],
                "wave": np.array([*read.waves, ""], dtype=object)[wave_codes[t_pos]],
                "enrolment_id": chk["enrolment_id"].to_numpy()[t_pos],
                "value": text["value"].to_numpy()[inside],
            }
        )
    else:
        free_text = pd.DataFrame(columns=["item_id", "wave", "enrolment_id", "value"])
    return _Frames(frame, item_waves, states, enrolled, free_text, read)


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
    courses: list[CourseInfo],
    waves: list[str],
    checkins: pd.DataFrame,
    states: pd.DataFrame,
    enrolled: dict[int, int],
    k: int,
) -> list[dict[str, Any]]:
    out = []
    for wave in waves:
        with_wave = [c for c in courses if wave in c.waves]
        n_enrolled = sum(enrolled.get(c.id, 0) for c in with_wave)
        attended = [c.expected_attendance for c in with_wave if c.expected_attendance]
        attendance = sum(attended) if attended else None
        at_wave = checkins[checkins["wave"] == wave]
        responded = len(at_wave)
        wave_states = states[states["wave"] == wave] if len(states) else states
        done = wave_states["state"] == CheckInState.COMPLETED if len(states) else None
        completed = int(wave_states.loc[done, "n"].sum()) if len(states) else 0
        # Only courses with a known attendance count towards the attendance-based rate.
        responded_att = int(at_wave["course"].isin({c.code for c in with_wave if c.expected_attendance}).sum())
        row = suppressed(
            responded,
            k,
            {
                "responded": responded,
                "completed": completed if completed >= k else None,  # not a check-in state: a figure
                "rate_attendance": 100.0 * responded_att / attendance if attendance else None,
                "rate_enrolled": 100.0 * responded / n_enrolled if n_enrolled else None,
            },
        )
        row.pop("n")
        row = {
            "wave": wave,
            "expected_attendance": attendance,
            "enrolled": n_enrolled if n_enrolled >= k else None,
            **row,
        }
        _protect_completed(row, responded, completed, k)
        out.append(row)
    return out


def _protect_completed(row: dict[str, Any], responded: int, completed: int, k: int) -> None:
    """Answered minus completed is how many left part-way: never a count of fewer than k people."""
    part_way, key = responded - completed, "completed"  # not a check-in state: the row's count
    protect(
        [
            Cell("total", np.ones(2, dtype=bool), responded, row["suppressed"], lambda: None, total=True),
            Cell("response", np.array([True, False]), completed, row[key] is None, _withhold(row, key)),
            Cell("response", np.array([False, True]), part_way, True, lambda: None),
        ],
        k,
    )


def _by_wave(
    frame: pd.DataFrame, column: str, waves: list[str], k: int, bounds: tuple[float, float]
) -> list[dict[str, Any]]:
    return [
        {"wave": wave, **mean_ci(frame.loc[frame["wave"] == wave, column].to_numpy(dtype="float64"), k, bounds)}
        for wave in waves
    ]


def paired_pairs(waves: list[str]) -> list[tuple[str, str]]:
    """The paired comparisons shown: post→each later wave, and pre→post when there is a pre wave."""
    pairs = [(POST, w) for w in waves if wave_order(w) > 0] if POST in waves else []
    if PRE in waves and POST in waves:
        pairs.insert(0, (PRE, POST))
    return pairs


def _paired(checkins: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    scores = checkins.pivot_table(
        index="enrolment_id", columns="wave", values="knowledge_core_pct", aggfunc="first", observed=True
    )
    out = []
    for before, after in paired_pairs(waves):
        if before in scores and after in scores:
            both = scores[[before, after]].dropna()
            result = paired_change(both[before].to_numpy(), both[after].to_numpy(), k)
        else:
            result = paired_change(np.array([]), np.array([]), k)
        # The day's change (pre → post) and retention (post → later) are read differently: say which.
        out.append({"from": before, "to": after, "kind": "day" if before == PRE else "retention", **result})
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
                n, total = int(rows.at[wave, "scored_n"]), float(rows.at[wave, "score_sum"] or 0.0)
                cells.append({"wave": wave, **percent(round(total), n, k, "pct_correct")})
        shown = [c for c in cells if not c["suppressed"] and c["wave"] != PRE]
        fade = None
        if len(shown) >= 2:
            fade = {
                "from": shown[0]["wave"],
                "to": shown[-1]["wave"],
                "points": shown[0]["pct_correct"] - shown[-1]["pct_correct"],
            }
        out.append(
            {
                "item_id": item_id,
                "text": item.text,
                "tags": list(item.tags),
                "age_of_consent": item.age_of_consent,
                "by_wave": cells,
                "fade": fade,
            }
        )
    return out


def _faded_most(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    faded = [i for i in items if i["fade"] and i["fade"]["points"] > 0]
    # Age of consent first when it faded: the known weak spot the board asks about.
    faded.sort(key=lambda i: (not i["age_of_consent"], -i["fade"]["points"]))
    return [
        {"item_id": i["item_id"], "text": i["text"], "age_of_consent": i["age_of_consent"], **i["fade"]}
        for i in faded[:FADED_SHOWN]
    ]


def _practice(codebook: Codebook, item_waves: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    out = []
    for item_id in codebook.item_ids():
        item = codebook.first(item_id)
        if item.kind != "yes_no":
            continue
        rows = item_waves[item_waves["item_id"] == item_id].set_index("wave")
        cells = [
            {"wave": w, **percent(int(rows.at[w, "yes"]), int(rows.at[w, "yes_no"]), k, "pct_yes")}
            for w in waves
            if w in rows.index
        ]
        out.append({"item_id": item_id, "text": item.text, "by_wave": cells})
    return out


def _attrition_waves(waves: list[str]) -> tuple[str | None, str | None]:
    baseline = POST if POST in waves else (waves[0] if waves else None)
    later = [w for w in waves if baseline and wave_order(w) > wave_order(baseline)]
    return baseline, (later[-1] if later else None)


def _attrition(
    checkins: pd.DataFrame,
    last_states: pd.DataFrame,
    baseline: str | None,
    last: str | None,
    k: int,
    knowledge: list[dict[str, Any]],
) -> dict[str, Any]:
    empty = {"baseline": baseline, "later": last}
    if baseline is None or last is None:
        return {
            **empty,
            "stayed": mean_ci([], k, PERCENT),
            "dropped": mean_ci([], k, PERCENT),
            **suppressed(0, k, {"mann_whitney_u": None, "p": None, "rank_biserial": None}),
        }
    base = checkins[checkins["wave"] == baseline].set_index("enrolment_id")["knowledge_core_pct"].dropna()
    answered_last = set(checkins.loc[checkins["wave"] == last, "enrolment_id"])
    # Only people whose later check-in is over can have dropped out; pending ones are left out.
    over = (
        set(last_states.loc[last_states["state"].isin(check_in_states.FINISHED), "enrolment_id"])
        if len(last_states)
        else set()
    )
    stayed = base[base.index.isin(answered_last)].to_numpy()
    dropped = base[base.index.isin(over - answered_last)].to_numpy()
    u, p, r = mann_whitney(stayed, dropped)
    n = min(len(stayed), len(dropped))
    test = suppressed(n, k, {"mann_whitney_u": u, "p": p, "rank_biserial": r})
    test.pop("n")
    out = {**empty, "stayed": mean_ci(stayed, k, PERCENT), "dropped": mean_ci(dropped, k, PERCENT), **test}
    total = next(c for c in knowledge if c["wave"] == baseline)
    # Stayed, dropped and (not yet over) pending make up the baseline total shown in the knowledge table.
    atoms = 3 if len(base) > len(stayed) + len(dropped) else 2
    protect(
        [
            Cell("total", np.ones(atoms, dtype=bool), len(base), total["suppressed"], _withhold(total), total=True),
            Cell(
                "attrition", np.arange(atoms) == 0, len(stayed), out["stayed"]["suppressed"], _withhold(out["stayed"])
            ),
            Cell(
                "attrition",
                np.arange(atoms) == 1,
                len(dropped),
                out["dropped"]["suppressed"],
                _withhold(out["dropped"]),
            ),
        ],
        k,
    )
    return out


def _named(checkins: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's group in a breakdown, as shown (a missing value is "not stated")."""
    # Factorised first: the few distinct values are named once, not every row.
    codes, uniques = pd.factorize(checkins[column].to_numpy(dtype=object), use_na_sentinel=True)
    return np.array([str(v) for v in uniques] + [NOT_STATED], dtype=object)[codes]  # -1 (missing) → last


def _breakdown(checkins: pd.DataFrame, column: str, waves: list[str], k: int) -> list[dict[str, Any]]:
    named = _named(checkins, column)
    wave = checkins["wave"]
    score = checkins["knowledge_core_pct"].to_numpy(dtype="float64")
    at = {w: (wave == w).to_numpy() for w in waves}
    out = []
    for group in sorted(set(named)):
        mine = named == group
        out.append(
            {
                "group": group,
                "by_wave": [{"wave": w, **mean_ci(score[mine & at[w]], k, PERCENT)} for w in waves],
            }
        )
    return out


def _withhold(figures: dict[str, Any], *keys: str) -> Callable[[], None]:
    """Blank these figures (all but the labels when none are named) of a shown cell, to protect a smaller one."""

    def withhold() -> None:
        for key in keys or [key for key in figures if key not in ("wave", "group", "suppressed")]:
            figures[key] = None
        if keys:
            figures[f"{keys[0]}_complementary"] = True
        else:
            figures.update(suppressed=True, complementary=True)

    return withhold


def _protect_breakdowns(
    checkins: pd.DataFrame,
    knowledge: list[dict[str, Any]],
    breakdowns: dict[str, list[dict[str, Any]]],
    waves: list[str],
    k: int,
) -> None:
    """Per wave, the knowledge total and every breakdown's groups: no withheld group can be worked out."""
    scored = checkins["knowledge_core_pct"].notna().to_numpy()
    names = {name: _named(checkins, name) for name in breakdowns}
    for w, wave in enumerate(waves):
        rows = scored & (checkins["wave"] == wave).to_numpy()
        # Atoms: the people sharing role, agency and level; every cell of every breakdown is a union of them.
        keys = list(zip(*(names[name][rows] for name in breakdowns), strict=False))
        atoms = list(dict.fromkeys(keys))
        total = knowledge[w]
        cells = [
            Cell(
                "total",
                np.ones(len(atoms), dtype=bool),
                int(rows.sum()),
                total["suppressed"],
                _withhold(total),
                total=True,
            )
        ]
        for b, (name, groups) in enumerate(breakdowns.items()):
            for group in groups:
                figures = group["by_wave"][w]
                inside = np.array([a[b] == group["group"] for a in atoms], dtype=bool)
                n = int(sum(1 for key in keys if key[b] == group["group"]))
                cells.append(Cell(name, inside, n, figures["suppressed"], _withhold(figures)))
        protect(cells, k)


def _protect_enrolled(
    courses: list[CourseInfo],
    shown: list[dict[str, Any]],
    response: list[dict[str, Any]],
    enrolled: dict[int, int],
    k: int,
) -> None:
    """Enrolled per course and per wave (the sum over the courses with that wave): none withheld can be worked out."""
    cells = [
        Cell(
            "courses",
            np.arange(len(courses)) == i,
            enrolled.get(c.id, 0),
            row["enrolled_suppressed"],
            _course_withheld(row),
        )
        for i, (c, row) in enumerate(zip(courses, shown, strict=False))
    ]
    for row in response:
        with_wave = np.array([row["wave"] in c.waves for c in courses], dtype=bool)
        n = sum(enrolled.get(c.id, 0) for c, inside in zip(courses, with_wave, strict=False) if inside)
        # The rate against enrolment gives the count back from the answered count: it goes with it.
        cells.append(
            Cell(
                "waves", with_wave, n, row["enrolled"] is None, _withhold(row, "enrolled", "rate_enrolled"), total=True
            )
        )
    protect(cells, k)


def _course_withheld(row: dict[str, Any]) -> Callable[[], None]:
    def withhold() -> None:
        row.update(enrolled=None, enrolled_suppressed=True, enrolled_complementary=True)

    return withhold


def _free_text(codebook: Codebook, frame: pd.DataFrame, waves: list[str], k: int) -> list[dict[str, Any]]:
    """Per text item and wave: identical answers grouped with how many gave them, most frequent first
    (then alphabetically), never in an order that could be lined up with people or times."""
    groups = dict(tuple(frame.groupby(["item_id", "wave"], sort=False))) if len(frame) else {}
    out = []
    for item_id in codebook.item_ids():
        item = codebook.first(item_id)
        if item.kind != "text":
            continue
        for wave in [w for w in waves if w in item.waves]:
            mine = groups.get((item_id, wave))
            people = int(mine["enrolment_id"].nunique()) if mine is not None else 0
            shown = people >= k
            answers = None
            if shown:
                counted = mine["value"].astype(str).value_counts(sort=False)
                answers = [
                    {"text": text, "count": int(n)}
                    for text, n in sorted(counted.items(), key=lambda tn: (-tn[1], tn[0]))
                ]
            out.append(
                {
                    "item_id": item_id,
                    "text": item.text,
                    "wave": wave,
                    "n": people if shown else None,
                    "answers_total": len(mine) if shown else None,
                    "answers": answers,
                    "suppressed": not shown,
                }
            )
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
        "knowledge_items": codebook.core_knowledge_ids(),
        "suppress_below": k,
        "free_text_scrubbed": scrubbed_sentence(),
        "notes": [
            "Knowledge score: the percentage of knowledge items answered correctly, counting only the "
            "items asked at every wave of the quiz set (so waves are compared on the same questions); "
            "partly completed check-ins count with the items they answered.",
            "95% confidence intervals of means respect their scale (0–100 for knowledge, 1–5 for attitudes, "
            "−100 to 100 for a paired change): the scale is mapped to 0–1, the t-interval "
            "logit(m) ± t(0.975, n−1) × SE/(m(1−m)) is taken on the logit of the mean m (delta method) and "
            "mapped back, so no interval can leave the scale; it keeps the t-interval's small-sample width, "
            "needs no random numbers (the same data give the same report) and meets the plain t-interval "
            "as n grows. A bootstrap was not used: it is narrower than it should be for the small groups "
            "where bounds matter, and costs far more at a million answers.",
            "95% confidence intervals of percentages of answers (per item, practice questions): Wilson score "
            'intervals (scipy.stats.binomtest(…).proportion_ci(method="wilson")), which stay within 0–100.',
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
            f"Complementary suppression: a withheld group could otherwise be worked out by subtraction (a "
            f"wave's total minus the groups shown, or a group equal to one in another breakdown). So, per "
            f"wave, the knowledge total and the role, agency and level groups are checked together, and so "
            f"are the enrolled counts per course and per wave, answered against completed per wave (their "
            f"difference is who left part-way), and the attrition groups with their baseline total: "
            f"while some withheld figure about fewer than "
            f"{k} people (or a table's withheld groups together, if fewer than {k}) is a sum or difference of "
            f"shown figures, the smallest shown figure that allows it is withheld too (shown as "
            f"“{WITHHELD}”, null in report.json). A group is withheld before a total.",
            "Taking a quiz is itself retrieval practice: where feedback was shown at earlier waves, later "
            "scores measure training plus that practice.",
        ],
    }
