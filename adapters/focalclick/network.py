"""FocalClick's network: a segmentor (HRNet-OCR or SegFormer) and the focus-crop refiner, with the
official module layout.

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
from ..nets.focal_refiner import FocalRefiner
from ..nets.hrnet import HRNET, HRNetOCR
from ..nets.layers import ScaleLayer, click_map_transform, half_size, resize, split_input
from ..nets.roi_align import roi_align
from ..nets.segformer import MIT, SegFormer

REFINE_RADIUS = 5  # the refiner's click disks, every variant


class FocalClickNet(nn.Module):
    """FocalClick: a segmentor on the (square) target crop, and a refiner for the focus crop.

    S1 runs the segmentor at half resolution with click disks of radius 2 (HRNet) or 3
    (SegFormer); S2 at full resolution with radius 5. The refiner always uses radius 5.
    """

    feature_extractor: SegFormer | HRNetOCR  # the base network (``is_segformer``: which)

    def __init__(self, backbone: str, stage: str) -> None:
        super().__init__()
        self.stage = stage
        self.is_segformer = backbone.startswith("segformer")
        if self.is_segformer:
            version = backbone.split("-")[1]
            self.radius = 3 if stage == "s1" else 5
            self.maps_transform = nn.Sequential(  # present in the checkpoints, unused by the forward
                nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 32, 3, 2, 1), ScaleLayer(0.05))
            self.feature_extractor = SegFormer(version, side_channels=3)
            self.refiner = FocalRefiner(MIT[version].decoder_dim, with_unused_gate=True)
        else:
            self.radius = 2 if stage == "s1" else 5
            self.maps_transform = click_map_transform(3)
            self.feature_extractor = HRNetOCR.named(backbone)
            self.refiner = FocalRefiner(2 * HRNET[backbone].ocr_width)

    def click_inputs(self) -> tuple[ClickInput, ...]:
        """The click disks' weights (``calibration``): channels 1-2 of the segmentor's maps (0 is the
        previous mask), channels 3-4 of the refiner's input (after the RGB crop)."""
        segmentor = (f"feature_extractor.{self.feature_extractor.side_layer}" if self.is_segformer
                     else "maps_transform.0")
        return ClickInput(segmentor, (1, 2)), ClickInput("refiner.image_conv1.conv", (3, 4))

    def logit_heads(self) -> tuple[LogitHead, ...]:
        """The layers that make the coarse and the refined logits, in data-flow order (``calibration``)."""
        return (LogitHead(f"feature_extractor.{self.feature_extractor.logits_layer}"), LogitHead("refiner.refine_pred"))

    def _maps(self, prev: torch.Tensor, points: torch.Tensor, size) -> torch.Tensor:
        maps = torch.cat([prev, disk_maps(squared_distance_maps(points, *size), self.radius)], 1)
        return half_size(maps) if self.stage == "s1" else maps

    def _segment(self, image: torch.Tensor, maps: torch.Tensor, stage: torch.Tensor | None):
        """(logits, aux logits, feature) at the segmentor's stride."""
        if self.is_segformer:
            logits, feature = self.feature_extractor(image, maps, stage)
            return logits, logits, feature
        return self.feature_extractor(image, self.maps_transform(maps), stage)

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """Coarse logits at the input size and the segmentor feature (official ``net(x, points)``)."""
        image, prev = split_input(x)
        if prev is None:
            raise ValueError(f"FocalClickNet takes RGB and the previous probabilities (4 channels), not {x.shape[1]}")
        size = image.shape[-2:]
        logits, aux, feature = self._segment(half_size(image) if self.stage == "s1" else image,
                                             self._maps(prev, points, size), None)
        return {"instances": resize(logits, size), "instances_aux": resize(aux, size), "feature": feature}

    def image_stage(self, image: torch.Tensor) -> torch.Tensor:
        """The image-only part of the segmentor (HRNet stem, or MiT stage 1) of a normalised image."""
        image = half_size(image) if self.stage == "s1" else image
        if isinstance(self.feature_extractor, SegFormer):  # is_segformer, as a test the type checker narrows on
            return self.feature_extractor.backbone.first_stage(image)
        return self.feature_extractor.stem(image)

    def coarse(self, image: torch.Tensor, prev: torch.Tensor, points: torch.Tensor,
               stage: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(coarse logits at the input size, feature) from a normalised image (``stage``: its kept
        ``image_stage``); the auxiliary output, which the predictor never uses, is not upsampled."""
        size = image.shape[-2:]
        # with a kept stage the image itself is not read again
        segment_input = image if stage is not None or self.stage != "s1" else half_size(image)
        logits, _, feature = self._segment(segment_input, self._maps(prev, points, size), stage)
        return resize(logits, size), feature

    def refine(self, crop: torch.Tensor, crop_points: torch.Tensor, feature: torch.Tensor,
               coarse_logits: torch.Tensor, box: torch.Tensor) -> dict[str, torch.Tensor]:
        """Refine the focus crop (official ``net.refine``); ``box`` is ``[[0, x1, y1, x2, y2]]`` in
        the pixels of the segmentor input, ``crop`` the RGB focus crop in [0, 1]."""
        ratio = crop.shape[-1] / feature.shape[-1]
        crop_feature = roi_align(feature, box, (feature.shape[-2], feature.shape[-1]), spatial_scale=1 / ratio)
        crop_logits = roi_align(coarse_logits, box, (crop.shape[-2], crop.shape[-1]), spatial_scale=1.0)
        disks = disk_maps(squared_distance_maps(crop_points, *crop.shape[-2:]), REFINE_RADIUS)
        refined, trimap = self.refiner(crop, disks, crop_feature, crop_logits)
        return {"instances_refined": refined, "instances_coarse": crop_logits, "trimap": trimap}
