"""A weight-free method: the pixels whose colour is nearer the positive clicks' than the negative ones'."""

from collections.abc import Sequence

import numpy as np

from iseg_bench import Click, MethodInfo, Predictor


class ColourDistancePredictor(Predictor):
    name = "colour-distance"
    family = "example"

    def set_image(self, image: np.ndarray) -> None:
        self.image = image.astype(np.float32)

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        def distance(points):
            if not points:
                return np.full(self.image.shape[:2], 255.0, np.float32)
            colours = np.stack([self.image[c.y, c.x] for c in points])
            return np.min(np.linalg.norm(self.image[:, :, None, :] - colours[None, None], axis=-1), axis=-1)

        near_object = distance([c for c in clicks if c.is_positive])
        near_background = distance([c for c in clicks if not c.is_positive])
        return (near_object < near_background).astype(np.float32)

    def describe(self) -> MethodInfo:
        return MethodInfo(name=self.name, family=self.family, weights="colour-distance:v1", trained=None)
