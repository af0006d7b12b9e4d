"""Each deep family's published settings, dataset by dataset: input sizes (DAVIS differs), flip TTA by
default, and what a protocol overrides (what the mutation run of the predictors found untested:
reports/mutation/mutation.md). The regression baselines run GrabCut, Berkeley and the embedded scenes
only, so a size rule that goes wrong on another dataset would pass them."""

from __future__ import annotations

import pytest

from iseg_bench.adapters import load_predictor
from iseg_bench.protocol import Protocol

DATASETS = ("DAVIS", "davis", "GrabCut", "Berkeley", "Synthetic", "SBD", "PascalVOC", "COCO_MVal")
# variant, attribute, size on DAVIS, size elsewhere, flip by default
PUBLISHED = [("ritm-hrnet18s", "target", 600, 400, True), ("emc-hrnet18s", "short_side", 576, 384, True),
             ("focalclick-hrnet18s-s1", "size", 256, 256, False)]


@pytest.mark.parametrize("name, attribute, davis, other, flip", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_published_sizes_and_flip_on_every_dataset(name, attribute, davis, other, flip):
    predictor = load_predictor(name)
    for dataset in DATASETS:
        predictor.prepare(Protocol(flip_tta=None), dataset)
        assert getattr(predictor, attribute) == (davis if dataset.upper() == "DAVIS" else other), dataset
        assert predictor.flip is flip
    for dataset in ("DAVIS", "GrabCut"):  # the protocol's size and flip override the published ones
        predictor.prepare(Protocol(input_size=96, flip_tta=not flip), dataset)
        assert getattr(predictor, attribute) == 96 and predictor.flip is (not flip)
