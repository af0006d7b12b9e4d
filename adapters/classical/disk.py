"""The floor: paint disks around positive clicks and erase disks around negative ones."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iseg_bench.clicker import Click

from .seeds import ClassicalPredictor, click_disks


class DiskPredictor(ClassicalPredictor):
    """Union of positive-click disks minus negative-click disks (radius 4% of the shorter side)."""

    name = "disk"
    relative_radius = 0.04

    def set_image(self, image: np.ndarray) -> None:
        self._shape = image.shape[:2]

    def settings(self) -> dict:
        return {"relative_radius": self.relative_radius}

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        radius = max(1, round(self.relative_radius * min(self._shape)))
        pos, neg = click_disks(self._shape, clicks, radius)
        return (pos & ~neg).astype(np.float32)
