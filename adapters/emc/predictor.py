"""EMC-Click's predictor (reference/protocol.md §4.4): the whole image with its short side resized to
384 (576 on DAVIS, sides rounded down to multiples of 4), flip averaging of logits; the base network
runs once per image, on the first click, and every click runs the mask correction network."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from ..deep import DeepPredictor, channels_last, click_rows
from ..geometry import short_side_size
from ..nets.clicks import points_tensor
from ..nets.layers import normalize_image, resize



class EMCPredictor(DeepPredictor):
    capabilities = Capabilities(caches_image_work=True, later_clicks_differ=True, uses_prev_mask=False)
    default_flip = True
    short_side = 384

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.short_side = input_size or (576 if dataset.upper() == "DAVIS" else 384)

    def input_size(self) -> str:
        return f"whole image, short side {self.short_side} (multiples of 4)"

    def base_parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.base_parameters())

    def on_image(self) -> None:
        h, w = self.image.shape[-2:]
        self.net_size = short_side_size(h, w, self.short_side)
        image = normalize_image(resize(self.image, self.net_size))  # per-image work, done once
        self.net_image = channels_last(torch.cat([image, torch.flip(image, dims=[3])], 0) if self.flip else image)
        self.cache: dict[str, torch.Tensor] | None = None
        self.base_runs = getattr(self, "base_runs", 0)

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        (nh, nw), (h, w) = self.net_size, self.image.shape[-2:]
        rows = click_rows(clicks, nh / h, nw / w)
        lists = [rows] + ([[(y, nw - x - 1, p, i) for y, x, p, i in rows]] if self.flip else [])
        points = points_tensor(lists)
        if self.cache is None:  # first click: the base network, on click #0 only
            self.cache = self.net.encode(self.net_image, points)
            self.cache["projected"] = self.net.refiner.project_feature(self.cache["feature"])
            self.base_runs += 1
        logits_lr = self.net.correct(self.net_image, points, self.cache["feature"], self.cache["instances_lr"],
                                     self.cache["projected"])
        self.cache["instances_lr"] = logits_lr
        logits = resize(logits_lr, (nh, nw))
        if self.flip:
            logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
        return resize(torch.sigmoid(logits), (h, w))[0, 0]
