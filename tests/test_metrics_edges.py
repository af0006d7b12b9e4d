"""Metrics on inputs that tell each rule apart: failure counts that differ from the successes, the
confidence band against its textbook formula, clean NaNs, mismatched latencies (what the mutation run of
iseg_bench/metrics.py found untested: reports/mutation/mutation.md)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from iseg_bench import metrics

# one failure out of three at 0.9: NoF differs from the number of successes
TRACES = [[0.5, 0.91], [0.95], [0.3, 0.4, 0.5]]


def test_nof_counts_the_failures_only():
    assert metrics.nof(TRACES, 0.9, 3) == 1
    assert metrics.nof(TRACES, 0.99, 3) == 3
    assert metrics.nof(TRACES, 0.3, 3) == 0  # every sample reaches 0.3 at its first click
    assert metrics.nof(TRACES, 0.5, 3) == 1  # reached only at the last click counts as a failure (the reference's rule)


def test_an_empty_trace_cannot_be_carried_forward():
    with pytest.raises(ValueError, match="empty trace"):
        metrics.carried_forward([], 5)
    assert metrics.carried_forward([0.25], 3).tolist() == [0.25, 0.25, 0.25]  # a one-click trace can


def test_the_band_is_the_student_t_interval_of_the_mean_at_every_click():
    traces = [[0.5, 0.9, 0.92], [0.7, 0.8], [0.6, 0.65, 0.7], [0.2, 0.4, 0.9]]
    stacked = np.array([metrics.carried_forward(t, 3) for t in traces], np.float64)
    for level in (0.95, 0.8):
        lo, hi = metrics.miou_band(traces, 3, level)
        for k in range(3):
            column = stacked[:, k]
            want = stats.t.interval(level, len(column) - 1, loc=column.mean(), scale=stats.sem(column))
            assert (lo[k], hi[k]) == pytest.approx(want, rel=1e-12)
    lo, hi = metrics.miou_band(traces, 3)
    assert np.all(lo < metrics.miou_curve(traces, 3)) and np.all(metrics.miou_curve(traces, 3) < hi)


def test_fewer_than_two_samples_give_a_nan_band_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no degrees-of-freedom or empty-mean warning on the way
        for traces in ([], [[0.5, 0.9]]):
            lo, hi = metrics.miou_band(traces, 2)
            assert lo.shape == hi.shape == (2,) and np.isnan(lo).all() and np.isnan(hi).all()
        lo, hi = metrics.miou_band([[0.5, 0.9], [0.7, 0.8]], 2)
        assert np.isfinite(lo).all() and np.isfinite(hi).all()


def test_latencies_must_match_the_trace_in_length_either_way():
    for latencies in ([0.1], [0.1, 0.2, 0.3]):
        with pytest.raises(ValueError, match="latencies for a trace of 2 clicks"):
            metrics.time_to_iou([0.5, 0.9], latencies, 0.9)


def test_seconds_per_click_is_the_mean_over_every_click_run():
    assert metrics.seconds_per_click([[0.1, 0.3], [0.2], []]) == pytest.approx(0.2)
    assert metrics.seconds_per_click([[0.4]]) == pytest.approx(0.4)
    assert math.isnan(metrics.seconds_per_click([[], []]))
