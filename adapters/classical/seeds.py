"""Click disks and the shared description of weight-free methods."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import cv2
import numpy as np

from iseg_bench.clicker import Click
from iseg_bench.predictor import MethodInfo, Predictor


def click_disks(shape: tuple[int, int], clicks: Sequence[Click], radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the positive and the negative click disks (pixels within ``radius``)."""
    pos = np.zeros(shape, np.uint8)
    neg = np.zeros(shape, np.uint8)
    for c in clicks:
        cv2.circle(pos if c.is_positive else neg, (int(c.x), int(c.y)), int(radius), 1, thickness=-1)
    return pos.astype(bool), neg.astype(bool)


class ClassicalPredictor(Predictor):
    """Base of weight-free methods: identity = name, algorithm version and settings."""

    family = "classical"
    version = 1

    def settings(self) -> dict:
        """Every parameter that changes the output; hashed into the weights identity."""
        return {}

    def describe(self) -> MethodInfo:
        blob = json.dumps(self.settings(), sort_keys=True)
        digest = hashlib.sha256(blob.encode()).hexdigest()[:8]
        return MethodInfo(name=self.name, family=self.family,
                          weights=f"weight-free:{self.name}-v{self.version}-{digest}",
                          trained=None, params=0, input_size="native", capabilities=self.capabilities,
                          notes=self.__doc__.strip().splitlines()[0] if self.__doc__ else "")
