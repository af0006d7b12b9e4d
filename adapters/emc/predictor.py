"""EMC-Click's predictor as its repository ships it (isegm/inference/predictors/clickatt.py,
``ClickAttPredictor``): the whole image with its short side resized to 384 (576 on DAVIS, sides
rounded down to multiples of 4), flip averaging of logits; the base network runs once per image, on
the first click, and every click runs the mask correction network.

Engineered: the image is resized, normalised and mirrored once per image, and the image-only part
of the correction network (its image branch's RGB channels, the projected backbone feature) is
computed once, at the first click. Official arithmetic: the 4-channel input is resized and
mirrored, normalised inside the network and the whole correction network recomputed at every
click, as the official ``ClickAttPredictor`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from ..deep import DeepPredictor, batch_points, click_rows, flip_average, logit, with_flip
from ..geometry import short_side_size
from ..nets.layers import normalize_image, resize


class EMCPredictor(DeepPredictor):
    family = "emc"
    capabilities = Capabilities(caches_image_work=True, later_clicks_differ=True, uses_prev_mask=False)
    default_flip = True
    short_side = 384
    phase_parts = {"first": "base network + mask correction", "later": "mask correction only"}

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.short_side = input_size or (576 if dataset.upper() == "DAVIS" else 384)

    def input_size(self) -> str:
        return f"whole image, short side {self.short_side} (multiples of 4)"

    def base_parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.base_parameters())

    def phase_modules(self, phase: str):
        return [self.net] if phase == "first" else [self.net.refiner]

    def on_image(self) -> None:
        image = self.image_tensor()
        h, w = image.shape[-2:]
        self.net_size = short_side_size(h, w, self.short_side)
        self.state: dict | None = None  # what later clicks reuse (official: the network's outputs dict)
        self.base_runs = getattr(self, "base_runs", 0)
        if self.official:
            self.prev_probs = torch.zeros_like(image[:, :1])  # the official input's 4th channel
        else:  # per-image work, done once
            self.net_image = self.layout(with_flip(normalize_image(resize(image, self.net_size)), self.flip))

    def carried_state(self) -> dict[str, object]:
        if self.state is None:
            return {}
        return {"base feature": self.state["feature"],
                "low-resolution logits": self.state["instances_lr" if self.official else "logits_lr"]}

    def steer(self, mask) -> None:
        super().steer(mask)
        assert self.steering is not None  # DeepPredictor.steer has just set it
        nh, nw = self.net_size
        low = F.interpolate(self.steering, (nh // 4, nw // 4), mode="area").clamp(0.01, 0.99)
        self.steering_lr = with_flip(logit(low), self.flip)

    def _points(self, clicks: Sequence[Click]) -> torch.Tensor:
        (nh, nw), (h, w) = self.net_size, self.image_tensor().shape[-2:]
        return batch_points(click_rows(clicks, nh / h, nw / w), nw, self.flip, self.device)

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        points = self._points(clicks)
        if self.state is None:  # first click: the base network, on click #0 only
            logits, self.state = self.network(self.net.first_click, self.net_image, points)
            self.base_runs += 1
        else:
            logits, self.state["logits_lr"] = self.network(self.net.later_click, self.net_image, points, self.state)
        if self.steering is not None:
            self.state["logits_lr"] = self.steering_lr
        return self._probabilities(logits)

    def infer_official(self, clicks: Sequence[Click]) -> torch.Tensor:
        x = with_flip(resize(torch.cat([self.image_tensor(), self.prev_probs], 1), self.net_size), self.flip)
        outputs, refined = self.network(self.net, x, self._points(clicks), self.state)
        self.base_runs += self.state is None
        self.state = outputs
        if self.steering is not None:
            self.state["instances_lr"] = self.steering_lr
        probs = self._probabilities(refined["instances_refined"])
        self.prev_probs = self.carried(probs[None, None])
        return probs

    def _probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Flip average of the logits, sigmoid, back to the image size."""
        return resize(torch.sigmoid(flip_average(logits, self.flip)), self.image_tensor().shape[-2:])[0, 0]
