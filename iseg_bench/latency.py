"""Timing: warm-up, repeated calls around the model only, and robust statistics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def time_calls(fn: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Seconds per call of ``fn`` after ``warmup`` untimed calls (perf_counter around the call only)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """Median, 10th and 90th percentiles and mean, in milliseconds, and the sample count."""
    if not len(seconds):
        return {"n": 0, "median_ms": float("nan"), "p10_ms": float("nan"), "p90_ms": float("nan"),
                "mean_ms": float("nan")}
    ms = 1000.0 * np.asarray(seconds, dtype=np.float64)
    return {"n": int(ms.size), "median_ms": float(np.median(ms)), "p10_ms": float(np.percentile(ms, 10)),
            "p90_ms": float(np.percentile(ms, 90)), "mean_ms": float(ms.mean())}
