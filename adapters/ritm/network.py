"""RITM's network (iterative-mask HRNet-OCR), with the official module layout.

``forward`` is the official contract: a 4-channel tensor (RGB in [0, 1] and the previous
probability map) and the points tensor of ``nets.clicks.points_tensor``, normalising inside and
returning every output the official network returns (the official-arithmetic predictor calls it);
the other methods are the lean steps the engineered predictor calls.
"""

from __future__ import annotations

import torch
from torch import nn

from ..calibration import ClickInput, LogitHead
from ..nets.clicks import disk_maps, squared_distance_maps
from ..nets.hrnet import HRNetOCR
from ..nets.layers import click_map_transform, resize, split_input


class RITMNet(nn.Module):
    """RITM iterative-mask HRNet: clicks (disks of radius 5) and the previous mask enter the stem."""

    def __init__(self, backbone: str, radius: float = 5) -> None:
        super().__init__()
        self.radius = radius
        self.maps_transform = click_map_transform(3)
        self.feature_extractor = HRNetOCR.named(backbone)

    def click_inputs(self) -> tuple[ClickInput, ...]:
        """The click disks' weights (``calibration``): channels 1-2 of the maps (0 is the previous mask)."""
        return (ClickInput("maps_transform.0", (1, 2)),)

    def logit_heads(self) -> tuple[LogitHead, ...]:
        """The layer that makes the object logits (``calibration``)."""
        return (LogitHead(f"feature_extractor.{self.feature_extractor.logits_layer}"),)

    def _click_features(self, prev: torch.Tensor, points: torch.Tensor, size) -> torch.Tensor:
        disks = disk_maps(squared_distance_maps(points, *size), self.radius)
        return self.maps_transform(torch.cat([prev, disks], 1))

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        image, prev = split_input(x)
        if prev is None:
            raise ValueError(f"RITMNet takes RGB and the previous probabilities (4 channels), not {x.shape[1]}")
        logits, aux, _ = self.feature_extractor(image, self._click_features(prev, points, image.shape[-2:]))
        size = image.shape[-2:]
        return {"instances": resize(logits, size), "instances_aux": resize(aux, size)}

    def image_stage(self, image: torch.Tensor) -> torch.Tensor:
        """The image-only stem of a normalised image."""
        return self.feature_extractor.stem(image)

    def logits(self, image: torch.Tensor, prev: torch.Tensor, points: torch.Tensor,
               stage: torch.Tensor | None = None) -> torch.Tensor:
        """Object logits at the input size from a normalised image (``stage``: its kept image stage)."""
        size = image.shape[-2:]
        logits, _, _ = self.feature_extractor(image, self._click_features(prev, points, size), stage)
        return resize(logits, size)
