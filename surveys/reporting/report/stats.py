"""Statistics for the report (scipy/numpy only), each returning plain dicts with suppression applied."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import special, stats

CONFIDENCE = 0.95


def suppressed(n: int, k: int, figures: dict[str, Any]) -> dict[str, Any]:
    """`figures` with n, or every figure set to None and `suppressed: true` when n < k."""
    if n < k:
        return {"n": None, **{key: None for key in figures}, "suppressed": True}
    return {"n": int(n), **{key: _plain(v) for key, v in figures.items()}, "suppressed": False}


def _plain(value: Any) -> Any:
    # JSON has no NaN: a figure that cannot be computed is null.
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _array(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype="float64")
    return arr[~np.isnan(arr)]


PERCENT = (0.0, 100.0)
"""Knowledge scores: 0–100 % correct."""
LIKERT = (1.0, 5.0)
"""Attitude construct means: 1–5."""
CHANGE = (-100.0, 100.0)
"""A paired change in knowledge: later − earlier, each 0–100."""


def bounded_interval(mean: float, sd: float, n: int, bounds: tuple[float, float]) -> tuple[float, float]:
    """95% interval of a mean on a bounded scale: the t-interval on the logit of the rescaled mean, mapped back.

    It cannot leave the scale, keeps the t quantile's small-sample width, and meets the plain t-interval
    as n grows; a mean at a bound has no spread (every answer there), so its interval is the mean itself.
    """
    low, high = bounds
    p = (mean - low) / (high - low)
    if sd == 0 or not 0 < p < 1:
        return mean, mean
    # The t quantile as scipy.stats.t.interval computes it, without its ~1 ms of argument handling per call.
    half = float(special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * sd / math.sqrt(n) / (high - low) / (p * (1 - p))
    centre = float(special.logit(p))
    return (
        low + (high - low) * float(special.expit(centre - half)),
        low + (high - low) * float(special.expit(centre + half)),
    )


def mean_ci(values: Iterable[float], k: int, bounds: tuple[float, float]) -> dict[str, Any]:
    """n, mean, sd and the 95% interval of the mean on a scale with these bounds (bounded_interval)."""
    x = _array(values)
    n = len(x)
    if n < max(k, 1):
        return suppressed(n, max(k, 1), {"mean": None, "sd": None, "ci_low": None, "ci_high": None})
    mean = float(np.mean(x))
    low = high = sd = float("nan")
    if n >= 2:
        sd = float(np.std(x, ddof=1))
        low, high = bounded_interval(mean, sd, n, bounds)
    return suppressed(n, k, {"mean": mean, "sd": sd, "ci_low": low, "ci_high": high})


def rank_biserial_paired(diff: np.ndarray) -> float:
    """Matched-pairs rank-biserial r = (R+ − R−) / (R+ + R−) over the ranks of non-zero |d|."""
    d = diff[diff != 0]
    if len(d) == 0:
        return float("nan")
    ranks = stats.rankdata(np.abs(d))
    plus, minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((plus - minus) / (plus + minus))


def wilcoxon_p(diff: np.ndarray) -> tuple[float, float]:
    """Wilcoxon signed-rank statistic and two-sided p (zeros dropped); NaN when every difference is 0."""
    if len(diff) == 0 or not np.any(diff != 0):
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        # scipy warns when it falls back to the normal approximation (ties, zeros): expected here.
        warnings.simplefilter("ignore")
        result = stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def paired_change(before: np.ndarray, after: np.ndarray, k: int) -> dict[str, Any]:
    """Paired change after − before: means, mean difference with 95% CI, Wilcoxon p, rank-biserial r."""
    before = np.asarray(before, dtype="float64")
    after = np.asarray(after, dtype="float64")
    diff = after - before
    n = len(diff)
    figures: dict[str, Any] = dict.fromkeys(
        ("mean_before", "mean_after", "mean_diff", "ci_low", "ci_high", "wilcoxon_w", "p", "rank_biserial")
    )
    if n < max(k, 1):
        return suppressed(n, max(k, 1), figures)
    diff_ci = mean_ci(diff, 1, CHANGE)
    w, p = wilcoxon_p(diff)
    figures.update(
        mean_before=float(before.mean()),
        mean_after=float(after.mean()),
        mean_diff=float(diff.mean()),
        ci_low=diff_ci["ci_low"],
        ci_high=diff_ci["ci_high"],
        wilcoxon_w=w,
        p=p,
        rank_biserial=rank_biserial_paired(diff),
    )
    return suppressed(n, k, figures)


def mann_whitney(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Mann–Whitney U of x against y, two-sided p, and rank-biserial r = 2U/(n1·n2) − 1."""
    x, y = _array(x), _array(y)
    if len(x) == 0 or len(y) == 0:
        return float("nan"), float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.mannwhitneyu(x, y, alternative="two-sided")
    u = float(result.statistic)
    return u, float(result.pvalue), 2.0 * u / (len(x) * len(y)) - 1.0


def percent(count: int, n: int, k: int, key: str = "pct") -> dict[str, Any]:
    """A percentage of n answers with its 95% Wilson interval (scipy.stats.binomtest), suppressed when n < k."""
    if n < max(k, 1):
        return suppressed(n, max(k, 1), {key: None, "ci_low": None, "ci_high": None})
    interval = stats.binomtest(int(count), int(n)).proportion_ci(CONFIDENCE, method="wilson")
    return suppressed(n, k, {key: 100.0 * count / n, "ci_low": 100.0 * interval.low, "ci_high": 100.0 * interval.high})
