"""Pure geometry of the official predictors: input sizes, zoom-in boxes, focus crops, click mapping.

Boxes are ``(rmin, rmax, cmin, cmax)`` with inclusive bounds for RITM's zoom-in, and
``(y1, y2, x1, x2)`` with exclusive upper bounds for FocalClick's crops, as in the official code.
Rounding follows it too: Python's ``round`` (half to even) in the zoom-in, ``int`` truncation in
the focus crop.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Box = tuple[int, int, int, int]


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """EMC-Click's ResizeTrans: short side to ``short_side``, each side rounded down to a multiple of 4."""
    scale = short_side / min(height, width)
    return int(round(height * scale)) // 4 * 4, int(round(width * scale)) // 4 * 4


def flip_x(x: float, width: int) -> float:
    """A click's column in the horizontally flipped input of width ``width``."""
    return width - x - 1


# --- RITM zoom-in ------------------------------------------------------------------------------

def mask_bbox(mask: np.ndarray) -> Box:
    """Inclusive bounding box of the True pixels (mask must not be empty)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def expand_bbox(box: Box, ratio: float, min_size: float | None = None) -> Box:
    """Grow an inclusive box about its centre by ``ratio`` (at least ``min_size``), banker's rounding."""
    rmin, rmax, cmin, cmax = box
    rc, cc = 0.5 * (rmin + rmax), 0.5 * (cmin + cmax)
    h, w = ratio * (rmax - rmin + 1), ratio * (cmax - cmin + 1)
    if min_size is not None:
        h, w = max(h, min_size), max(w, min_size)
    return int(round(rc - 0.5 * h)), int(round(rc + 0.5 * h)), int(round(cc - 0.5 * w)), int(round(cc + 0.5 * w))


def clamp_bbox(box: Box, rmin: int, rmax: int, cmin: int, cmax: int) -> Box:
    return max(rmin, box[0]), min(rmax, box[1]), max(cmin, box[2]), min(cmax, box[3])


def _segment_iou(a: int, b: int, c: int, d: int) -> float:
    inter = max(0, min(b, d) - max(a, c) + 1)
    union = max(1e-6, max(b, d) - min(a, c) + 1)
    return inter / union


def bbox_iou(b1: Box, b2: Box) -> float:
    """IoU of inclusive integer boxes as the product of the two 1-D IoUs."""
    return _segment_iou(b1[0], b1[1], b2[0], b2[1]) * _segment_iou(b1[2], b1[3], b2[2], b2[3])


def object_roi(mask: np.ndarray, positive: Sequence[tuple[float, float]], ratio: float, min_size: float) -> Box:
    """Zoom-in box: the mask plus the positive clicks, expanded and clamped to the image."""
    mask = mask.copy()
    for y, x in positive:
        mask[int(y), int(x)] = True
    h, w = mask.shape
    return clamp_bbox(expand_bbox(mask_bbox(mask), ratio, min_size), 0, h - 1, 0, w - 1)


def clicks_inside(roi: Box, positive: Sequence[tuple[float, float]]) -> bool:
    """Whether every positive click lies inside the box (upper bounds exclusive, as RITM checks)."""
    return all(roi[0] <= y < roi[1] and roi[2] <= x < roi[3] for y, x in positive)


def zoom_size(roi: Box, target: int) -> tuple[int, int]:
    """Size the crop is resized to: its longer side becomes ``target`` (small crops are upscaled)."""
    h, w = roi[1] - roi[0] + 1, roi[3] - roi[2] + 1
    scale = target / max(h, w)
    return int(round(h * scale)), int(round(w * scale))


def to_roi(y: float, x: float, roi: Box, crop_h: int, crop_w: int) -> tuple[float, float]:
    """A click's position in the (resized) zoom-in crop."""
    return (crop_h * (y - roi[0]) / (roi[1] - roi[0] + 1), crop_w * (x - roi[2]) / (roi[3] - roi[2] + 1))


# --- FocalClick focus crop ------------------------------------------------------------------------

def focus_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """FocalClick's box helper: inclusive ``(y1, y2, x1, x2)``, the whole image when < 10 pixels."""
    h, w = mask.shape
    if mask.sum() < 10:
        return 0, h, 0, w
    return mask_bbox(mask)


def expand_focus(shape: tuple[int, int], y1: float, y2: float, x1: float, x2: float, ratio: float,
                 min_size: float = 0) -> Box:
    """FocalClick's expansion: about the centre by ``ratio``, truncated with ``int``, clamped to the image."""
    h_img, w_img = shape
    yc, xc = 0.5 * (y1 + y2), 0.5 * (x1 + x2)
    h, w = max(ratio * (y2 - y1 + 1), min_size), max(ratio * (x2 - x1 + 1), min_size)
    ny1, ny2 = int(yc - h * 0.5), int(yc + h * 0.5)
    nx1, nx2 = int(xc - w * 0.5), int(xc + w * 0.5)
    return max(0, ny1), min(h_img, ny2), max(0, nx1), min(w_img, nx2)


def focus_crop(coarse: np.ndarray, previous: np.ndarray, global_roi: Box, y: int, x: int, ratio: float) -> Box:
    """The focus box ``(y1, y2, x1, x2)``: where the new coarse mask changed around the last click.

    ``coarse`` is the new prediction as logits, ``previous`` the previous probabilities; both are
    binarised at 0.49 as in the official code. Without a previous mask the box is the coarse mask's.
    """
    pred = coarse > 0.49
    prev = previous > 0.49
    found: tuple[float, float, float, float]  # (y1, y2, x1, x2) before the expansion
    if not prev.any():
        found = focus_bbox(pred)
    else:
        _, labels = cv2.connectedComponents(np.logical_xor(prev, pred).astype(np.uint8))
        y1d, y2d, x1d, x2d = focus_bbox(labels == labels[y, x])
        y1p, y2p, x1p, x2p = focus_bbox(pred)
        hp, wp = y2p - y1p, x2p - x1p
        if y2d - y1d < hp / 3 or x2d - x1d < wp / 3:
            half = 0.2 * max(hp, wp)
            found = y - half, y + half, x - half, x + half
        else:
            found = y1d, y2d, x1d, x2d
    fy1, fy2, fx1, fx2 = found
    y1, y2, x1, x2 = expand_focus(pred.shape, fy1, fy2, fx1, fx2, ratio)
    gy1, gy2, gx1, gx2 = global_roi
    return max(y1, gy1), min(y2, gy2), max(x1, gx1), min(x2, gx2)


def box_in_crop(box: Box, crop_box: Box, size: int) -> tuple[float, float, float, float]:
    """A box's coordinates in the ``size`` x ``size`` frame of ``crop_box`` (clamped to the frame)."""
    gy1, gy2, gx1, gx2 = crop_box
    hg, wg = gy2 - gy1, gx2 - gx1
    y1, y2, x1, x2 = box
    return (max((y1 - gy1) * (size / hg), 0), min((y2 - gy1) * (size / hg), size),
            max((x1 - gx1) * (size / wg), 0), min((x2 - gx1) * (size / wg), size))


def point_in_box(y: float, x: float, box: Box, size: int) -> tuple[float, float]:
    """A click's position in the ``size`` x ``size`` resampling of ``box`` (FocalClick's refiner input)."""
    y1, y2, x1, x2 = box
    return (y - y1) * (size / (y2 - y1)), (x - x1) * (size / (x2 - x1))
