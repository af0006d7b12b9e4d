"""EMC-Click's predictor (reference/protocol.md §4.4): the whole image with its short side resized to
384 (576 on DAVIS, sides rounded down to multiples of 4), flip averaging of logits; the base network
runs once per image, on the first click, and every click runs the mask correction network."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities, CostPhase

from ..deep import (LATER_CLICKS, DeepPredictor, PhaseModule, batch_points, channels_last, click_rows, random_input,
                    sample_clicks)
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
            self.cache["context"] = self.net.refiner.image_context(self.net_image, self.cache["feature"])
            self.base_runs += 1
        logits_lr = self.net.correct(self.net_image, points, self.cache["feature"], self.cache["instances_lr"],
                                     self.cache["context"])
        self.cache["instances_lr"] = logits_lr
        logits = resize(logits_lr, (nh, nw))
        if self.flip:
            logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
        return resize(torch.sigmoid(logits), (h, w))[0, 0]

    def cost_phases(self, height: int, width: int) -> list[CostPhase]:
        """Click 1: base network + correction; later clicks: the correction network alone."""
        nh, nw = short_side_size(height, width, self.short_side)
        b = 2 if self.flip else 1
        image = random_input(b, 3, nh, nw)
        first_points = batch_points(sample_clicks(nh, nw, 1), nw, self.flip)
        later_points = batch_points(sample_clicks(nh, nw, LATER_CLICKS), nw, self.flip)
        net = self.net

        def first(img, pts):
            enc = net.encode(img, pts)
            return net.correct(img, pts, enc["feature"], enc["instances_lr"],
                               net.refiner.image_context(img, enc["feature"]))

        def later(img, pts, feature, logits, image_lead, feature_lead):
            return net.correct(img, pts, feature, logits, {"image": image_lead, "feature": feature_lead})

        with torch.inference_mode():
            enc = net.encode(image, first_points)
            context = net.refiner.image_context(image, enc["feature"])
        refiner = sum(p.numel() for p in net.refiner.parameters())
        return [
            CostPhase("first", "base network + mask correction", (nh, nw), b, self.parameter_count(),
                      PhaseModule(net, first), (image, first_points)),
            CostPhase("later", "mask correction only", (nh, nw), b, refiner, PhaseModule(net, later),
                      (image, later_points, enc["feature"], enc["instances_lr"], context["image"], context["feature"])),
        ]
