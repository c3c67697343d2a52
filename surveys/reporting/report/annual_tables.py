"""The annual report's sections (per course, level and quarter; the board's figures) as display tables."""

from __future__ import annotations

from typing import Any

from surveys.reporting.report.tables import DASH, WITHHELD, num

TITLES = {
    "course": ("annual-courses", "Courses in the period", "Course"),
    "level": ("annual-levels", "By course level", "Level"),
    "quarter": ("annual-quarters", "By quarter of delivery", "Quarter"),
}
CHARTS = {"level": "annual_levels", "quarter": "annual_quarters"}


def with_annual(parts: list[dict[str, Any]], report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's sections with the annual ones placed in them (unchanged when the report has no period):
    the grouped tables after "Courses", the board's figures before "Methods"."""
    if "annual" not in report:
        return parts
    grouped = [_grouped(report, grouping) for grouping in TITLES]
    after = next((i + 1 for i, p in enumerate(parts) if p["id"] == "courses"), 0)
    out = [*parts[:after], *grouped, *parts[after:]]
    before = next((i for i, p in enumerate(out) if p["id"] == "methods"), len(out))
    return [*out[:before], _org_figures(report), *out[before:]]


def _answered(cell: dict[str, Any] | None, marker: str) -> str:
    if cell is None:
        return DASH
    if cell.get("answered_complementary"):
        return WITHHELD
    if cell["suppressed"]:
        return marker
    rate = "" if cell["rate_attendance"] is None else f" ({num(cell['rate_attendance'], 0)}%)"
    return f"{cell['answered']}{rate}"


def _knowledge(cell: dict[str, Any] | None, marker: str) -> str:
    if cell is None:
        return DASH
    if cell.get("complementary"):
        return WITHHELD
    if cell["suppressed"]:
        return marker
    ci = f" ({num(cell['ci_low'])}–{num(cell['ci_high'])})" if cell.get("ci_low") is not None else ""
    return f"{num(cell['mean'])}{ci}, n={cell['n']}"


def _grouped(report: dict[str, Any], grouping: str) -> dict[str, Any]:
    m = report["suppressed_marker"]
    waves = report["waves"]
    section_id, title, label = TITLES[grouping]
    rows = report["annual"][grouping]
    if grouping == "course":
        lead = ["Course", "Level", "Delivered", "Expected attendance"]

        def first(r: dict[str, Any]) -> list[str]:
            if r.get("total"):
                return [r["group"], DASH, DASH, _attendance(r)]
            return [r["group"], str(r["level"]), f"{r['delivered_on']} ({r['quarter']})", _attendance(r)]
    else:
        lead = [label, "Courses", "Expected attendance"]

        def first(r: dict[str, Any]) -> list[str]:
            return [r["group"], str(r["courses"]), _attendance(r)]

    def at(r: dict[str, Any], wave: str) -> dict[str, Any] | None:
        return next((c for c in r["by_wave"] if c["wave"] == wave), None)

    response = {
        "headers": [*lead, *(f"{w}: answered (% of attendance)" for w in waves)],
        "rows": [[*first(r), *(_answered((at(r, w) or {}).get("response"), m) for w in waves)] for r in rows],
    }
    knowledge = {
        "headers": [label, *(f"{w}: knowledge % (95% CI)" for w in waves)],
        "rows": [[r["group"], *(_knowledge((at(r, w) or {}).get("knowledge"), m) for w in waves)] for r in rows],
    }
    return {
        "id": section_id,
        "title": title,
        "chart": CHARTS.get(grouping),
        "tables": [response, knowledge],
        "notes": [
            "Answered: check-ins with at least one answer at the wave; the rate counts only courses whose "
            "expected attendance is recorded. Knowledge: mean % correct on the items asked at every wave. "
            "A dash: no course in the row has that wave. The last row is the whole period, as in the "
            "sections below.",
            f"Figures about fewer than {report['suppress_below']} people are withheld ({m}); so is any figure "
            f"that would give one away by subtraction from the others or the total ({WITHHELD}).",
        ],
    }


def _attendance(row: dict[str, Any]) -> str:
    return DASH if row["expected_attendance"] is None else str(row["expected_attendance"])


def _org_figures(report: dict[str, Any]) -> dict[str, Any]:
    figures = report["org_figures"]
    tables = [
        {
            "headers": [f["measure"], "Value"],
            "rows": [[f"{p['period_start']} to {p['period_end']}", f"{p['value']:,g}"] for p in f["points"]],
        }
        for f in figures["measures"]
    ]
    dates = ", ".join(f"{t['code']} {t['delivered_on']}" for t in figures["training_dates"])
    return {
        "id": "org-figures",
        "title": "The board's figures beside the training",
        "chart": "org_figures" if figures["measures"] else None,
        "tables": tables,
        "notes": [
            figures["note"],
            f"Training delivered (dashed lines on the chart): {dates}.",
            figures["suppression"].format(k=report["suppress_below"]),
        ]
        + (
            []
            if figures["measures"]
            else ["No figures are stored for this period: `followup figures import FILE.csv` adds them."]
        ),
    }
