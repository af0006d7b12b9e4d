"""The simulated user: where the next click goes, given the ground truth and the current mask.

``RobotClicker`` reproduces the robot of the field's reference evaluation code exactly (RITM's
isegm/inference/clicker.py, ``Clicker._get_next_click``): the click goes to the error pixel
farthest from any non-error pixel (exact Euclidean distance transform, one pixel of zero padding so
the image border counts as a boundary, void pixels excluded), on the false-negative side only if
its maximum is strictly larger (ties go negative), at the first maximum in row-major order, never
on a pixel clicked before.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The seeded strategies' parameters and their defaults (a protocol's ``click_spread``, ``click_exponent``).
CLICK_DEFAULTS = {"click_spread": 0.25, "click_exponent": 1.0}


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
    m = mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8)
    padded = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist[1:-1, 1:-1]


@dataclass(frozen=True)
class Errors:
    """The errors of one prediction: false negatives and false positives (void excluded) inside
    their bounding box, and their counts -- all the IoU needs, and all the next click needs."""

    row0: int
    col0: int
    fn: np.ndarray  # bool, cropped to the box
    fp: np.ndarray
    missed: int  # false-negative pixels
    extra: int  # false-positive pixels


class RobotClicker:
    """The reference robot user for one sample.

    ``gt`` is an int array: 1 object, 0 background, -1 void (ignored). Call ``next_click(pred)``
    with the current binary prediction; the click is recorded and returned. ``errors(pred)`` and
    ``click_for(errors)`` split that in two, so a harness that also needs the error counts (the
    IoU) reads the frame only once.
    """

    seeded = False  # the robot draws nothing: the same clicks every time

    def __init__(self, gt: np.ndarray) -> None:
        if gt.ndim != 2:
            raise ValueError(f"ground truth must be a 2-D label map, got shape {gt.shape}")
        self._object = gt == 1
        self._valid = gt != -1
        self._all_valid = bool(self._valid.all())
        self.object_pixels = int(np.count_nonzero(self._object))
        self.clicks: list[Click] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self._object.shape

    def next_click(self, pred: np.ndarray) -> Click:
        """Place, record and return the next click for the binary prediction ``pred``."""
        return self.click_for(self.errors(pred))

    def errors(self, pred: np.ndarray) -> Errors:
        """Locate the errors of ``pred``; the full frame is read once, the rest works on their box."""
        if pred.shape != self._object.shape:
            raise ValueError(f"prediction shape {pred.shape} does not match ground truth {self._object.shape}")
        wrong = self._object != pred.astype(bool, copy=False)
        if not self._all_valid:
            wrong &= self._valid
        rows = np.flatnonzero(wrong.any(axis=1))
        if rows.size == 0:
            empty = np.zeros((0, 0), bool)
            return Errors(0, 0, empty, empty, 0, 0)
        band = wrong[rows[0]:rows[-1] + 1]
        cols = np.flatnonzero(band.any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        wrong, obj = wrong[box], self._object[box]
        fn = wrong & obj
        fp = wrong ^ fn
        missed = int(np.count_nonzero(fn))
        return Errors(int(rows[0]), int(cols[0]), fn, fp, missed, int(np.count_nonzero(wrong)) - missed)

    def click_for(self, errors: Errors) -> Click:
        """Place and record the click that ``errors`` (of the current prediction) call for."""
        y, x, positive = self._choose(errors)
        click = Click(int(y), int(x), bool(positive), len(self.clicks))
        self.clicks.append(click)
        return click

    def _choose(self, errors: Errors) -> tuple[int, int, bool]:
        """(y, x, positive) of the next click: the robot's farthest error pixel."""
        target = self._target(errors)
        if target is None:
            return 0, 0, False
        return errors.row0 + target.y, errors.col0 + target.x, target.positive

    def _target(self, e: Errors) -> Target | None:
        """The robot's choice inside the errors' box, with the distance map it was taken from; None
        when the prediction is perfect or every error pixel was clicked already (the reference
        then clicks (0, 0), negative)."""
        # Every error pixel lies inside the bounding box of the errors, and everything outside it
        # is a zero of both maps, so the distance transform of the box padded by one zero pixel
        # equals the full-image one inside the box (any pixel outside is at least as far as the
        # ring). Row-major order inside the box is row-major order of the image, so ties break
        # alike.
        if e.missed + e.extra == 0:
            return None  # prediction matches the ground truth: reference clicks (0, 0) negative
        h, w = e.fn.shape
        inside = [(c.y - e.row0, c.x - e.col0) for c in self.clicks if 0 <= c.y - e.row0 < h and 0 <= c.x - e.col0 < w]
        fn_dist, fn_max, fn_at = _masked_peak(e.fn, e.missed, inside)
        fp_dist, fp_max, fp_at = _masked_peak(e.fp, e.extra, inside)
        positive = fn_max > fp_max
        if max(fn_max, fp_max) == 0:
            # every error pixel was clicked already: both maps are zero everywhere, and the
            # reference takes the first zero of the negative map, pixel (0, 0)
            return None
        by, bx = divmod(fn_at if positive else fp_at, w)
        dist = fn_dist if positive else fp_dist
        assert dist is not None  # the side with the larger maximum has errors
        return Target(by, bx, bool(positive), dist, float(fn_max if positive else fp_max))


@dataclass(frozen=True)
class Target:
    """The robot's click inside the errors' box: position, side, the distance map of that side
    (clicked pixels zeroed) and its value at the click (the radius of the largest error region)."""

    y: int
    x: int
    positive: bool
    dist: np.ndarray
    radius: float


def exact_peak(dist: np.ndarray) -> tuple[np.float32, int]:
    """The maximum of a distance map and its first position (row-major), in exact float32 values.

    OpenCV's precise transform returns float32(sqrt(d^2)) on its own code path, but its IPP path
    (taken with a single thread) can be 1-2 ulp off, which changes ties and therefore clicks. The
    values near the maximum are snapped back to float32(sqrt(integer d^2)), so the click does not
    depend on how OpenCV was built or how many threads it runs (exact for distances < ~2000 px).
    """
    top = dist.max()
    if top == 0:
        return np.float32(0.0), 0
    flat = dist.ravel()
    near = np.flatnonzero(flat >= top * (1 - 1e-5) - 1e-6)  # far wider than any rounding error
    values = flat[near].astype(np.float64)
    exact = np.sqrt(np.rint(values * values)).astype(np.float32)
    best = exact.max()
    return best, int(near[int(np.argmax(exact == best))])


def _masked_peak(mask: np.ndarray, count: int,
                 clicked: list[tuple[int, int]]) -> tuple[np.ndarray | None, np.float32, int]:
    """The distance map of ``mask`` with the clicked pixels set to 0, and its ``exact_peak`` (an empty
    mask has no map and peak 0 at position 0, without a transform)."""
    if count == 0:
        return None, np.float32(0.0), 0
    dist = distance_to_background(mask)
    for y, x in clicked:
        dist[y, x] = 0.0
    return (dist, *exact_peak(dist))
