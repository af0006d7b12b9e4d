"""The per-sample loop: stopping rules, timing, phases, and methods that misbehave."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Oracle, RaisesAtThirdClick, ReturnsNaN, WrongShape

from iseg_bench import presets
from iseg_bench.adapters import load_predictor
from iseg_bench.evaluation import MethodOutputError, check_probabilities, evaluate_sample
from iseg_bench.protocol import Protocol
from iseg_bench.records import METHOD_ERROR, OK


@pytest.fixture
def scene():
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    gt = np.zeros((40, 50), np.int32)
    gt[10:30, 12:40] = 1
    gt[9, 12:40] = -1
    Oracle.gt_by_shape = {gt.shape: gt}
    return image, gt


def test_stops_at_the_highest_threshold_not_the_lowest(scene):
    image, gt = scene
    oracle = Oracle()
    oracle.perfect_at = 3  # IoU 0 for two clicks, then 1.0
    out = evaluate_sample(oracle, image, gt, Protocol(iou_thresholds=(0.5, 0.9)))
    assert out.status == OK and out.ious == [0.0, 0.0, 1.0]
    assert [c[2] for c in out.clicks] == [1, 1, 1]
    assert out.phases == ["first", "later", "later"]


def test_never_policy_runs_every_click(scene):
    image, gt = scene
    out = evaluate_sample(Oracle(), image, gt, presets()["neutral-curves"])
    assert len(out.ious) == 20 and out.ious[0] == 1.0
    # after a perfect mask the robot clicks (0, 0) negative, as the reference does
    assert out.clicks[1] == [0, 0, 0]


def test_min_clicks_is_respected(scene):
    image, gt = scene
    out = evaluate_sample(Oracle(), image, gt, Protocol(min_clicks=4))
    assert len(out.ious) == 4


def test_probability_threshold_is_strict(scene):
    image, gt = scene

    class Half(Oracle):
        def predict(self, clicks, prev_mask):
            return np.where(gt == 1, 0.5, 0.0).astype(np.float32)

    assert evaluate_sample(Half(), image, gt, Protocol(prob_threshold=0.5, max_clicks=2)).ious == [0.0, 0.0]
    assert evaluate_sample(Half(), image, gt, Protocol(prob_threshold=0.49)).ious == [1.0]


def test_latency_covers_setup_on_the_first_click(scene):
    image, gt = scene
    out = evaluate_sample(load_predictor("grabcut"), image, gt, Protocol(max_clicks=3))
    assert len(out.latency_s) == len(out.ious) and all(t > 0 for t in out.latency_s)
    assert out.latency_s[0] >= out.setup_s > 0


@pytest.mark.parametrize("predictor, message, n_ok", [
    (RaisesAtThirdClick(), "click 3: RuntimeError: boom", 2),
    (ReturnsNaN(), "NaN", 0),
    (WrongShape(), "shape (41, 50), expected (40, 50)", 0),
])
def test_a_failing_method_costs_the_sample_only(scene, predictor, message, n_ok):
    image, gt = scene
    out = evaluate_sample(predictor, image, gt, Protocol())
    assert out.status == METHOD_ERROR and message in out.error
    assert len(out.ious) == n_ok == len(out.latency_s) == len(out.clicks)


@pytest.mark.parametrize("probs, message", [
    ([[0.5]], "numpy array"),
    (np.zeros((2, 2), np.int64), "dtype int64"),
    (np.full((2, 2), 1.5, np.float32), r"values in \[1.5, 1.5\]"),
    (np.full((2, 2), np.inf, np.float32), "NaN or infinite"),
])
def test_contract_violations_are_named(probs, message):
    with pytest.raises(MethodOutputError, match=message):
        check_probabilities(probs, (2, 2))


def test_boolean_masks_are_accepted():
    out = check_probabilities(np.ones((2, 2), bool), (2, 2))
    assert out.dtype == bool
