"""Marker-controlled watershed: the clicks flood the image's colour gradient."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from iseg_bench.clicker import Click

from .seeds import ClassicalPredictor, click_disks


class WatershedPredictor(ClassicalPredictor):
    """Seeded watershed (Meyer's flooding, OpenCV) on a smoothed image.

    Positive click disks seed the object, negative click disks and the image border seed the
    background; each pixel joins the seed that reaches it first when the colour-gradient relief is
    flooded, i.e. objects end where the image has its strongest edges between the seeds.
    """

    name = "watershed"
    seed_radius = 3
    blur_sigma = 1.5

    def settings(self) -> dict:
        return {"seed_radius": self.seed_radius, "blur_sigma": self.blur_sigma}

    def set_image(self, image: np.ndarray) -> None:
        self._smooth = cv2.GaussianBlur(np.ascontiguousarray(image[:, :, ::-1]), (0, 0), self.blur_sigma)

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        shape = self._smooth.shape[:2]
        markers = np.zeros(shape, np.int32)
        # OpenCV overwrites the outermost pixel ring with watershed lines, so the background
        # seed frame is two pixels wide
        markers[[0, 1, -2, -1], :] = 1
        markers[:, [0, 1, -2, -1]] = 1
        pos, neg = click_disks(shape, clicks, self.seed_radius)
        markers[neg] = 1
        markers[pos] = 2
        if not pos.any():
            return np.zeros(shape, np.float32)
        cv2.watershed(self._smooth, markers)
        fg = markers == 2
        # watershed lines (-1) belong to neither side; give them to the object where they touch it
        lines = markers == -1
        grown = cv2.dilate(fg.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        return (fg | (lines & grown)).astype(np.float32)
