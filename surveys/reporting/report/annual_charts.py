"""The annual report's charts, from report data only: knowledge by level and by quarter, the board's figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")  # as charts.py: never a display

import matplotlib.dates as mdates
from matplotlib.figure import Figure

from surveys.reporting.report.charts import HEIGHT, PALETTE, RC, WIDTH


def annual_figures(report: dict[str, Any]) -> dict[str, Figure]:
    """Every annual chart the report has data for, by name (none for a report without a period)."""
    if "annual" not in report:
        return {}
    out: dict[str, Figure] = {}
    with matplotlib.rc_context(RC):
        for name, grouping in (("annual_levels", "level"), ("annual_quarters", "quarter")):
            out[name] = _by_group(report, grouping)
        if report["org_figures"]["measures"]:
            out["org_figures"] = _org_figures(report["org_figures"])
    return out


def _by_group(report: dict[str, Any], grouping: str) -> Figure:
    """Mean knowledge per wave (95% CI) for each group; withheld cells are not drawn, and the footnote says so."""
    waves = report["waves"]
    rows = [r for r in report["annual"][grouping] if not r.get("total")]
    fig = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    hidden = []
    width = 0.5 / max(len(rows), 1)
    for n, row in enumerate(rows):
        offset = (n - (len(rows) - 1) / 2) * width
        xs, ys = [], []
        for cell in row["by_wave"]:
            figures = cell["knowledge"]
            if figures is None or figures["suppressed"] or figures.get("mean") is None:
                hidden.append(f"{row['group']} {cell['wave']}")
                continue
            x, mean = waves.index(cell["wave"]) + offset, figures["mean"]
            low = figures["ci_low"] if figures["ci_low"] is not None else mean
            high = figures["ci_high"] if figures["ci_high"] is not None else mean
            drawn = ax.errorbar(
                [x], [mean], yerr=[[mean - low], [high - mean]], fmt="o", capsize=3,
                color=PALETTE[n % len(PALETTE)], label=row["group"] if not xs else None,
            )  # fmt: skip
            drawn.lines[0].set_gid(f"{grouping}-{row['group']}-{cell['wave']}")
            xs.append(x), ys.append(mean)
        if len(xs) > 1:
            ax.plot(xs, ys, color=PALETTE[n % len(PALETTE)], alpha=0.5, linewidth=1)
    ax.set_xticks(range(len(waves)), waves)
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% correct (95% CI)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8, ncols=min(len(rows), 4), loc="lower center")
    if hidden:
        marker = report["suppressed_marker"]
        # As the x label, so constrained layout keeps it clear of the ticks however long it is.
        ax.set_xlabel(
            f"Not drawn (withheld or {marker} people): {', '.join(hidden)}", fontsize=7, color="#555", wrap=True
        )
    return fig


def _org_figures(figures: dict[str, Any]) -> Figure:
    """One panel per measure: each period's value as a bar spanning its days; the training dates as dashed lines."""
    measures = figures["measures"]
    fig = Figure(figsize=(WIDTH, 0.6 + 1.7 * len(measures)), layout="constrained")
    axes = fig.subplots(len(measures), 1, sharex=True, squeeze=False)[:, 0]
    trainings = [(t["code"], date.fromisoformat(t["delivered_on"])) for t in figures["training_dates"]]
    for n, (ax, measure) in enumerate(zip(axes, measures, strict=True)):
        for point in measure["points"]:
            start, end = date.fromisoformat(point["period_start"]), date.fromisoformat(point["period_end"])
            bar = ax.bar(start, point["value"], width=(end - start + timedelta(days=1)).days, align="edge",
                         color=PALETTE[n % len(PALETTE)], alpha=0.85, edgecolor="white")  # fmt: skip
            bar[0].set_gid(f"figure-{measure['measure']}-{point['period_start']}")
        for code, day in trainings:
            ax.axvline(day, color="#444", linestyle="--", linewidth=0.9)
            if n == 0:
                ax.annotate(code, (day, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize=6.5,
                            va="top", ha="right", color="#444")  # fmt: skip
        ax.set_title(measure["measure"], fontsize=8.5, loc="left")
        ax.set_ylim(bottom=0)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    caption = "Dashed lines: the training dates. The figures sit beside the training; they do not show it caused them."
    axes[-1].set_xlabel(caption, fontsize=7, color="#555")
    return fig
