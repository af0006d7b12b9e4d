"""OpenCV's GrabCut (Rother et al., 2004) seeded from the clicks."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from .seeds import ClassicalPredictor, click_disks


class GrabCutPredictor(ClassicalPredictor):
    """GrabCut from clicks: click disks are hard labels, the previous mask probable foreground.

    At the first click the probable-foreground region is a disk around the click (a quarter of the
    shorter image side); later, the previous mask. Positive clicks become definite foreground
    disks, negative clicks definite background disks, everything else probable background. The
    colour models are re-estimated from scratch at every click with a fixed random seed, so the
    result depends only on the image and the clicks.
    """

    name = "grabcut"
    capabilities = Capabilities(uses_prev_mask=True)
    iterations = 5
    seed_radius = 5
    first_click_region = 0.25
    rng_seed = 0

    def settings(self) -> dict:
        return {"iterations": self.iterations, "seed_radius": self.seed_radius,
                "first_click_region": self.first_click_region, "rng_seed": self.rng_seed}

    def set_image(self, image: np.ndarray) -> None:
        self._bgr = np.ascontiguousarray(image[:, :, ::-1])

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        shape = self._bgr.shape[:2]
        mask = np.full(shape, cv2.GC_PR_BGD, np.uint8)
        if prev_mask is not None and prev_mask.any():
            mask[prev_mask] = cv2.GC_PR_FGD
        else:
            region, _ = click_disks(shape, clicks, round(self.first_click_region * min(shape)))
            mask[region] = cv2.GC_PR_FGD
        pos, neg = click_disks(shape, clicks, self.seed_radius)
        mask[pos] = cv2.GC_FGD
        mask[neg] = cv2.GC_BGD
        if not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
            mask[[0, -1], :] = mask[:, [0, -1]] = cv2.GC_PR_BGD  # GrabCut needs some background
        if not np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
            return np.zeros(shape, np.float32)  # only negative clicks: nothing is foreground
        cv2.setRNGSeed(self.rng_seed)
        bgd_model = np.zeros((1, 65), np.float64)
        fgd_model = np.zeros((1, 65), np.float64)
        no_rect = (0, 0, 0, 0)  # read with GC_INIT_WITH_RECT only; what the binding makes of None
        cv2.grabCut(self._bgr, mask, no_rect, bgd_model, fgd_model, self.iterations, cv2.GC_INIT_WITH_MASK)
        return np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
