"""Test-only predictors and reference implementations, importable from the tests."""

from __future__ import annotations

import numpy as np

from iseg_bench.clicker import Click
from iseg_bench.predictor import MethodInfo, Predictor


class _TestPredictor(Predictor):
    family = "test"

    def set_image(self, image):
        self.image = image

    def describe(self):
        return MethodInfo(self.name, self.family, weights=f"test:{self.name}", trained=None)


class Oracle(_TestPredictor):
    """Knows the ground truth (set by the test) and returns it at click ``perfect_at``."""

    name = "oracle"
    gt_by_shape: dict = {}
    perfect_at = 1

    def predict(self, clicks, prev_mask):
        gt = self.gt_by_shape[self.image.shape[:2]]
        if len(clicks) >= self.perfect_at:
            return (gt == 1).astype(np.float32)
        return np.zeros(gt.shape, np.float32)


class RaisesAtThirdClick(_TestPredictor):
    name = "raises"

    def predict(self, clicks, prev_mask):
        if len(clicks) == 3:
            raise RuntimeError("boom")
        h, w = self.image.shape[:2]
        return np.zeros((h, w), np.float32)


class ReturnsNaN(_TestPredictor):
    name = "nan"

    def predict(self, clicks, prev_mask):
        return np.full(self.image.shape[:2], np.nan, np.float32)


class WrongShape(_TestPredictor):
    name = "wrong-shape"

    def predict(self, clicks, prev_mask):
        h, w = self.image.shape[:2]
        return np.zeros((h + 1, w), np.float32)


class Untrained(_TestPredictor):
    name = "untrained-net"

    def predict(self, clicks, prev_mask):
        return np.zeros(self.image.shape[:2], np.float32)

    def describe(self):
        return MethodInfo(self.name, "test", weights="random-init:seed0", trained=False, params=10)


def brute_force_edt(mask: np.ndarray) -> np.ndarray:
    """Distance of each True pixel to the nearest False pixel, the border padded as False (float32)."""
    padded = np.pad(mask, 1)
    zeros = np.argwhere(~padded)
    out = np.zeros(padded.shape, np.float64)
    for y, x in np.argwhere(padded):
        out[y, x] = np.sqrt(((zeros - (y, x)) ** 2).sum(axis=1).min())
    return out[1:-1, 1:-1].astype(np.float32)


def exact_edt(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance transform (SciPy, float64, border padded as background), as float32."""
    from scipy import ndimage

    return ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1].astype(np.float32)


def reference_next_click(gt: np.ndarray, pred: np.ndarray, not_clicked: np.ndarray) -> tuple[int, int, bool]:
    """The reference robot's rule on the full image, step by step as ../shared/reference/protocol.md
    §1.2 states it, with an exact (brute-force) Euclidean distance transform."""
    obj, valid = gt == 1, gt != -1
    fn = obj & ~pred & valid
    fp = ~obj & pred & valid
    dfn = exact_edt(fn) * not_clicked
    dfp = exact_edt(fp) * not_clicked
    positive = dfn.max() > dfp.max()
    dist = dfn if positive else dfp
    ys, xs = np.where(dist == dist.max())
    return int(ys[0]), int(xs[0]), bool(positive)


def clicks_of(*triples) -> tuple[Click, ...]:
    return tuple(Click(y, x, pos, i) for i, (y, x, pos) in enumerate(triples))


class CannotLoad(_TestPredictor):
    name = "cannot-load"

    def __init__(self):
        raise OSError("weights file not found")

    def predict(self, clicks, prev_mask):
        raise AssertionError("never reached")


class SlowToLoad(_TestPredictor):
    """Takes longer to build (weights from a slow disk, say) than the per-sample time limit."""

    name = "slow-to-load"
    LOAD_S = 4.0

    def __init__(self):
        import time

        time.sleep(self.LOAD_S)
        super().__init__()

    def predict(self, clicks, prev_mask):
        return np.zeros(self.image.shape[:2], np.float32)


def _is_trigger(image: np.ndarray) -> bool:
    """Synthetic scene 1 (and every 5th after it) is 320x240: the faulty methods fail there."""
    return image.shape[:2] == (320, 240)


class CrashesOnTrigger(_TestPredictor):
    """Kills its own process on the trigger image (a segfaulting extension, say)."""

    name = "crashes"

    def predict(self, clicks, prev_mask):
        import os

        if _is_trigger(self.image):
            os._exit(13)
        return np.zeros(self.image.shape[:2], np.float32)


class HangsOnTrigger(_TestPredictor):
    """Never returns on the trigger image."""

    name = "hangs"

    def predict(self, clicks, prev_mask):
        import time

        while _is_trigger(self.image):
            time.sleep(1)
        return np.zeros(self.image.shape[:2], np.float32)


class SlowClicks(_TestPredictor):
    """Spends ``ISEG_TEST_CLICK_S`` seconds (default 0.05) on every click and never finds the object,
    so each sample takes all its clicks: a run that lasts long enough to be interrupted, and that a
    test can then resume quickly (the same records with the variable set to 0)."""

    name = "slow-clicks"

    def predict(self, clicks, prev_mask):
        import os
        import time

        time.sleep(float(os.environ.get("ISEG_TEST_CLICK_S", "0.05")))
        return np.zeros(self.image.shape[:2], np.float32)
