"""The pictures of a sample view: the image with the ground truth or a mask, and the robot's clicks.

Positive and negative clicks differ in shape, not only colour: a positive click is a filled disc
with a plus, a negative one a ring with a minus; the newest click has an extra outer ring. The
ground truth is outlined white on black, which shows on any picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

MASK_COLOUR = (40, 120, 255)
POSITIVE_COLOUR = (30, 190, 60)
NEGATIVE_COLOUR = (230, 40, 40)
VOID_COLOUR = (128, 128, 128)
JPEG_QUALITY = 85


def scale_for(shape: tuple[int, int], max_side: int) -> float:
    """The factor that fits an image of ``shape`` into ``max_side`` pixels (never enlarges)."""
    return min(1.0, max_side / max(shape))


def _resize(array: np.ndarray, scale: float, nearest: bool = False) -> np.ndarray:
    if scale == 1.0:
        return array
    h, w = array.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _tint(image: np.ndarray, region: np.ndarray, colour: tuple[int, int, int], alpha: float) -> np.ndarray:
    out = image.astype(np.float32)
    out[region] = (1 - alpha) * out[region] + alpha * np.asarray(colour, np.float32)
    return out.astype(np.uint8)


def _outline(image: np.ndarray, region: np.ndarray) -> None:
    """The region's outline, white on black, visible on any picture."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(image, contours, -1, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.drawContours(image, contours, -1, (255, 255, 255), 1, cv2.LINE_AA)


def _click(image: np.ndarray, y: float, x: float, positive: bool, radius: int, newest: bool) -> None:
    centre = (round(x), round(y))
    arm = max(2, radius - 3)
    if newest:
        cv2.circle(image, centre, radius + 4, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.circle(image, centre, radius + 4, (255, 230, 0), 2, cv2.LINE_AA)
    if positive:
        cv2.circle(image, centre, radius, POSITIVE_COLOUR, -1, cv2.LINE_AA)
        cv2.circle(image, centre, radius, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.line(image, (centre[0] - arm, centre[1]), (centre[0] + arm, centre[1]), (255, 255, 255), 2)
        cv2.line(image, (centre[0], centre[1] - arm), (centre[0], centre[1] + arm), (255, 255, 255), 2)
    else:  # a ring: the picture stays visible inside
        cv2.circle(image, centre, radius, (255, 255, 255), 4, cv2.LINE_AA)
        cv2.circle(image, centre, radius, NEGATIVE_COLOUR, 2, cv2.LINE_AA)
        cv2.line(image, (centre[0] - arm, centre[1]), (centre[0] + arm, centre[1]), (255, 255, 255), 4)
        cv2.line(image, (centre[0] - arm, centre[1]), (centre[0] + arm, centre[1]), NEGATIVE_COLOUR, 2)


def ground_truth_view(image: np.ndarray, gt: np.ndarray, max_side: int) -> np.ndarray:
    """The image with everything but the object darkened and the object outlined, void pixels greyed."""
    scale = scale_for(gt.shape, max_side)
    small, label = _resize(image, scale), _resize(gt.astype(np.int16), scale, nearest=True)
    out = _tint(_tint(small, label == 0, (0, 0, 0), 0.55), label < 0, VOID_COLOUR, 0.6)
    _outline(out, label == 1)
    return out


def mask_view(image: np.ndarray, mask: np.ndarray, gt: np.ndarray, clicks: Sequence[Sequence[int]],
              max_side: int) -> np.ndarray:
    """The image with ``mask`` tinted, the ground truth's outline, and ``clicks`` ([y, x, positive])
    drawn in order (the last one marked as the newest)."""
    scale = scale_for(mask.shape, max_side)
    small = _resize(image, scale)
    out = _tint(small, _resize(mask.astype(np.uint8), scale, nearest=True) > 0, MASK_COLOUR, 0.55)
    _outline(out, _resize((gt == 1).astype(np.uint8), scale, nearest=True) > 0)
    radius = max(6, round(max(out.shape[:2]) / 40))
    for i, (y, x, positive) in enumerate(clicks):
        _click(out, (y + 0.5) * scale - 0.5, (x + 0.5) * scale - 0.5, bool(positive), radius, i == len(clicks) - 1)
    return out


def jpeg(image: np.ndarray) -> bytes:
    """An RGB image as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def thumbnail(image: np.ndarray, max_side: int) -> np.ndarray:
    return _resize(image, scale_for(image.shape[:2], max_side))
