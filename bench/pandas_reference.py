"""The reference: an evaluator's pandas/scipy script computing the report's core tables from the long CSV.

`python -m bench.pandas_reference long.csv` prints the tables' figures and, last, a JSON line with
the seconds taken (reading the CSV included, imports not) and the peak RSS of the process.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from bench.common import peak_rss_mb
from surveys.domain.waves import order_key as wave_order

# The analyst's script would sort waves the product's way, so it takes the product's rule.
_wave_key = wave_order


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
    return {"n": n, "mean": mean, "ci_low": float(lo), "ci_high": float(hi)}


def tables(csv_path: Path) -> dict[str, Any]:
    """Response, knowledge with CI, paired change with Wilcoxon, per-item retention, constructs per wave."""
    long = pd.read_csv(csv_path, dtype={"value": str})
    codebook = pd.read_csv(csv_path.with_name(f"{csv_path.stem}_codebook.csv"), dtype=str)
    waves = sorted(long["wave"].unique(), key=_wave_key)

    # Knowledge on the core: scored items asked at every wave of the quiz set.
    items = codebook[codebook["kind"].notna() & (codebook["scored"] == "True")]
    core = [
        r.item_id
        for r in items.rename(columns={"variable": "item_id"}).itertuples()
        if set(waves) <= set(str(r.waves).split(","))
    ]

    response = long.groupby("wave")["pseudonym"].nunique()
    knowledge = (long[long["item_id"].isin(core)].groupby(["pseudonym", "wave"])["score"].mean() * 100).unstack()
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
            "mean_diff": float(d.mean()),
            **{k: v for k, v in _mean_ci(d, -100.0, 100.0).items() if k.startswith("ci")},
            "wilcoxon_w": float(test.statistic),
            "p": float(test.pvalue),
            "rank_biserial": float((ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum()),
        }

    scored = long[long["item_id"].isin(set(items["variable"])) & long["score"].notna()]
    retention = (
        scored.groupby(["item_id", "wave"])["score"]
        .agg(["mean", "count"])
        .assign(pct_correct=lambda t: t["mean"] * 100)
    )

    likert = long[long["construct"].notna() & long["score"].notna()]
    person = likert.groupby(["construct", "wave", "pseudonym"])["score"].mean()
    constructs = {
        f"{c}@{w}": _mean_ci(group.to_numpy(dtype="float64"), 1.0, 5.0)
        for (c, w), group in person.groupby(level=["construct", "wave"])
    }

    return {
        "answers": len(long),
        "response": {w: int(n) for w, n in response.items()},
        "knowledge": by_wave,
        "paired": paired,
        "retention": {
            f"{i}@{w}": {"n": int(r["count"]), "pct_correct": float(r["pct_correct"])}
            for (i, w), r in retention.iterrows()
        },
        "constructs": constructs,
    }


def main(argv: list[str]) -> int:
    """Compute the tables from the CSV named in argv; print them, then the timing JSON line."""
    start = time.perf_counter()
    result = tables(Path(argv[0]))
    seconds = time.perf_counter() - start
    if len(argv) > 1:
        Path(argv[1]).write_text(json.dumps(result, indent=1, default=float), encoding="utf-8")
    print(json.dumps({"seconds": seconds, "max_rss_mb": peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
