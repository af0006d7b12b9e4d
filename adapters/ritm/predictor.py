"""RITM's predictor: zoom-in ("cvpr" mode), horizontal-flip averaging of logits, previous probabilities
as input (reference/protocol.md §4.1-4.2)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities, CostPhase

from ..deep import (LATER_CLICKS, DeepPredictor, PhaseModule, batch_points, channels_last, click_rows, random_input,
                    sample_clicks)
from ..geometry import bbox_iou, clicks_inside, object_roi, to_roi, zoom_size
from ..nets.clicks import points_tensor
from ..nets.layers import resize



class RITMPredictor(DeepPredictor):
    """Click 1 sees the whole image at native resolution; later clicks a crop around the object
    (its box plus the positive clicks, x1.4, at least 200 px), resized so its longer side is 400
    (600 on DAVIS). Flip TTA averages the logits of the image and its mirror."""

    capabilities = Capabilities(uses_prev_mask=True)
    min_side = 32
    default_flip = True
    skip_clicks = 1
    expansion = 1.4
    min_crop = 200
    recompute_iou = 0.5
    zoom_threshold = 0.5
    target = 400

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.target = input_size or (600 if dataset.upper() == "DAVIS" else 400)

    def input_size(self) -> str:
        return f"click 1 native; then zoom-in crop, longer side {self.target}"

    def on_image(self) -> None:
        self.prev_probs = torch.zeros_like(self.image[:, :1])
        self.roi = None  # the zoom-in box, kept across clicks
        self.zoom_probs = None  # the last full-size probabilities the zoom-in decides from

    def _zoom(self, x: torch.Tensor, clicks: Sequence[Click]) -> tuple[torch.Tensor, list]:
        rows = click_rows(clicks)
        if len(clicks) <= self.skip_clicks or self.zoom_probs is None:
            return x, rows
        mask = (self.zoom_probs > self.zoom_threshold)[0, 0].numpy()
        if not mask.any():
            return x, rows  # the old box (if any) stays, as in the official code
        positives = [(c.y, c.x) for c in clicks if c.is_positive]
        current = object_roi(mask, positives, self.expansion, self.min_crop)
        if self.roi is None or not clicks_inside(self.roi, positives) or bbox_iou(current, self.roi) < self.recompute_iou:
            self.roi = current
        r0, r1, c0, c1 = self.roi
        ch, cw = zoom_size(self.roi, self.target)
        crop = resize(x[:, :, r0:r1 + 1, c0:c1 + 1], (ch, cw))
        mapped = [(*to_roi(y, xx, self.roi, ch, cw), p, i) for y, xx, p, i in rows]
        return crop, mapped

    def _unzoom(self, probs: torch.Tensor) -> torch.Tensor:
        if self.roi is not None:
            r0, r1, c0, c1 = self.roi
            probs = resize(probs, (r1 - r0 + 1, c1 - c0 + 1))
            if self.zoom_probs is not None:
                full = torch.zeros_like(self.zoom_probs)
                full[:, :, r0:r1 + 1, c0:c1 + 1] = probs
                probs = full
        self.zoom_probs = probs
        return probs

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        x, rows = self._zoom(torch.cat([self.image, self.prev_probs], 1), clicks)
        lists = [rows]
        if self.flip:
            width = x.shape[-1]
            lists.append([(y, width - xx - 1, p, i) for y, xx, p, i in rows])
            x = torch.cat([x, torch.flip(x, dims=[3])], 0)
        logits = self.net(channels_last(x), points_tensor(lists))["instances"]
        if self.flip:
            logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
        self.prev_probs = self._unzoom(torch.sigmoid(logits))
        return self.prev_probs[0, 0]

    def cost_phases(self, height: int, width: int) -> list[CostPhase]:
        """The same network every click: at native size on click 1, on the zoom-in crop later
        (taken here as the whole frame, resized so its longer side is the zoom target)."""
        b = 2 if self.flip else 1
        net = self.net
        module = PhaseModule(net, lambda x, pts: net(x, pts)["instances"])
        zh, zw = zoom_size((0, height - 1, 0, width - 1), self.target)
        params = self.parameter_count()
        return [
            CostPhase("first", "whole network, native resolution", (height, width), b, params, module,
                      (random_input(b, 4, height, width), batch_points(sample_clicks(height, width, 1), width, self.flip))),
            CostPhase("later", f"whole network, zoom-in crop (longer side {self.target})", (zh, zw), b, params, module,
                      (random_input(b, 4, zh, zw), batch_points(sample_clicks(zh, zw, LATER_CLICKS), zw, self.flip))),
        ]
