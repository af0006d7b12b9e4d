"""Uncertainty of per-sample metrics: bootstrap confidence intervals and the paired sign test.

Benchmarks such as GrabCut (50 images) and Berkeley (100) are small: a NoC difference of a few
tenths of a click between two methods is often within sampling noise. These pure functions say how
much, using SciPy's bootstrap and binomial test. The resampling is seeded, so the same records
always give the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
RESAMPLES = 10_000
SEED = 0


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL, resamples: int = RESAMPLES,
            seed: int = SEED) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean; (nan, nan) for fewer than two values.

    >>> mean_ci([20, 20, 20])
    (20.0, 20.0)
    """
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):  # every resample has the same mean
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                          vectorized=True, batch=max(1, 2_000_000 // x.size), rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


@dataclass(frozen=True)
class Paired:
    """Method B against method A on the same samples: ``diff`` is B - A, per sample."""

    n: int
    mean_a: float
    mean_b: float
    ci_a: tuple[float, float]
    ci_b: tuple[float, float]
    diff: float
    ci_diff: tuple[float, float]
    b_lower: int  # samples where B's value is lower than A's
    ties: int
    b_higher: int
    sign_p: float  # two-sided exact sign test over the samples that differ (1.0 when none do)


def paired(a: Sequence[float], b: Sequence[float], level: float = LEVEL, resamples: int = RESAMPLES,
           seed: int = SEED) -> Paired:
    """Compare two methods sample by sample (``a[i]`` and ``b[i]`` are the same sample).

    The interval of the difference bootstraps the per-sample differences, which keeps the pairing:
    it is much narrower than the two separate intervals suggest when the methods find the same
    samples hard.
    """
    from scipy import stats

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired values need the same samples: {x.size} values for A, {y.size} for B")
    d = y - x
    lower, higher = int(np.count_nonzero(d < 0)), int(np.count_nonzero(d > 0))
    p = float(stats.binomtest(lower, lower + higher, 0.5).pvalue) if lower + higher else 1.0
    nan = float("nan")
    return Paired(
        n=int(x.size),
        mean_a=float(x.mean()) if x.size else nan,
        mean_b=float(y.mean()) if y.size else nan,
        ci_a=mean_ci(x, level, resamples, seed),
        ci_b=mean_ci(y, level, resamples, seed),
        diff=float(d.mean()) if d.size else nan,
        ci_diff=mean_ci(d, level, resamples, seed),
        b_lower=lower,
        ties=int(d.size) - lower - higher,
        b_higher=higher,
        sign_p=p,
    )
