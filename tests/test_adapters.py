"""The method registry and the weight-free methods, on generated and real images."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import clicks_of

from iseg_bench.adapters import METHODS, load_predictor
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import check_probabilities
from iseg_bench.metrics import iou
from iseg_bench.registry import UnknownNameError

CLASSICAL = ["disk", "grabcut", "watershed"]


def test_registry_lists_and_suggests():
    assert set(CLASSICAL) <= set(METHODS.names())
    with pytest.raises(UnknownNameError, match="did you mean 'grabcut'"):
        METHODS.entry("grabcat")
    assert METHODS.canonical("GrabCut") == "grabcut"


def test_disk_is_union_of_positive_minus_negative():
    p = load_predictor("disk")
    p.set_image(np.zeros((100, 100, 3), np.uint8))  # radius = 4% of 100 = 4
    out = p.predict(clicks_of((50, 50, True), (50, 53, False)), None)
    assert out[50, 46] == 1 and out[50, 50] == 0 and out[50, 57] == 0  # 50,50 lies in the negative disk
    assert out[46, 50] == 1 and out[45, 50] == 0
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", CLASSICAL)
def test_methods_segment_a_synthetic_scene(name):
    sample = open_dataset("Synthetic").load(0)  # an easy, compact blob
    obj = np.argwhere(sample.gt == 1)
    centre = obj[len(obj) // 2]
    p = load_predictor(name)
    p.reset()
    p.set_image(sample.image)
    probs = check_probabilities(p.predict(clicks_of((int(centre[0]), int(centre[1]), True)), None), sample.shape)
    score = iou(sample.gt, probs > 0.5)
    assert score > {"disk": 0.02, "grabcut": 0.8, "watershed": 0.3}[name]


def test_grabcut_is_independent_of_call_history():
    """OpenCV's k-means draws from a global RNG; the adapter reseeds it, so order cannot matter."""
    ds = open_dataset("Synthetic")
    a, b = ds.load(1), ds.load(2)

    def run(sample):
        p = load_predictor("grabcut")
        p.set_image(sample.image)
        y, x = np.argwhere(sample.gt == 1)[0]
        return p.predict(clicks_of((int(y), int(x), True)), None)

    first_a = run(a)
    run(b)
    np.testing.assert_array_equal(run(a), first_a)


def test_grabcut_only_negative_clicks_gives_empty_mask():
    p = load_predictor("grabcut")
    p.set_image(np.zeros((30, 30, 3), np.uint8))
    assert not p.predict(clicks_of((5, 5, False)), None).any()


def test_describe_identifies_weight_free_methods():
    infos = [load_predictor(n).describe() for n in CLASSICAL]
    assert all(i.trained is None and i.status == "weight-free" and i.label == i.name for i in infos)
    assert len({i.weights for i in infos}) == len(infos)
    assert all(i.weights.startswith("weight-free:") for i in infos)


def test_classical_methods_on_a_real_photo(shared_datasets):
    ds = open_dataset("GrabCut", shared_datasets)
    sample = ds.load(ds.ids.index("llama"))
    y, x = np.argwhere(sample.gt == 1).mean(axis=0).astype(int)
    for name in CLASSICAL:
        p = load_predictor(name)
        p.set_image(sample.image)
        probs = check_probabilities(p.predict(clicks_of((int(y), int(x), True)), None), sample.shape)
        assert probs[y, x] == 1.0
