"""Surrogate masks: realistic control flow for untrained networks, never for anything else."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from iseg_bench import metrics, presets
from iseg_bench.adapters import load_predictor
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import Protocol, ProtocolError
from iseg_bench.steering import Surrogate, is_steered, target_iou

STEERED = Protocol(max_clicks=6, early_stop="never", untrained_control="gt-degraded")


@pytest.mark.parametrize("index", [0, 7, 13])
def test_the_surrogate_meets_the_iou_schedule_and_is_deterministic(index):
    gt = open_dataset("Synthetic").load(index).gt
    a, b = Surrogate(gt), Surrogate(gt.copy())
    for k in range(1, 9):
        iou = metrics.iou(gt, a.mask(k))
        assert target_iou(k) <= iou < target_iou(k) + 0.01
        assert np.array_equal(a.mask(k), b.mask(k))
    assert not np.array_equal(Surrogate(gt, seed=1).mask(1), a.mask(1))
    errors = a.mask(1) ^ (gt == 1)
    assert errors[gt == 1].any() and errors[gt == 0].any()  # it misses object and takes background


def test_the_schedule():
    assert [round(target_iou(k), 3) for k in (1, 2, 4, 5, 8)] == [0.8, 0.84, 0.898, 0.918, 0.958]
    untrained, weight_free = load_predictor("emc"), load_predictor("disk")
    assert is_steered("gt-degraded", untrained) and not is_steered("own", untrained)
    assert not is_steered("gt-degraded", weight_free)


def test_an_untrained_ritm_zooms_in_only_when_steered():
    s = open_dataset("Synthetic").load(3)
    own = load_predictor("ritm")
    own.prepare(STEERED, "Synthetic")
    out = evaluate_sample(own, s.image, s.gt, STEERED.replace(untrained_control="own"))
    assert own.roi is None  # random weights: no foreground, so the zoom-in never triggers
    assert max(out.ious) < 0.5
    steered = load_predictor("ritm")
    steered.prepare(STEERED, "Synthetic")
    out = evaluate_sample(steered, s.image, s.gt, STEERED)
    assert steered.roi is not None  # the surrogate's mask drives the zoom-in, as trained weights would
    assert [round(v, 2) for v in out.ious] == [round(float(np.float32(metrics.iou(s.gt, Surrogate(s.gt).mask(k)))), 2)
                                               for k in range(1, 7)]


def test_methods_with_weights_or_without_any_are_never_steered():
    s = open_dataset("Synthetic").load(5)
    own, steered = (evaluate_sample(load_predictor("watershed"), s.image, s.gt, p)
                    for p in (STEERED.replace(untrained_control="own"), STEERED))
    assert own.ious == steered.ious and own.clicks == steered.clicks


def test_a_deep_method_with_a_checkpoint_is_never_steered(tmp_path):
    """A network loaded from a checkpoint counts as trained: under gt-degraded it follows its own
    predictions, click for click, and its IoUs are not the surrogate's schedule."""
    s = open_dataset("Synthetic").load(3)
    checkpoint = tmp_path / "ritm-hrnet18s.pth"
    torch.save(load_predictor("ritm", weights="calibrated").net.state_dict(), checkpoint)
    runs = []
    for protocol in (STEERED.replace(untrained_control="own"), STEERED):
        predictor = load_predictor("ritm", weights=checkpoint)
        assert predictor.describe().trained is True and not is_steered(protocol.untrained_control, predictor)
        predictor.prepare(protocol, "Synthetic")
        runs.append(evaluate_sample(predictor, s.image, s.gt, protocol))
    own, under_steering = runs
    assert own.ious == under_steering.ious and own.clicks == under_steering.clicks
    surrogate = [float(np.float32(metrics.iou(s.gt, Surrogate(s.gt).mask(k)))) for k in range(1, 7)]
    assert own.ious != surrogate and len(set(own.ious)) > 1


def test_protocol_hash_is_unchanged_by_default_and_the_setting_is_checked():
    assert Protocol().hash == "7d7d42d43879" and presets()["neutral"].hash == "7d7d42d43879"
    assert Protocol(untrained_control="gt-degraded").hash != Protocol().hash
    assert "steered by gt-degraded masks" in STEERED.summary()
    with pytest.raises(ProtocolError, match="untrained_control"):
        Protocol(untrained_control="oracle")
