"""The simulated user: where the next click goes, given the ground truth and the current mask.

``RobotClicker`` reproduces the robot of the field's reference evaluation code exactly
(reference/protocol.md §1.2): the click goes to the error pixel farthest from any non-error pixel
(exact Euclidean distance transform, one pixel of zero padding so the image border counts as a
boundary, void pixels excluded), on the false-negative side only if its maximum is strictly larger
(ties go negative), at the first maximum in row-major order, never on a pixel clicked before.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .registry import Registry


@dataclass(frozen=True)
class Click:
    """One click: (y, x) pixel coordinates, polarity, and its 0-based index in the sequence."""

    y: int
    x: int
    is_positive: bool
    index: int

    @property
    def coords(self) -> tuple[int, int]:
        return self.y, self.x


def distance_to_background(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of every True pixel to the nearest False pixel or the image border.

    Equal to the reference's ``cv2.distanceTransform(pad(mask, 1), DIST_L2, 0)`` with the padding
    cropped off: float32 sqrt of the exact integer squared distance.
    """
    padded = np.pad(mask.astype(np.uint8, copy=False), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist[1:-1, 1:-1]


class RobotClicker:
    """The reference robot user for one sample.

    ``gt`` is an int array: 1 object, 0 background, -1 void (ignored). Call ``next_click(pred)``
    with the current binary prediction; the click is recorded and returned.
    """

    def __init__(self, gt: np.ndarray) -> None:
        if gt.ndim != 2:
            raise ValueError(f"ground truth must be a 2-D label map, got shape {gt.shape}")
        self._object = gt == 1
        self._valid = gt != -1
        self._not_clicked = np.ones(gt.shape, dtype=bool)
        self.clicks: list[Click] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self._object.shape

    def next_click(self, pred: np.ndarray) -> Click:
        """Place, record and return the next click for the binary prediction ``pred``."""
        if pred.shape != self._object.shape:
            raise ValueError(f"prediction shape {pred.shape} does not match ground truth {self._object.shape}")
        y, x, positive = self._farthest_error_pixel(pred.astype(bool, copy=False))
        click = Click(int(y), int(x), bool(positive), len(self.clicks))
        self._not_clicked[y, x] = False
        self.clicks.append(click)
        return click

    def _farthest_error_pixel(self, pred: np.ndarray) -> tuple[int, int, bool]:
        # Every error pixel lies inside the bounding box of the errors, and everything outside it
        # is a zero of both maps, so the distance transform of the box padded by one zero pixel
        # equals the full-image one inside the box (any pixel outside is at least as far as the
        # ring). Row-major order inside the box is row-major order of the image, so ties break
        # alike. The full frame is only read once, to find the box.
        errors = self._object != pred
        errors &= self._valid
        rows = np.flatnonzero(errors.any(axis=1))
        if rows.size == 0:
            return 0, 0, False  # prediction matches the ground truth: reference clicks (0, 0) negative
        band = np.s_[rows[0]:rows[-1] + 1]
        cols = np.flatnonzero(errors[band].any(axis=0))
        box = (band, np.s_[cols[0]:cols[-1] + 1])
        errors, obj, not_clicked = errors[box], self._object[box], self._not_clicked[box]
        dfn = _masked_distance(errors & obj, not_clicked)
        dfp = _masked_distance(errors & ~obj, not_clicked)
        fn_max, fp_max = dfn.max(), dfp.max()
        positive = fn_max > fp_max
        if max(fn_max, fp_max) == 0:
            # every error pixel was clicked already: both maps are zero everywhere, and the
            # reference takes the first zero of the negative map, pixel (0, 0)
            return 0, 0, False
        dist, best = (dfn, fn_max) if positive else (dfp, fp_max)
        by, bx = divmod(int(np.argmax(dist == best)), dist.shape[1])  # first maximum, row-major
        return rows[0] + by, cols[0] + bx, bool(positive)


def _masked_distance(mask: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Distance map of ``mask`` zeroed where ``keep`` is False (skips the transform for an empty mask)."""
    if not mask.any():
        return np.zeros(mask.shape, np.float32)
    return distance_to_background(mask) * keep


CLICKERS: Registry[type] = Registry("click strategy")
CLICKERS.register("robot", "iseg_bench.clicker:RobotClicker",
                  "reference robot: centre of the largest error region (RITM/FocalClick/EMC-Click)")


def make_clicker(name: str, gt: np.ndarray) -> RobotClicker:
    return CLICKERS.get(name)(gt)
