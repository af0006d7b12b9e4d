"""Realistic control flow for untrained networks: the masks a trained model would produce.

A network with random weights predicts noise or nothing, so its predictor's control flow (RITM's
zoom-in box, FocalClick's target and focus crops, the previous mask fed back) is not the one
trained weights take, and its latency is not representative: RITM never zooms in and runs every
click at full resolution, FocalClick refines the whole image. Under the protocol setting
``untrained_control = "gt-degraded"`` such a network is steered by a surrogate instead: the ground
truth degraded to a target IoU that rises click by click. The network still runs in full at every
click, and that is what is timed; the surrogate only decides what the predictor does next and
where the robot clicks.

The degradation moves the object boundary by a smooth random field (seeded by the mask itself):
``S(a) = {sdf + a * f > 0}`` with ``sdf`` the signed distance to the boundary (pixels, positive
inside) and ``f`` smooth noise with unit spread on the scale of the object. Parts of the object are
missed and some background is taken, in blobs along the boundary, as a trained model errs; the
amplitude ``a`` is chosen so that the IoU meets the click's target, and shrinks click by click.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from . import metrics

FIRST_IOU = 0.80  # IoU after the first click
ERROR_DECAY = 0.80  # the remaining error (1 - IoU) shrinks by this factor per click
# Targets 0.80, 0.84, 0.87, 0.90, 0.92, 0.93, 0.95, 0.96, ...: NoC@85 = 3, NoC@90 = 5, NoC@95 = 8
# (up to the discreteness of the mask), the scale of the NoC@85 / NoC@90 that RITM, FocalClick and
# EMC-Click publish on SBD and DAVIS (3.4-4.7 / 5.3-6.9 clicks).
GT_DEGRADED = "gt-degraded"


def target_iou(click: int) -> float:
    """The surrogate's IoU after ``click`` clicks (1-based)."""
    return 1.0 - (1.0 - FIRST_IOU) * ERROR_DECAY ** (click - 1)


def is_steered(untrained_control: str, predictor) -> bool:
    """Whether a method is steered by the surrogate: only networks with random weights (as the
    method declares), and only when the protocol asks for it."""
    return untrained_control == GT_DEGRADED and predictor.describe().trained is False


def _smooth_noise(shape: tuple[int, int], cell: float, rng: np.random.Generator) -> np.ndarray:
    """Noise varying over ``cell`` pixels, unit standard deviation (bicubic upsampling of a grid)."""
    h, w = shape
    grid = rng.standard_normal((int(np.ceil(h / cell)) + 2, int(np.ceil(w / cell)) + 2)).astype(np.float32)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / max(float(field.std()), 1e-6)


class Surrogate:
    """The surrogate masks of one sample; ``mask(k)`` is the mask after click ``k`` (1-based)."""

    def __init__(self, gt: np.ndarray, seed: int = 0) -> None:
        self.gt = gt
        obj = (gt == 1).astype(np.uint8)
        inside = cv2.distanceTransform(obj, cv2.DIST_L2, 5)
        outside = cv2.distanceTransform(1 - obj, cv2.DIST_L2, 5)
        self.sdf = inside - outside  # >= 1 on object pixels, <= -1 elsewhere: S(0) is the ground truth
        rng = np.random.default_rng([zlib.crc32(np.ascontiguousarray(gt).tobytes()), seed])
        self.noise = _smooth_noise(gt.shape, max(2.0, 0.15 * float(np.sqrt(obj.sum()))), rng)
        self._masks: dict[int, np.ndarray] = {}

    def _degraded(self, amplitude: float) -> np.ndarray:
        return self.sdf + amplitude * self.noise > 0

    def _iou(self, amplitude: float) -> float:
        iou = metrics.iou(self.gt, self._degraded(amplitude))
        return 0.0 if np.isnan(iou) else float(iou)

    def mask(self, click: int) -> np.ndarray:
        """The mask with IoU closest above the click's target (bisection on the amplitude)."""
        if click not in self._masks:
            target = target_iou(click)
            low, high = 0.0, 1.0
            while self._iou(high) >= target and high < 4 * max(self.gt.shape):
                low, high = high, 2 * high
            for _ in range(30):
                mid = 0.5 * (low + high)
                low, high = (mid, high) if self._iou(mid) >= target else (low, mid)
            self._masks[click] = self._degraded(low)
        return self._masks[click]
