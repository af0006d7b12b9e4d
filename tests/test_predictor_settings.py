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


def test_sam_steering_fills_the_resized_frame_and_later_clicks_skip_the_image_encoder():
    """SAM's surrogate mask is resized into the padded 1024 x 1024 frame (image top-left, zeros right and below)
    and area-averaged to the 256 x 256 fed-back logits; a later click runs the prompt encoder and the mask
    decoder only (the image embedding is kept from the first). The tiny configuration: no weights to load."""
    import numpy as np
    import torch

    from iseg_bench.adapters.sam.network import tiny_variant
    from iseg_bench.adapters.sam.predictor import SAMPredictor

    predictor = SAMPredictor(tiny_variant(), implementation="engineered")
    assert predictor.phase_modules("first") == [predictor.net]
    assert predictor.phase_modules("later") == [predictor.net.prompt_encoder, predictor.net.mask_decoder]
    predictor.set_image(np.zeros((40, 80, 3), np.uint8))  # resized to 512 x 1024: the upper half of the frame
    predictor.steer(np.ones((40, 80), np.float32))
    low_res = predictor.steering_low_res
    assert low_res.shape == (1, 1, 256, 256)
    high, low = torch.logit(torch.tensor(0.99)), torch.logit(torch.tensor(0.01))
    assert torch.allclose(low_res[0, 0, :128], high.expand(128, 256), atol=1e-5)
    assert torch.allclose(low_res[0, 0, 128:], low.expand(128, 256), atol=1e-5)
