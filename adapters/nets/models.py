"""The complete networks of RITM, FocalClick and EMC-Click, with the official module layout.

``forward`` is the official contract: a 4-channel tensor (RGB in [0, 1] and the previous
probability map) and the points tensor of ``clicks.points_tensor``, normalising inside and
returning every output the official network returns (the official-arithmetic predictors call it).
Each network also exposes the lean steps the engineered predictors call: an already normalised
image, only the outputs the predictor uses, and the image-only part (``image_stage``) separate so
it can be reused while the image input repeats (EMC-Click: ``encode`` on the first click,
``correct`` afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .clicks import disk_maps, first_click_only, squared_distance_maps
from .emc_refiner import MaskCorrection
from .focal_refiner import FocalRefiner
from .hrnet import HRNetOCR
from .layers import ScaleLayer, click_map_transform, normalize_image, resize
from .roi_align import roi_align
from .segformer import MIT, SegFormer

REFINE_RADIUS = 5



def _half(x: torch.Tensor) -> torch.Tensor:
    """FocalClick S1's half-resolution segmentor input."""
    return F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)


def _split_input(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(normalised RGB, previous mask or None) from the 3- or 4-channel network input."""
    prev = x[:, 3:4] if x.shape[1] > 3 else None
    return normalize_image(x[:, :3]), prev


@dataclass(frozen=True)
class HRNetSize:
    width: int
    ocr_width: int
    small: bool


HRNET = {
    "hrnet18s": HRNetSize(18, 48, True),
    "hrnet18": HRNetSize(18, 64, False),
    "hrnet32": HRNetSize(32, 128, False),
}


class RITMNet(nn.Module):
    """RITM iterative-mask HRNet: clicks (disks of radius 5) and the previous mask enter the stem."""

    def __init__(self, size: HRNetSize, radius: float = 5) -> None:
        super().__init__()
        self.radius = radius
        self.maps_transform = click_map_transform(3)
        self.feature_extractor = HRNetOCR(size.width, size.ocr_width, size.small)

    def _click_features(self, prev: torch.Tensor, points: torch.Tensor, size) -> torch.Tensor:
        disks = disk_maps(squared_distance_maps(points, *size), self.radius)
        return self.maps_transform(torch.cat([prev, disks], 1))

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        image, prev = _split_input(x)
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


class FocalClickNet(nn.Module):
    """FocalClick: a segmentor on the (square) target crop, and a refiner for the focus crop.

    S1 runs the segmentor at half resolution with click disks of radius 2 (HRNet) or 3
    (SegFormer); S2 at full resolution with radius 5. The refiner always uses radius 5.
    """

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
            size = HRNET[backbone]
            self.radius = 2 if stage == "s1" else 5
            self.maps_transform = click_map_transform(3)
            self.feature_extractor = HRNetOCR(size.width, size.ocr_width, size.small)
            self.refiner = FocalRefiner(2 * size.ocr_width)

    def _maps(self, prev: torch.Tensor, points: torch.Tensor, size) -> torch.Tensor:
        maps = torch.cat([prev, disk_maps(squared_distance_maps(points, *size), self.radius)], 1)
        return _half(maps) if self.stage == "s1" else maps

    def _segment(self, image: torch.Tensor, maps: torch.Tensor, stage: torch.Tensor | None):
        """(logits, aux logits, feature) at the segmentor's stride."""
        if self.is_segformer:
            logits, feature = self.feature_extractor(image, maps, stage)
            return logits, logits, feature
        return self.feature_extractor(image, self.maps_transform(maps), stage)

    def forward(self, x: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """Coarse logits at the input size and the segmentor feature (official ``net(x, points)``)."""
        image, prev = _split_input(x)
        size = image.shape[-2:]
        logits, aux, feature = self._segment(_half(image) if self.stage == "s1" else image,
                                             self._maps(prev, points, size), None)
        return {"instances": resize(logits, size), "instances_aux": resize(aux, size), "feature": feature}

    def image_stage(self, image: torch.Tensor) -> torch.Tensor:
        """The image-only part of the segmentor (HRNet stem, or MiT stage 1) of a normalised image."""
        image = _half(image) if self.stage == "s1" else image
        if self.is_segformer:
            return self.feature_extractor.backbone.first_stage(image)
        return self.feature_extractor.stem(image)

    def coarse(self, image: torch.Tensor, prev: torch.Tensor, points: torch.Tensor,
               stage: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(coarse logits at the input size, feature) from a normalised image (``stage``: its kept
        ``image_stage``); the auxiliary output, which the predictor never uses, is not upsampled."""
        size = image.shape[-2:]
        # with a kept stage the image itself is not read again
        segment_input = image if stage is not None or self.stage != "s1" else _half(image)
        logits, _, feature = self._segment(segment_input, self._maps(prev, points, size), stage)
        return resize(logits, size), feature

    def refine(self, crop: torch.Tensor, crop_points: torch.Tensor, feature: torch.Tensor,
               coarse_logits: torch.Tensor, box: torch.Tensor) -> dict[str, torch.Tensor]:
        """Refine the focus crop (official ``net.refine``); ``box`` is ``[[0, x1, y1, x2, y2]]`` in
        the pixels of the segmentor input, ``crop`` the RGB focus crop in [0, 1]."""
        ratio = crop.shape[-1] / feature.shape[-1]
        crop_feature = roi_align(feature, box, tuple(feature.shape[-2:]), spatial_scale=1 / ratio)
        crop_logits = roi_align(coarse_logits, box, tuple(crop.shape[-2:]), spatial_scale=1.0)
        disks = disk_maps(squared_distance_maps(crop_points, *crop.shape[-2:]), REFINE_RADIUS)
        refined, trimap = self.refiner(crop, disks, crop_feature, crop_logits)
        return {"instances_refined": refined, "instances_coarse": crop_logits, "trimap": trimap}


class EMCNet(nn.Module):
    """EMC-Click: a base network on the first click only, then the mask correction network.

    ``encode`` runs the base network on click #0 alone (its disk, radius 5; the previous mask is
    not an input) and returns what later clicks reuse; ``correct`` runs only the correction network.
    """

    def __init__(self, backbone: str, mid: int, corr: int) -> None:
        super().__init__()
        self.is_segformer = backbone.startswith("segformer")
        if self.is_segformer:
            version = backbone.split("-")[1]
            self.feature_extractor = SegFormer(version, side_channels=1, with_unused_norm_add=True)
            feature_dims = MIT[version].decoder_dim
        else:
            size = HRNET[backbone]
            self.maps_transform = click_map_transform(1)
            self.feature_extractor = HRNetOCR(size.width, size.ocr_width, size.small)
            feature_dims = 2 * size.ocr_width
        self.refiner = MaskCorrection(feature_dims, mid, corr)

    def base_parameters(self) -> list[nn.Parameter]:
        """Parameters of the first-click network (everything but the correction network)."""
        refiner = {id(p) for p in self.refiner.parameters()}
        return [p for p in self.parameters() if id(p) not in refiner]

    def encode(self, image: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """Base network on click #0: logits and aux logits (stride 4) and the feature."""
        first_disk = disk_maps(squared_distance_maps(first_click_only(points), *image.shape[-2:]),
                               REFINE_RADIUS)[:, :1]
        if self.is_segformer:
            logits, feature = self.feature_extractor(image, first_disk)
            aux = logits
        else:
            logits, aux, feature = self.feature_extractor(image, self.maps_transform(first_disk))
        return {"instances_lr": logits, "instances_aux_lr": aux, "feature": feature}

    def correct(self, image: torch.Tensor, points: torch.Tensor, feature: torch.Tensor,
                logits_lr: torch.Tensor, context: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Correction network: new logits at 1/4 of ``image`` (normalised) from all clicks
        (``context``: the kept ``refiner.image_context(image, feature)``)."""
        sq = squared_distance_maps(points, *image.shape[-2:])
        return self.refiner(image, disk_maps(sq, REFINE_RADIUS), feature, resize(logits_lr, image.shape[-2:]),
                            points, sq, context)

    def first_click(self, image: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Engineered click 1 on a normalised image: the base network, the image-only context of the
        correction network and the correction; (logits at the input size, the state later clicks keep)."""
        enc = self.encode(image, points)
        context = self.refiner.image_context(image, enc["feature"])
        logits_lr = self.correct(image, points, enc["feature"], enc["instances_lr"], context)
        state = {"feature": enc["feature"], "logits_lr": logits_lr, "context": context}
        return resize(logits_lr, image.shape[-2:]), state

    def later_click(self, image: torch.Tensor, points: torch.Tensor, state: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Engineered later click: the correction network alone, from the kept state; (logits at the
        input size, the new low-resolution logits)."""
        logits_lr = self.correct(image, points, state["feature"], state["logits_lr"], state["context"])
        return resize(logits_lr, image.shape[-2:]), logits_lr

    def forward(self, x: torch.Tensor, points: torch.Tensor, cached: dict | None = None):
        """The official ``net(x, points, prev_outputs) -> (outputs, refine_outputs)`` contract."""
        image, _ = _split_input(x)
        size = image.shape[-2:]
        if cached is None:
            enc = self.encode(image, points)
            outputs = {"instances": resize(enc["instances_lr"], size),
                       "instances_aux": resize(enc["instances_aux_lr"], size),
                       "feature": enc["feature"], "instances_lr": enc["instances_lr"]}
        else:
            outputs = cached
        refined_lr = self.correct(image, points, outputs["feature"], outputs["instances_lr"])
        outputs["instances_lr"] = refined_lr
        return outputs, {"instances_refined": resize(refined_lr, size)}
