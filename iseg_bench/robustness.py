"""How much a method's NoC depends on where the user clicks: metrics over click seeds.

Input is one method's NoC (or IoU) per sample and seed, a matrix ``(samples, seeds)`` of a seeded
click strategy (``click_strategies``). The metrics follow RClicks (Antonov et al., NeurIPS 2024,
github.com/emb-ai/rclicks, ``compute_benchmark_metrics.ipynb``): the spread of one sample across
click sets is its standard deviation over seeds, averaged over samples ("Sample STD"), and the
noise-to-signal ratio is that standard deviation over the sample's mean, averaged over samples
(RClicks reports it for the IoU area under the curve; here for NoC and for the IoU AUC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Spread:
    """One method on one dataset at one threshold, over ``samples`` x ``seeds`` runs."""

    samples: int
    seeds: int
    noc: float  # mean over every run (clicks)
    ci: tuple[float, float]  # confidence interval of that mean, over samples and seeds (clicks)
    sample_sd: float  # per-sample standard deviation over seeds, averaged over samples (clicks)
    nsr: float  # per-sample sd / mean of NoC over seeds, averaged over samples
    auc_nsr: float  # the same for the IoU area under the curve (RClicks' "Sample NSR")


def grid_ci(values: np.ndarray, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
            seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile interval of the mean of a (samples, seeds) matrix by a two-stage bootstrap: samples
    drawn with replacement, then each drawn sample's seeds with replacement (both sources of
    variation counted). NaN with fewer than two samples.

    >>> lo, hi = grid_ci(np.array([[1.0, 2.0], [3.0, 5.0], [2.0, 2.0]])); bool(lo < 2.5 < hi)
    True
    """
    n, k = values.shape
    if n < 2:
        return float("nan"), float("nan")
    rng = np.random.Generator(np.random.PCG64(seed))
    rows = rng.integers(n, size=(resamples, n))
    cols = rng.integers(k, size=(resamples, n, k))
    means = values[rows[:, :, None], cols].mean(axis=(1, 2))
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def _per_sample_nsr(values: np.ndarray) -> float:
    mean = values.mean(axis=1)
    sd = values.std(axis=1)
    return float(np.mean(sd / np.where(mean > 0, mean, np.nan))) if values.size else float("nan")


def spread(noc: np.ndarray, auc: np.ndarray, level: float = 0.95) -> Spread:
    """Robustness of one method: ``noc`` and ``auc`` are (samples, seeds) matrices.

    >>> s = spread(np.array([[2.0, 4.0], [5.0, 5.0]]), np.array([[0.8, 0.6], [0.5, 0.5]]))
    >>> s.noc, s.sample_sd, round(s.nsr, 3)
    (4.0, 0.5, 0.167)
    """
    return Spread(samples=noc.shape[0], seeds=noc.shape[1], noc=float(noc.mean()), ci=grid_ci(noc, level),
                  sample_sd=float(noc.std(axis=1).mean()), nsr=_per_sample_nsr(noc), auc_nsr=_per_sample_nsr(auc))


def iou_auc(trace: np.ndarray) -> float:
    """Area under the IoU curve over clicks 1..n, normalised to [0, 1] (trapezoids, as RClicks).

    >>> iou_auc(np.array([0.5, 1.0, 1.0]))
    0.875
    """
    t = np.asarray(trace, np.float64)
    return float((t[:-1] + t[1:]).sum() / 2 / (len(t) - 1)) if len(t) > 1 else float(t[0])


def ranking_flips(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """Over seeds, for two methods' (samples, seeds) NoC matrices on the same samples: (seeds where A
    needs fewer clicks on average, seeds where B does, ties). A ranking that depends on the user
    shows as both counts non-zero.

    >>> ranking_flips(np.array([[1.0, 3.0], [2.0, 2.0]]), np.array([[2.0, 2.0], [2.0, 2.0]]))
    (1, 1, 0)
    """
    diff = a.mean(axis=0) - b.mean(axis=0)
    return int(np.sum(diff < 0)), int(np.sum(diff > 0)), int(np.sum(diff == 0))
