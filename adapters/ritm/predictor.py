"""RITM's predictor: zoom-in ("cvpr" mode), horizontal-flip averaging of logits, previous probabilities
as input (RITM's isegm/inference/predictors/base.py and isegm/inference/transforms/).

Engineered: the image is normalised once per image; its crop (resized, mirrored) and the network's
image-only stem are kept while the zoom-in box stays the same, and only the object logits are
upsampled. Official arithmetic: the 4-channel input is cropped, resized and mirrored, normalised
inside the network, both outputs (object and auxiliary) upsampled and the logits resized once more
to their own size at every click, as the official ``BasePredictor`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from ..deep import CropCache, DeepPredictor, batch_points, click_rows, flip_average, with_flip
from ..geometry import Box, bbox_iou, clicks_inside, object_roi, to_roi, zoom_size
from ..nets.layers import normalize_image, resize


class RITMPredictor(DeepPredictor):
    """Click 1 sees the whole image at native resolution; later clicks a crop around the object
    (its box plus the positive clicks, x1.4, at least 200 px), resized so its longer side is 400
    (600 on DAVIS). Flip TTA averages the logits of the image and its mirror."""

    family = "ritm"
    capabilities = Capabilities(uses_prev_mask=True)
    min_side = 32
    default_flip = True
    skip_clicks = 1
    expansion = 1.4
    min_crop = 200
    recompute_iou = 0.5
    zoom_threshold = 0.5
    target = 400
    phase_parts = {"first": "whole network, native resolution", "later": "whole network, zoom-in crop"}

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.target = input_size or (600 if dataset.upper() == "DAVIS" else 400)

    def input_size(self) -> str:
        return f"click 1 native; then zoom-in crop, longer side {self.target}"

    def on_image(self) -> None:
        image = self.image_tensor()
        self.prev_probs = torch.zeros_like(image[:, :1])
        self.roi: Box | None = None  # the zoom-in box, kept across clicks
        self.zoom_probs: torch.Tensor | None = None  # the last full-size probabilities the zoom-in decides from
        if not self.official:  # per-image work, done once
            self.image_n = normalize_image(image)
            self.crop_cache = CropCache()

    def carried_state(self) -> dict[str, object]:
        return {"previous probabilities": self.prev_probs, "zoom-in box": self.roi}

    def _zoom_box(self, clicks: Sequence[Click]) -> tuple[int, int, int, int] | None:
        """The zoom-in box this click crops (None: the whole image, unresized). An empty mask keeps
        the old box for the paste-back but crops nothing, as the official transform does."""
        if len(clicks) <= self.skip_clicks or self.zoom_probs is None:
            return None
        mask = (self.zoom_probs > self.zoom_threshold)[0, 0].cpu().numpy()
        if not mask.any():
            return None
        positives = [(c.y, c.x) for c in clicks if c.is_positive]
        current = object_roi(mask, positives, self.expansion, self.min_crop)
        if (self.roi is None or not clicks_inside(self.roi, positives)
                or bbox_iou(current, self.roi) < self.recompute_iou):
            self.roi = current
        return self.roi

    def _crop(self, x: torch.Tensor, box) -> torch.Tensor:
        if box is None:
            return x
        r0, r1, c0, c1 = box
        return resize(x[:, :, r0:r1 + 1, c0:c1 + 1], zoom_size(box, self.target))

    def _points(self, clicks: Sequence[Click], box, width: int) -> torch.Tensor:
        rows = click_rows(clicks)
        if box is not None:
            ch, cw = zoom_size(box, self.target)
            rows = [(*to_roi(y, x, box, ch, cw), p, i) for y, x, p, i in rows]
        return batch_points(rows, width, self.flip, self.device)

    def _unzoom(self, probs: torch.Tensor) -> torch.Tensor:
        """Full-size probabilities: pasted into zeros inside the box once a box exists."""
        if self.roi is not None:
            r0, r1, c0, c1 = self.roi
            full = torch.zeros_like(self.image_tensor()[:, :1])
            full[:, :, r0:r1 + 1, c0:c1 + 1] = resize(probs, (r1 - r0 + 1, c1 - c0 + 1))
            probs = full
        return probs

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        box = self._zoom_box(clicks)

        def image_part():  # the crop's image channels and the network's stem on them, kept per box
            rgb = self.layout(with_flip(self._crop(self.image_n, box), self.flip))
            return rgb, self.network(self.net.image_stage, rgb)

        rgb, stage = self.crop_cache.get(box, image_part)
        prev = self.layout(with_flip(self._crop(self.prev_probs, box), self.flip))
        logits = self.network(self.net.logits, rgb, prev, self._points(clicks, box, rgb.shape[-1]), stage)
        return self._finish(torch.sigmoid(flip_average(logits, self.flip)))

    def infer_official(self, clicks: Sequence[Click]) -> torch.Tensor:
        box = self._zoom_box(clicks)
        x = with_flip(self._crop(torch.cat([self.image_tensor(), self.prev_probs], 1), box), self.flip)
        out = self.network(self.net, x, self._points(clicks, box, x.shape[-1]))
        logits = resize(out["instances"], x.shape[-2:])  # the official predictor resizes to the same size
        return self._finish(torch.sigmoid(flip_average(logits, self.flip)))

    def _finish(self, probs: torch.Tensor) -> torch.Tensor:
        probs = self._unzoom(probs)
        self.prev_probs = self.zoom_probs = self.carried(probs)
        return probs[0, 0]
