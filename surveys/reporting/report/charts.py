"""Charts drawn from report data only (so they can never show a suppressed figure), as SVG and PNG."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, ever: the report is made on servers and in CI

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

WIDTH, HEIGHT = 7.2, 3.4
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#833c0b")
RC = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "followup",
}  # fixed salt: the same report gives the same SVG ids


def _figure(height: float = HEIGHT) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.add_subplot()


def _legend(ax: Any, **kwargs: Any) -> None:
    # Everything may be suppressed: then there is nothing to name.
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _footnote(fig: Figure, hidden: list[str], marker: str) -> None:
    if hidden:
        fig.text(0.01, 0.005, f"Not drawn ({marker} people): {', '.join(hidden)}", fontsize=7, color="#555")


def response_chart(report: dict[str, Any]) -> Figure | None:
    """Responses per wave as % of expected attendance and % of enrolled."""
    rows = report["response"]
    fig, ax = _figure()
    hidden = [r["wave"] for r in rows if r["suppressed"]]
    for offset, (key, label, colour) in enumerate(
        (("rate_attendance", "% of expected attendance", PALETTE[0]), ("rate_enrolled", "% of enrolled", PALETTE[1]))
    ):
        for x, row in enumerate(rows):
            if not row["suppressed"] and row[key] is not None:
                bar = ax.bar(
                    x + (offset - 0.5) * 0.38,
                    row[key],
                    0.38,
                    color=colour,
                    label=label if x == next(i for i, r in enumerate(rows) if not r["suppressed"]) else None,
                )
                bar[0].set_gid(f"response-{key}-{row['wave']}")
    ax.set_xticks(range(len(rows)), [r["wave"] for r in rows])
    ax.set_ylabel("responded (%)")
    ax.set_ylim(0, max(100, *[r[k] or 0 for r in rows for k in ("rate_attendance", "rate_enrolled")]) * 1.05)
    _legend(ax, frameon=False, fontsize=8)
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


def _points(
    ax: Any, cells: list[dict[str, Any]], waves: list[str], offset: float, colour: str, label: str, gid: str
) -> list[str]:
    hidden = []
    xs, ys, lows, highs = [], [], [], []
    for cell in cells:
        if cell["suppressed"] or cell.get("mean") is None:
            hidden.append(cell["wave"])
            continue
        x = waves.index(cell["wave"]) + offset
        mean = cell["mean"]
        low = cell["ci_low"] if cell["ci_low"] is not None else mean
        high = cell["ci_high"] if cell["ci_high"] is not None else mean
        drawn = ax.errorbar(
            [x],
            [mean],
            yerr=[[mean - low], [high - mean]],
            fmt="o",
            color=colour,
            capsize=3,
            label=label if not xs else None,
        )
        drawn.lines[0].set_gid(f"{gid}-{cell['wave']}")
        xs.append(x), ys.append(mean), lows.append(low), highs.append(high)
    if len(xs) > 1:
        ax.plot(xs, ys, color=colour, alpha=0.5, linewidth=1)
    return hidden


def knowledge_chart(report: dict[str, Any]) -> Figure | None:
    """Mean knowledge score per wave with 95% confidence intervals."""
    waves = report["waves"]
    fig, ax = _figure()
    hidden = _points(ax, report["knowledge"]["by_wave"], waves, 0.0, PALETTE[0], "knowledge", "knowledge")
    ax.set_xticks(range(len(waves)), waves)
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% correct (95% CI)")
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


def paired_chart(report: dict[str, Any]) -> Figure | None:
    """Mean paired change in knowledge score with 95% CIs."""
    rows = report["paired_change"]
    if not rows:
        return None
    fig, ax = _figure(2.6)
    hidden = []
    labels = [f"{'on the day' if r['kind'] == 'day' else 'retention'}: {r['from']} → {r['to']}" for r in rows]
    for y, row in enumerate(rows):
        if row["suppressed"] or row["mean_diff"] is None:
            hidden.append(labels[y])
            continue
        mean, low, high = row["mean_diff"], row["ci_low"] or row["mean_diff"], row["ci_high"] or row["mean_diff"]
        drawn = ax.errorbar([mean], [y], xerr=[[mean - low], [high - mean]], fmt="s", color=PALETTE[0], capsize=3)
        drawn.lines[0].set_gid(f"paired-{row['from']}-{row['to']}")
    ax.axvline(0, color="#888", linewidth=0.8)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("change in % correct (later − earlier, 95% CI)")
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


def retention_chart(report: dict[str, Any]) -> Figure | None:
    """% correct per wave for every knowledge item asked at two or more waves."""
    waves = report["waves"]
    items = [i for i in report["items"] if len(i["by_wave"]) >= 2]
    if not items:
        return None
    fig, ax = _figure(4.4)
    hidden = []
    for n, item in enumerate(items):
        colour = PALETTE[n % len(PALETTE)]
        xs, ys = [], []
        for cell in item["by_wave"]:
            if cell["suppressed"]:
                hidden.append(f"{item['item_id']} {cell['wave']}")
                continue
            xs.append(waves.index(cell["wave"]))
            ys.append(cell["pct_correct"])
            dot = ax.plot([xs[-1]], [ys[-1]], "o", color=colour)[0]
            dot.set_gid(f"item-{item['item_id']}-{cell['wave']}")
        style = "-" if item["age_of_consent"] else "--"
        ax.plot(
            xs, ys, style, color=colour, label=item["item_id"] + (" (age of consent)" if item["age_of_consent"] else "")
        )
    ax.set_xticks(range(len(waves)), waves)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% correct")
    _legend(ax, frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


def constructs_chart(report: dict[str, Any]) -> Figure | None:
    """Attitude construct means (1–5) per wave with 95% CIs, one colour per construct."""
    waves = report["waves"]
    constructs = report["constructs"]
    if not constructs:
        return None
    fig, ax = _figure(4.2)
    hidden = []
    width = 0.6 / max(len(constructs), 1)
    for n, construct in enumerate(constructs):
        offset = (n - (len(constructs) - 1) / 2) * width
        gone = _points(
            ax,
            construct["by_wave"],
            waves,
            offset,
            PALETTE[n % len(PALETTE)],
            construct["construct"],
            f"construct-{construct['construct']}",
        )
        hidden += [f"{construct['construct']} {w}" for w in gone]
    ax.set_xticks(range(len(waves)), waves)
    ax.set_xlim(-0.5, len(waves) - 0.5)
    ax.set_ylim(1, 5)
    ax.set_ylabel("mean (1–5, 95% CI)")
    _legend(ax, frameon=False, fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


def practice_chart(report: dict[str, Any]) -> Figure | None:
    """% answering yes to each practice-change question, per wave."""
    items = report["practice"]
    if not items:
        return None
    waves = sorted({c["wave"] for i in items for c in i["by_wave"]}, key=report["waves"].index)
    fig, ax = _figure(0.6 + 0.55 * len(items))
    hidden = []
    height = 0.8 / max(len(waves), 1)
    for w, wave in enumerate(waves):
        for y, item in enumerate(items):
            cell = next((c for c in item["by_wave"] if c["wave"] == wave), None)
            if cell is None:
                continue
            if cell["suppressed"]:
                hidden.append(f"{item['item_id']} {wave}")
                continue
            bar = ax.barh(
                y + (w - (len(waves) - 1) / 2) * height,
                cell["pct_yes"],
                height,
                color=PALETTE[w % len(PALETTE)],
                label=wave if y == 0 else None,
            )
            bar[0].set_gid(f"practice-{item['item_id']}-{wave}")
    ax.set_yticks(range(len(items)), [i["item_id"] for i in items])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% answering yes")
    _legend(ax, frameon=False, fontsize=8)
    _footnote(fig, hidden, report["suppressed_marker"])
    return fig


CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], Figure | None]]] = {
    "response": ("Response rate per wave", response_chart),
    "knowledge": ("Knowledge score per wave", knowledge_chart),
    "paired": ("Paired change in knowledge", paired_chart),
    "retention": ("Retention per item", retention_chart),
    "constructs": ("Attitudes per wave", constructs_chart),
    "practice": ("Practice change", practice_chart),
}


def figures(report: dict[str, Any]) -> dict[str, Figure]:
    """Every chart the report has data for, by name."""
    out = {}
    with matplotlib.rc_context(RC):
        for name, (_title, draw) in CHARTS.items():
            fig = draw(report)
            if fig is not None:
                out[name] = fig
    return out


def svg(fig: Figure) -> str:
    """Inline SVG that scales to its container (fixed width and height removed, viewBox kept)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r'(<svg[^>]*?)\s(?:width|height)="[^"]*"\s(?:width|height)="[^"]*"', r"\1", text, count=1)


def raster(fig: Figure, dpi: int = 150) -> Image.Image:
    """The chart as an opaque RGB image, for the PDF.

    Drawn straight into Agg's buffer: no PNG is encoded, and fpdf2 (which decodes any PNG and
    recompresses it) gets RGB without an alpha channel to split into a soft mask.
    """
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")


def png(fig: Figure, dpi: int = 150) -> bytes:
    """The chart as PNG."""
    buffer = io.BytesIO()
    raster(fig, dpi).save(buffer, format="png")
    return buffer.getvalue()
