"""The tiny family's predictor: everything a deep method shares (weights, devices, implementations,
the network boundary, cost phases) comes from iseg-bench's DeepPredictor."""

from collections.abc import Sequence

import torch

from iseg_bench.adapters.deep import DeepPredictor, batch_points, click_rows
from iseg_bench.adapters.nets.clicks import disk_maps, squared_distance_maps
from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities


class TinyPredictor(DeepPredictor):
    family = "tiny"
    capabilities = Capabilities(uses_prev_mask=True)
    phase_parts = {"first": "whole network, native resolution", "later": "whole network, native resolution"}
    radius = 5

    def on_image(self) -> None:
        self.prev = torch.zeros_like(self.image[:, :1])

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        h, w = self.image.shape[-2:]
        points = batch_points(click_rows(clicks), w, False, self.device)
        disks = disk_maps(squared_distance_maps(points, h, w), self.radius)
        logits = self.network(self.net, self.layout(self.image), self.layout(disks), self.layout(self.prev))
        probs = torch.sigmoid(logits)
        self.prev = self.carried(probs)
        return probs[0, 0]

    infer_official = infer  # one arithmetic: nothing to engineer in three convolutions
