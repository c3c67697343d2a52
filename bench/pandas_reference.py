"""The reference: an evaluator's pandas/matplotlib script making the report's tables, charts and PDF from the long CSV.

`python -m bench.pandas_reference long.csv OUT_DIR` reads the long export and its codebook, computes the
report's tables (response, knowledge per wave with 95% CI, paired change with Wilcoxon, per-item
retention with Wilson CIs, constructs, practice, attrition, knowledge by role / agency / level, free
text), withholds figures about fewer than 5 people, draws the report's six charts, and writes
OUT_DIR/tables.json, OUT_DIR/charts/<name>.png and OUT_DIR/report.pdf (matplotlib's PdfPages: the
charts, every table and the free-text lists). It prints, last, a JSON line with the seconds taken
(reading the CSV included, imports not), the seconds to the tables, and the process's peak RSS.

What the long export does not hold it cannot compute: enrolled counts and expected attendance (so no
response rates), and check-ins that closed unanswered (so attrition compares the baseline's people who
answered the last wave with those who did not).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from scipy import special, stats

from bench.common import peak_rss_mb
from surveys.domain.waves import order_key as wave_order

# The analyst's script would sort waves the product's way, so it takes the product's rule.
_wave_key = wave_order
K = 5  # figures about fewer people are withheld
GROUPS = ("role", "agency", "level")
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#833c0b")


def _mean_ci(x: np.ndarray, low: float = 0.0, high: float = 100.0) -> dict[str, float]:
    # The t-interval on the logit of the mean rescaled to 0-1 (delta method), mapped back to the scale.
    x = x[~np.isnan(x)]
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    lo = hi = mean
    p = (mean - low) / (high - low) if n else float("nan")
    if n > 1 and 0 < p < 1 and x.std() > 0:
        half = stats.t.ppf(0.975, n - 1) * stats.sem(x) / (high - low) / (p * (1 - p))
        lo, hi = (low + (high - low) * special.expit(special.logit(p) + s) for s in (-half, half))
    if n < K:
        return {"n": n, "mean": None, "ci_low": None, "ci_high": None}
    return {"n": n, "mean": mean, "ci_low": float(lo), "ci_high": float(hi)}


def _pct(count: int, n: int) -> dict[str, Any]:
    if n < K:
        return {"n": int(n), "pct": None, "ci_low": None, "ci_high": None}
    ci = stats.binomtest(int(count), int(n)).proportion_ci(0.95, method="wilson")
    return {"n": int(n), "pct": 100.0 * count / n, "ci_low": 100.0 * ci.low, "ci_high": 100.0 * ci.high}


def tables(csv_path: Path) -> dict[str, Any]:
    """Every table of the report that the long export allows, as plain data."""
    long = pd.read_csv(csv_path, dtype={"value": str})
    codebook = pd.read_csv(csv_path.with_name(f"{csv_path.stem}_codebook.csv"), dtype=str)
    waves = sorted(long["wave"].unique(), key=_wave_key)
    items = codebook[codebook["kind"].notna()].rename(columns={"variable": "item_id"})
    item_waves = {r.item_id: str(r.waves).split(",") for r in items.itertuples()}

    # Knowledge on the core: scored items asked at every wave of the quiz set.
    scored_items = items[items["scored"] == "True"]
    core = [i for i in scored_items["item_id"] if set(waves) <= set(item_waves[i])]

    # Response: answered (any answer at the wave) and completed (every item of the wave answered).
    per_checkin = long.groupby(["wave", "pseudonym"]).size()
    asked = {w: sum(w in ws for ws in item_waves.values()) for w in waves}
    response = [
        {
            "wave": w,
            "answered": len(per_checkin[w]),
            # The evaluator counts its own column from the export, not from our check-in states.
            "completed": int((per_checkin[w] >= asked[w]).sum()),  # not a check-in state
        }
        for w in waves
    ]

    person = long[long["item_id"].isin(core)].groupby(["pseudonym", "wave"])["score"].mean() * 100
    knowledge = person.unstack()
    by_wave = {w: _mean_ci(knowledge[w].to_numpy(dtype="float64")) for w in waves if w in knowledge}

    paired = {}
    pairs = ([("pre", "post")] if "pre" in waves else []) + [("post", w) for w in waves if _wave_key(w) > 0]
    for before, after in pairs:
        both = knowledge[[before, after]].dropna()
        d = (both[after] - both[before]).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = stats.wilcoxon(d, zero_method="wilcox")
        nz = d[d != 0]
        ranks = stats.rankdata(np.abs(nz))
        paired[f"{before}->{after}"] = {
            "n": len(d),
            "mean_before": float(both[before].mean()),
            "mean_after": float(both[after].mean()),
            "mean_diff": float(d.mean()),
            **{k: v for k, v in _mean_ci(d, -100.0, 100.0).items() if k.startswith("ci")},
            "wilcoxon_w": float(test.statistic),
            "p": float(test.pvalue),
            "rank_biserial": float((ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum()),
        }

    scored = long[long["item_id"].isin(set(scored_items["item_id"])) & long["score"].notna()]
    counts = scored.groupby(["item_id", "wave"])["score"].agg(["sum", "count"])
    retention = {}
    for (i, w), r in counts.iterrows():
        cell = _pct(round(r["sum"]), int(r["count"]))
        retention[f"{i}@{w}"] = {
            "n": cell["n"],
            "pct_correct": cell["pct"],
            "ci_low": cell["ci_low"],
            "ci_high": cell["ci_high"],
        }
    fade = {}
    for i in scored_items["item_id"]:
        shown = [retention[f"{i}@{w}"]["pct_correct"] for w in waves if w != "pre" and f"{i}@{w}" in retention]
        shown = [p for p in shown if p is not None]
        fade[i] = shown[0] - shown[-1] if len(shown) >= 2 else None

    likert = long[long["construct"].notna() & long["score"].notna()]
    per_person = likert.groupby(["construct", "wave", "pseudonym"])["score"].mean()
    constructs = {
        f"{c}@{w}": _mean_ci(group.to_numpy(dtype="float64"), 1.0, 5.0)
        for (c, w), group in per_person.groupby(level=["construct", "wave"])
    }

    yes_no = items.loc[items["kind"] == "yes_no", "item_id"]
    answered_yn = long[long["item_id"].isin(set(yes_no)) & long["value"].isin(["yes", "no"])]
    yes = (
        answered_yn.assign(yes=answered_yn["value"] == "yes").groupby(["item_id", "wave"])["yes"].agg(["sum", "count"])
    )
    practice = {f"{i}@{w}": _pct(int(r["sum"]), int(r["count"])) for (i, w), r in yes.iterrows()}

    # Attrition: baseline (post) knowledge of those who answered the last wave against those who did not.
    baseline, last = "post", waves[-1]
    base = knowledge[baseline].dropna()
    later = knowledge.index[knowledge[last].notna()] if last in knowledge else []
    stayed, dropped = base[base.index.isin(later)], base[~base.index.isin(later)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mw = stats.mannwhitneyu(stayed, dropped, alternative="two-sided")
    attrition = {
        "stayed": _mean_ci(stayed.to_numpy()),
        "dropped": _mean_ci(dropped.to_numpy()),
        "mann_whitney_u": float(mw.statistic),
        "p": float(mw.pvalue),
        "rank_biserial": 2.0 * float(mw.statistic) / (len(stayed) * len(dropped)) - 1.0,
    }

    people = long.drop_duplicates(["pseudonym", "wave"])[["pseudonym", "wave", *GROUPS]]
    scores = person.rename("knowledge").reset_index().merge(people, on=["pseudonym", "wave"])
    breakdowns = {}
    for group in GROUPS:
        column = scores[group].fillna("not stated").astype(str)
        breakdowns[group] = {
            f"{g}@{w}": _mean_ci(cell["knowledge"].to_numpy(dtype="float64"))
            for (g, w), cell in scores.groupby([column, "wave"])
        }

    text_items = items.loc[items["kind"] == "text", "item_id"]
    text = long[long["item_id"].isin(set(text_items)) & long["value"].notna()]
    free_text = {}
    for (i, w), answers in text.groupby(["item_id", "wave"]):
        if answers["pseudonym"].nunique() < K:
            free_text[f"{i}@{w}"] = None
            continue
        counted = answers["value"].value_counts()
        free_text[f"{i}@{w}"] = [{"text": t, "count": int(n)} for t, n in counted.items()]

    return {
        "answers": len(long),
        "waves": waves,
        "response": response,
        "knowledge": by_wave,
        "paired": paired,
        "retention": retention,
        "fade": fade,
        "constructs": constructs,
        "practice": practice,
        "attrition": attrition,
        "breakdowns": breakdowns,
        "free_text": free_text,
    }


def _errorbars(ax: Any, xs: list[float], cells: list[dict[str, Any]], colour: str, label: str | None) -> None:
    shown = [(x, c) for x, c in zip(xs, cells, strict=True) if c and c["mean"] is not None]
    if not shown:
        return
    x = [s[0] for s in shown]
    mean = np.array([s[1]["mean"] for s in shown])
    low = np.array([s[1]["ci_low"] for s in shown])
    high = np.array([s[1]["ci_high"] for s in shown])
    ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", color=colour, capsize=3, label=label)
    ax.plot(x, mean, color=colour, alpha=0.5, linewidth=1)


def charts(t: dict[str, Any]) -> dict[str, plt.Figure]:
    """The report's six charts: response, knowledge, paired change, retention, attitudes, practice."""
    waves = t["waves"]
    x = range(len(waves))
    out = {}
    with plt.rc_context({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}):
        fig, ax = plt.subplots(figsize=(7.2, 3.4), layout="constrained")
        for n, key in enumerate(("answered", "completed")):  # not a check-in state
            ax.bar(
                [i + (n - 0.5) * 0.38 for i in x], [r[key] for r in t["response"]], 0.38, color=PALETTE[n], label=key
            )
        ax.set_xticks(list(x), waves)
        ax.set_ylabel("people")
        ax.legend(frameon=False, fontsize=8)
        out["response"] = fig

        fig, ax = plt.subplots(figsize=(7.2, 3.4), layout="constrained")
        _errorbars(ax, list(x), [t["knowledge"].get(w) for w in waves], PALETTE[0], None)
        ax.set_xticks(list(x), waves)
        ax.set_xlim(-0.5, len(waves) - 0.5)
        ax.set_ylim(0, 100)
        ax.set_ylabel("% correct (95% CI)")
        out["knowledge"] = fig

        rows = list(t["paired"].items())
        fig, ax = plt.subplots(figsize=(7.2, 2.6), layout="constrained")
        for y, (_name, r) in enumerate(rows):
            ax.errorbar(
                [r["mean_diff"]],
                [y],
                xerr=[[r["mean_diff"] - r["ci_low"]], [r["ci_high"] - r["mean_diff"]]],
                fmt="s",
                color=PALETTE[0],
                capsize=3,
            )
        ax.axvline(0, color="#888", linewidth=0.8)
        ax.set_yticks(range(len(rows)), [name.replace("->", " → ") for name, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("change in % correct (later − earlier, 95% CI)")
        out["paired"] = fig

        fig, ax = plt.subplots(figsize=(7.2, 4.4), layout="constrained")
        items = sorted({key.split("@")[0] for key in t["retention"]})
        for n, item in enumerate(items):
            cells = [(i, t["retention"].get(f"{item}@{w}")) for i, w in enumerate(waves)]
            cells = [(i, c["pct_correct"]) for i, c in cells if c and c["pct_correct"] is not None]
            if len(cells) >= 2:
                ax.plot(*zip(*cells, strict=True), "o-", color=PALETTE[n % len(PALETTE)], label=item)
        ax.set_xticks(list(x), waves)
        ax.set_ylim(0, 100)
        ax.set_ylabel("% correct")
        ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)
        out["retention"] = fig

        fig, ax = plt.subplots(figsize=(7.2, 4.2), layout="constrained")
        names = sorted({key.split("@")[0] for key in t["constructs"]})
        width = 0.6 / max(len(names), 1)
        for n, c in enumerate(names):
            offset = (n - (len(names) - 1) / 2) * width
            cells = [t["constructs"].get(f"{c}@{w}") for w in waves]
            _errorbars(ax, [i + offset for i in x], cells, PALETTE[n % len(PALETTE)], c)
        ax.set_xticks(list(x), waves)
        ax.set_ylim(1, 5)
        ax.set_ylabel("mean (1–5, 95% CI)")
        ax.legend(frameon=False, fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
        out["constructs"] = fig

        practice_items = sorted({key.split("@")[0] for key in t["practice"]})
        practice_waves = [w for w in waves if any(key.endswith(f"@{w}") for key in t["practice"])]
        fig, ax = plt.subplots(figsize=(7.2, 0.6 + 0.55 * len(practice_items)), layout="constrained")
        height = 0.8 / max(len(practice_waves), 1)
        for n, w in enumerate(practice_waves):
            cells = [t["practice"].get(f"{i}@{w}") for i in practice_items]
            ys = [y + (n - (len(practice_waves) - 1) / 2) * height for y in range(len(practice_items))]
            ax.barh(ys, [c["pct"] or 0 if c else 0 for c in cells], height, color=PALETTE[n], label=w)
        ax.set_yticks(range(len(practice_items)), practice_items)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("% answering yes")
        ax.legend(frameon=False, fontsize=8)
        out["practice"] = fig
    return out


def _f(value: float | None, digits: int = 1) -> str:
    return "fewer than 5" if value is None else f"{value:.{digits}f}"


def _ci(cell: dict[str, Any] | None, key: str = "mean", digits: int = 1) -> str:
    if cell is None:
        return "–"
    if cell[key] is None:
        return "fewer than 5"
    return f"{cell[key]:.{digits}f} ({cell['ci_low']:.{digits}f}–{cell['ci_high']:.{digits}f}), n={cell['n']}"


def table_frames(t: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The tables as the PDF shows them (display strings)."""
    waves = t["waves"]
    out = {"Response": pd.DataFrame(t["response"]).astype(str)}
    out["Knowledge score per wave"] = pd.DataFrame(
        [[w, _ci(t["knowledge"].get(w))] for w in waves], columns=["Wave", "Mean % correct (95% CI)"]
    )
    out["Paired change in knowledge"] = pd.DataFrame(
        [
            [
                k,
                r["n"],
                _f(r["mean_before"]),
                _f(r["mean_after"]),
                _ci({**r, "mean": r["mean_diff"]}),
                _f(r["wilcoxon_w"]),
                "< 0.001" if r["p"] < 0.001 else f"{r['p']:.3f}",
                _f(r["rank_biserial"], 2),
            ]
            for k, r in t["paired"].items()
        ],
        columns=["Change", "n", "Mean before", "Mean after", "Difference (95% CI)", "Wilcoxon W", "p", "r"],
    )
    items = sorted({key.split("@")[0] for key in t["retention"]})
    out["Retention per item"] = pd.DataFrame(
        [
            [
                i,
                *[_ci(t["retention"].get(f"{i}@{w}"), "pct_correct") for w in waves],
                "–" if t["fade"].get(i) is None else _f(t["fade"][i]),
            ]
            for i in items
        ],
        columns=["Item", *waves, "Fade (points)"],
    )
    names = sorted({key.split("@")[0] for key in t["constructs"]})
    out["Attitudes"] = pd.DataFrame(
        [[c, *[_ci(t["constructs"].get(f"{c}@{w}"), digits=2) for w in waves]] for c in names],
        columns=["Construct", *waves],
    )
    practice = sorted({key.split("@")[0] for key in t["practice"]})
    out["Practice change"] = pd.DataFrame(
        [[i, *[_ci(t["practice"].get(f"{i}@{w}"), "pct") for w in waves]] for i in practice],
        columns=["Question", *waves],
    )
    a = t["attrition"]
    out["Attrition"] = pd.DataFrame(
        [
            ["answered the last wave", _ci(a["stayed"])],
            ["did not", _ci(a["dropped"])],
            ["Mann–Whitney U, p, r", f"{a['mann_whitney_u']:.1f}, {a['p']:.3g}, {a['rank_biserial']:.2f}"],
        ],
        columns=["Group", "Mean post knowledge (95% CI)"],
    )
    for group, cells in t["breakdowns"].items():
        groups = sorted({key.rsplit("@", 1)[0] for key in cells})
        out[f"Knowledge by {group}"] = pd.DataFrame(
            [[g, *[_ci(cells.get(f"{g}@{w}")) for w in waves]] for g in groups], columns=[group, *waves]
        )
    return out


A4 = (8.27, 11.69)


def write(t: dict[str, Any], figs: dict[str, plt.Figure], out_dir: Path) -> None:
    """tables.json, charts/<name>.png and report.pdf (charts, tables, free text) into out_dir."""
    (out_dir / "charts").mkdir(parents=True, exist_ok=True)
    (out_dir / "tables.json").write_text(json.dumps(t, indent=1, default=float), encoding="utf-8")
    for name, fig in figs.items():
        fig.savefig(out_dir / "charts" / f"{name}.png", dpi=150)
    with PdfPages(out_dir / "report.pdf") as pdf:
        for fig in figs.values():
            pdf.savefig(fig)
        for title, frame in table_frames(t).items():
            # Landscape, columns as wide as their text: the tables stay readable.
            fig, ax = plt.subplots(figsize=A4[::-1])
            ax.axis("off")
            ax.set_title(title, loc="left", fontsize=12, color=PALETTE[0])
            table = ax.table(cellText=frame.to_numpy(), colLabels=list(frame.columns), loc="upper center")
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            table.auto_set_column_width(list(range(len(frame.columns))))
            table.scale(1, 1.4)
            pdf.savefig(fig)
            plt.close(fig)
        fig = plt.figure(figsize=A4)
        lines = ["Free-text answers"]
        for key, answers in t["free_text"].items():
            lines.append(key)
            lines += (
                ["  withheld: fewer than 5 people"]
                if answers is None
                else [f"  • {a['text']}" + (f" (×{a['count']})" if a["count"] > 1 else "") for a in answers[:200]]
            )
        fig.text(0.05, 0.95, "\n".join(lines[:90]), va="top", fontsize=7)
        pdf.savefig(fig)
        plt.close(fig)
    for fig in figs.values():
        plt.close(fig)


def main(argv: list[str]) -> int:
    """Tables, charts and PDF from the CSV named in argv[0] into argv[1]; prints the timing JSON line."""
    start = time.perf_counter()
    result = tables(Path(argv[0]))
    tabled = time.perf_counter()
    out_dir = Path(argv[1]) if len(argv) > 1 else Path("pandas-report")
    write(result, charts(result), out_dir)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "tables_s": tabled - start, "max_rss_mb": peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
