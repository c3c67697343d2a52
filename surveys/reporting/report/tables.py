"""The report's sections as titled tables of display strings, shared by the HTML and PDF renderers."""

from __future__ import annotations

from typing import Any

from surveys.reporting.report import languages, level3
from surveys.reporting.report.in_depth import in_depth_section

DASH = "–"
WITHHELD = "withheld"  # as report["withheld_marker"]: a figure hidden to protect a smaller one


def num(value: float | None, digits: int = 1) -> str:
    """A number for display; a dash when there is none."""
    return DASH if value is None else f"{value:.{digits}f}"


def p_value(p: float | None) -> str:
    """A p-value as usually reported."""
    if p is None:
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _mean_cell(cell: dict[str, Any], marker: str, digits: int = 1) -> str:
    if cell.get("complementary"):
        return WITHHELD
    if cell["suppressed"]:
        return marker
    ci = f" ({num(cell['ci_low'], digits)}–{num(cell['ci_high'], digits)})" if cell.get("ci_low") is not None else ""
    return f"{num(cell['mean'], digits)}{ci}, n={cell['n']}"


def _by_wave_row(label: str, cells: list[dict[str, Any]], waves: list[str], marker: str, render: Any) -> list[str]:
    by = {c["wave"]: c for c in cells}
    return [label] + [render(by[w]) if w in by else DASH for w in waves]


def sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every section in reading order: title, chart name, tables (headers + rows), notes, lists."""
    m = report["suppressed_marker"]
    waves = report["waves"]
    out: list[dict[str, Any]] = []

    out.append(
        {
            "id": "courses",
            "title": "Courses",
            "tables": [
                {
                    "headers": ["Course", "Title", "Level", "Delivered", "Waves", "Expected attendance", "Enrolled"],
                    "rows": [
                        [
                            c["code"],
                            c["title"],
                            str(c["level"]),
                            c["delivered_on"],
                            ", ".join(c["waves"]),
                            DASH if c["expected_attendance"] is None else str(c["expected_attendance"]),
                            _count(c["enrolled"], c["enrolled_suppressed"], c.get("enrolled_complementary", False), m),
                        ]
                        for c in report["courses"]
                    ],
                }
            ],
        }
    )

    out.append(
        {
            "id": "response",
            "title": "Response rate",
            "chart": "response",
            "tables": [
                {
                    "headers": [
                        "Wave",
                        "Expected attendance",
                        "Enrolled",
                        "Answered",
                        "Completed",
                        "% of attendance",
                        "% of enrolled",
                    ],
                    "rows": [
                        [
                            r["wave"],
                            DASH if r["expected_attendance"] is None else str(r["expected_attendance"]),
                            _count(r["enrolled"], r["enrolled"] is None, r.get("enrolled_complementary", False), m),
                        ]
                        + (
                            [m] * 4
                            if r["suppressed"]
                            else [
                                str(r["responded"]),
                                _completed(r, m),
                                num(r["rate_attendance"]),
                                num(r["rate_enrolled"]),
                            ]
                        )
                        for r in report["response"]
                    ],
                }
            ],
            "notes": [
                "Answered: at least one answer at the wave. Rates against attendance use only the "
                "courses whose expected attendance is recorded."
            ],
        }
    )

    items = ", ".join(report["knowledge"]["items"])
    out.append(
        {
            "id": "knowledge",
            "title": "Knowledge score per wave",
            "chart": "knowledge",
            "tables": [
                {
                    "headers": ["Wave", "n", "Mean % correct", "95% CI"],
                    "rows": [
                        [c["wave"], m, m, m]
                        if c["suppressed"]
                        else [c["wave"], str(c["n"]), num(c["mean"]), f"{num(c['ci_low'])}–{num(c['ci_high'])}"]
                        for c in report["knowledge"]["by_wave"]
                    ],
                }
            ],
            "notes": [f"Scored on the items asked at every wave: {items}."],
        }
    )

    out.append(
        {
            "id": "paired",
            "title": "Paired change in knowledge",
            "chart": "paired",
            "tables": [
                {
                    "headers": [
                        "Change",
                        "n",
                        "Mean before",
                        "Mean after",
                        "Difference (95% CI)",
                        "Wilcoxon W",
                        "p",
                        "Rank-biserial r",
                    ],
                    "rows": [
                        [_change(r)]
                        + (
                            [m] * 7
                            if r["suppressed"]
                            else [
                                str(r["n"]),
                                num(r["mean_before"]),
                                num(r["mean_after"]),
                                f"{num(r['mean_diff'])} ({num(r['ci_low'])} to {num(r['ci_high'])})",
                                num(r["wilcoxon_w"]),
                                p_value(r["p"]),
                                num(r["rank_biserial"], 2),
                            ]
                        )
                        for r in report["paired_change"]
                    ],
                }
            ],
            "notes": [
                "People who answered both waves. On the day: the change from before the course to its end. "
                "Retention: from the end of the course to a later wave; negative differences mean knowledge fell."
            ],
        }
    )

    faded = [
        f"{f['item_id']}{' (age of consent)' if f['age_of_consent'] else ''}: "
        f"{num(f['points'])} points lower at {f['to']} than at {f['from']} — {f['text']}"
        for f in report["faded_most"]
    ]
    out.append(
        {
            "id": "retention",
            "title": "Retention per item",
            "chart": "retention",
            "tables": [
                {
                    "headers": ["Item", *waves, "Fade (points)"],
                    "rows": [
                        [
                            *_by_wave_row(
                                i["item_id"] + (" ★" if i["age_of_consent"] else ""),
                                i["by_wave"],
                                waves,
                                m,
                                lambda c: _pct_cell(c, "pct_correct", m),
                            ),
                            DASH if i["fade"] is None else num(i["fade"]["points"]),
                        ]
                        for i in report["items"]
                    ],
                }
            ],
            "lists": [{"title": "Faded most (age of consent first)", "items": faded or ["No item faded."]}],
            "notes": [
                "★ age-of-consent item; 95% Wilson intervals. Fade: % correct at the first post-course wave "
                "minus the last."
            ],
        }
    )

    out.append(
        {
            "id": "constructs",
            "title": "Attitudes",
            "chart": "constructs",
            "tables": [
                {
                    "headers": ["Construct", *waves],
                    "rows": [
                        _by_wave_row(c["label"], c["by_wave"], waves, m, lambda cell: _mean_cell(cell, m, 2))
                        for c in report["constructs"]
                    ],
                }
            ],
            "notes": ["Means on 1–5 with 95% CIs; reverse-worded items flipped before averaging."],
        }
    )

    practice_waves = [w for w in waves if any(c["wave"] == w for i in report["practice"] for c in i["by_wave"])]
    out.append(
        {
            "id": "practice",
            "title": "Practice change",
            "chart": "practice",
            "tables": [
                {
                    "headers": ["Question", *practice_waves],
                    "rows": [
                        _by_wave_row(
                            f"{i['item_id']}: {i['text']}",
                            i["by_wave"],
                            practice_waves,
                            m,
                            lambda c: _pct_cell(c, "pct_yes", m, " yes"),
                        )
                        for i in report["practice"]
                    ],
                }
            ],
        }
    )

    a = report["attrition"]
    out.append(
        {
            "id": "attrition",
            "title": "Attrition",
            "tables": [
                {
                    "headers": ["Group", "n", f"Mean {a['baseline'] or ''} knowledge (95% CI)"],
                    "rows": [
                        [f"Answered {a['later']}", *_group(a["stayed"], m)],
                        [f"Did not answer {a['later']}", *_group(a["dropped"], m)],
                    ],
                }
            ],
            "notes": [
                f"Mann–Whitney U = {num(a['mann_whitney_u'])}, p = {p_value(a['p'])}, rank-biserial r = "
                f"{num(a['rank_biserial'], 2)}."
                if not a["suppressed"]
                else f"Test withheld: a group has {m} people."
            ],
        }
    )

    for name, rows in report["breakdowns"].items():
        out.append(
            {
                "id": f"by-{name}",
                "title": f"Knowledge by {name}",
                "tables": [
                    {
                        "headers": [name.capitalize(), *waves],
                        "rows": [
                            _by_wave_row(r["group"], r["by_wave"], waves, m, lambda cell: _mean_cell(cell, m))
                            for r in rows
                        ],
                    }
                ],
            }
        )

    out.extend(level3.parts(report))

    lists = [
        {
            "title": f"{t['item_id']} at {t['wave']}: {t['text']}",
            "items": [_answer(a) for a in t["answers"]]
            if not t["suppressed"]
            else [f"Withheld: answers from {m} people."],
            "long": not t["suppressed"],
        }
        for t in report["free_text"]
    ]
    out.append(
        {
            "id": "free-text",
            "title": "Free-text answers",
            "lists": lists,
            "notes": [
                report["methods"]["free_text_scrubbed"] + " Identical answers are listed once with how "
                "many gave them (×n), most frequent first, then alphabetically: never by person or time."
            ],
        }
    )

    out.append(languages.section(report))
    if in_depth := in_depth_section(report):
        out.append(in_depth)
    meth = report["methods"]
    feedback = "; ".join(f"{ref}: {'shown' if shown else 'not shown'}" for ref, shown in meth["feedback_shown"].items())
    out.append(
        {
            "id": "methods",
            "title": "Methods",
            "notes": [
                f"Waves: {', '.join(meth['waves'])}. Courses: {meth['courses']}. People answering: "
                f"{m if meth['people_answering'] is None else meth['people_answering']}. Answers: {meth['answers']}.",
                f"Answer feedback at earlier waves: {feedback}.",
                *meth["notes"],
            ],
        }
    )
    return out


def _pct_cell(cell: dict[str, Any], key: str, marker: str, what: str = "") -> str:
    if cell["suppressed"]:
        return marker
    return f"{num(cell[key])}%{what} ({num(cell['ci_low'])}–{num(cell['ci_high'])}), n={cell['n']}"


def _change(row: dict[str, Any]) -> str:
    return f"{'On the day' if row['kind'] == 'day' else 'Retention'}: {row['from']} → {row['to']}"


def _completed(row: dict[str, Any], marker: str) -> str:
    done = row["completed"]  # not a check-in state: the count of completed check-ins
    return _count(done, done is None, row.get("completed_complementary", False), marker)


def _count(n: int | None, suppressed: bool, complementary: bool, marker: str) -> str:
    if complementary:
        return WITHHELD
    return marker if suppressed else str(n)


def _answer(answer: dict[str, Any]) -> str:
    return answer["text"] if answer["count"] == 1 else f"{answer['text']} (×{answer['count']})"


def _group(cell: dict[str, Any], marker: str) -> list[str]:
    if cell.get("complementary"):
        return [WITHHELD, WITHHELD]
    if cell["suppressed"]:
        return [marker, marker]
    return [str(cell["n"]), f"{num(cell['mean'])} ({num(cell['ci_low'])}–{num(cell['ci_high'])})"]
