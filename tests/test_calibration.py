"""Calibrated seeded weights: made by code from a seed, the same for every implementation and process,
labelled untrained everywhere, and giving decisive masks that follow the clicks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from iseg_bench.adapters import load_predictor
from iseg_bench.adapters.calibration import calibrated_state, requested_seed
from iseg_bench.cli import main
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import presets

DEFAULTS = ["ritm-hrnet18s", "emc-hrnet18s", "focalclick-hrnet18s-s2"]


def test_the_weights_spec_is_recognised():
    assert requested_seed("calibrated") == 0 and requested_seed("calibrated:7") == 7
    assert requested_seed(None) is None and requested_seed("calibrated-x") is None
    assert requested_seed("/ckpt/calibrated.pth") is None


@pytest.mark.parametrize("name", DEFAULTS)
def test_masks_are_decisive_and_follow_the_clicks(name):
    """On an embedded scene it was not calibrated on: most probabilities near 0 or 1, a mask neither
    empty nor full, a positive click's own pixel taken as object, and the mask changing with the clicks."""
    s = open_dataset("Synthetic").load(4)
    predictor = load_predictor(name, weights="calibrated")
    info = predictor.describe()
    assert info.trained is False and info.weights == f"calibrated-init:{name}:seed0:recipe1"
    protocol = presets()[predictor.family].replace(max_clicks=8, early_stop="never")
    predictor.prepare(protocol, "Synthetic")
    probabilities = []
    real = predictor.predict
    predictor.predict = lambda clicks, prev: probabilities.append(real(clicks, prev)) or probabilities[-1]
    outcome = evaluate_sample(predictor, s.image, s.gt, protocol)
    decisive = [float(((p < 0.05) | (p > 0.95)).mean()) for p in probabilities]
    foreground = [float((p > 0.5).mean()) for p in probabilities]
    changed = [int(((a > 0.5) != (b > 0.5)).sum()) for a, b in zip(probabilities, probabilities[1:])]
    assert np.median(decisive) > 0.8, decisive  # the first click of a run may still hesitate
    assert 0.0 < np.mean(foreground) < 1.0, foreground
    assert sum(c > 0 for c in changed) >= len(changed) // 2, changed
    assert len(set(outcome.ious)) > 2


def test_every_implementation_and_call_gets_the_same_weights():
    engineered = load_predictor("focalclick-segformer-b0-s1", weights="calibrated")
    official = load_predictor("focalclick-segformer-b0-s1", weights="calibrated", implementation="official")
    for (key, a), b in zip(engineered.net.state_dict().items(), official.net.state_dict().values()):
        assert torch.equal(a, b), key
    again = calibrated_state.__wrapped__(type(engineered), engineered.variant, 0)  # not the cached copy
    assert all(torch.equal(v, again[k]) for k, v in engineered.net.state_dict().items())
    other = load_predictor("focalclick-segformer-b0-s1", weights="calibrated:1")
    assert not torch.equal(other.net.state_dict()["refiner.refine_pred.weight"],
                           engineered.net.state_dict()["refiner.refine_pred.weight"])


def test_run_takes_calibrated_weights_for_several_methods_and_labels_them_untrained(tmp_path):
    out = tmp_path / "res"
    r = CliRunner().invoke(main, ["run", "--methods", "focalclick-segformer-b0-s2,disk", "--weights", "calibrated",
                                  "--limit", "2", "--out", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "UNTRAINED" in r.output and "calibrated" in r.output
    summary = json.loads((out / "report" / "summary.json").read_text())
    text = json.dumps(summary)
    assert "calibrated-init:focalclick-segformer-b0-s2:seed0:recipe1" in text
