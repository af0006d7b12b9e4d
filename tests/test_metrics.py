"""Metrics against ../shared/reference/protocol.md §8 (cases 11-15) and their edge cases."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iseg_bench import metrics

TRACES_13 = [np.array(t, np.float32) for t in ([0.5, 0.86, 0.91], [0.95], [0.3] * 20, [0.1] * 19 + [0.92])]


def test_case11_void_pixels_leave_the_union():
    gt = np.zeros((4, 4), np.int32)
    gt[0:2, 0:2] = 1
    gt[3, 3] = -1
    pred = np.zeros((4, 4), bool)
    pred[0:2, 0:3] = True
    pred[3, 3] = True
    assert metrics.iou(gt, pred) == pytest.approx(4 / 6)


def test_case12_empty_union_is_nan_and_never_reaches():
    value = metrics.iou(np.zeros((3, 3), np.int32), np.zeros((3, 3), bool))
    assert math.isnan(value)
    assert metrics.noc([value, value], 0.5, 20) == 20


def test_case13_noc_and_nof():
    assert metrics.mean_noc(TRACES_13, 0.80, 20) == 10.75
    assert metrics.mean_noc(TRACES_13, 0.85, 20) == 10.75
    assert metrics.mean_noc(TRACES_13, 0.90, 20) == 11.00
    assert metrics.nof(TRACES_13, 0.85, 20) == 2
    assert metrics.nof(TRACES_13, 0.90, 20) == 2  # reaching 0.90 exactly at click 20 is a failure


def test_case14_float32_comparison():
    trace = [np.float32(0.9)]  # 0.89999998 as float64
    assert float(trace[0]) < 0.9
    assert metrics.noc(trace, 0.9, 20) == 1
    assert metrics.noc(trace, 0.9000000000000001, 20) == 1  # np.arange's 0.9 as well


def test_noc_std_is_population_std():
    assert metrics.noc_std(TRACES_13, 0.9, 20) == pytest.approx(np.std([3, 1, 20, 20]))


def test_miou_curve_carries_stopped_samples_forward():
    curve = metrics.miou_curve([[0.5, 0.9], [0.7, 0.8, 0.85]], 4)
    np.testing.assert_allclose(curve, [0.6, 0.85, 0.875, 0.875], rtol=1e-6)


def test_time_to_iou_sums_until_the_threshold():
    assert metrics.time_to_iou([0.5, 0.9, 0.95], [0.2, 0.1, 0.1], 0.9) == pytest.approx(0.3)
    assert metrics.time_to_iou([0.5, 0.6], [0.2, 0.1], 0.9) == pytest.approx(0.3)  # never reached: all
    with pytest.raises(ValueError):
        metrics.time_to_iou([0.5], [0.1, 0.2], 0.9)


def test_empty_inputs_give_nan():
    assert math.isnan(metrics.mean_noc([], 0.9, 20))
    assert np.isnan(metrics.miou_curve([], 3)).all()
    assert math.isnan(metrics.seconds_per_click([]))


def test_docstring_examples_hold():
    result = doctest.testmod(metrics)
    assert result.attempted >= 6 and result.failed == 0


iou_traces = st.lists(st.one_of(st.floats(0, 1, width=32), st.just(float("nan"))), min_size=1, max_size=20)


@settings(max_examples=300, deadline=None)
@given(trace=iou_traces, t=st.sampled_from([0.8, 0.85, 0.9, 0.95]))
def test_noc_invariants(trace, t):
    n = metrics.noc(trace, t, 20)
    assert 1 <= n <= 20
    hits = np.asarray(trace, np.float32) >= np.float32(t)
    if hits.any():
        assert hits[n - 1] and not hits[: n - 1].any()
    else:
        assert n == 20


@settings(max_examples=200, deadline=None)
@given(gt=st.integers(0, 2**16), pr=st.integers(0, 2**16))
def test_iou_in_unit_interval_or_nan(gt, pr):
    rng = np.random.default_rng(gt * 65537 + pr)
    g = rng.integers(-1, 2, size=(6, 7)).astype(np.int32)
    p = rng.random((6, 7)) < 0.5
    v = metrics.iou(g, p)
    union = ((p | (g == 1)) & (g != -1)).any()
    assert (0.0 <= v <= 1.0) if union else math.isnan(v)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_iou_from_the_clickers_error_counts_is_bit_identical(seed):
    """The harness scores with the clicker's error counts; that must equal the direct IoU exactly."""
    from iseg_bench.clicker import RobotClicker

    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 30, size=2))
    gt = rng.choice([-1, 0, 1], size=shape, p=rng.dirichlet([1, 1, 1])).astype(np.int32)
    pred = rng.random(shape) < rng.random()
    clicker = RobotClicker(gt)
    e = clicker.errors(pred)
    direct = metrics.iou(gt, pred)
    via = metrics.iou_from_counts(clicker.object_pixels, e.missed, e.extra)
    assert (math.isnan(direct) and math.isnan(via)) or direct == via
