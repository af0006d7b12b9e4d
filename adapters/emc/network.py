"""EMC-Click's network: a base network (HRNet-OCR or SegFormer) on the first click only, then the
mask correction network, with the official module layout.

``forward`` is the official contract: a 4-channel tensor (RGB in [0, 1] and the previous
probability map) and the points tensor of ``nets.clicks.points_tensor``, normalising inside and
returning every output the official network returns (the official-arithmetic predictor calls it);
the other methods are the lean steps the engineered predictor calls. ``encode`` runs on the first
click, ``correct`` after.
"""

from __future__ import annotations

import torch
from torch import nn

from ..calibration import ClickInput, LogitHead
from ..nets.clicks import disk_maps, first_click_only, squared_distance_maps
from ..nets.emc_refiner import MaskCorrection
from ..nets.hrnet import HRNET, HRNetOCR
from ..nets.layers import click_map_transform, resize, split_input
from ..nets.segformer import MIT, SegFormer

CLICK_RADIUS = 5  # the click disks of the base and the correction network


class EMCNet(nn.Module):
    """EMC-Click: a base network on the first click only, then the mask correction network.

    ``encode`` runs the base network on click #0 alone (its disk, radius 5; the previous mask is
    not an input) and returns what later clicks reuse; ``correct`` runs only the correction network.
    """

    feature_extractor: SegFormer | HRNetOCR  # the base network (``is_segformer``: which)

    def __init__(self, backbone: str, mid: int, corr: int) -> None:
        super().__init__()
        self.is_segformer = backbone.startswith("segformer")
        if self.is_segformer:
            version = backbone.split("-")[1]
            self.feature_extractor = SegFormer(version, side_channels=1, with_unused_norm_add=True)
            feature_dims = MIT[version].decoder_dim
        else:
            self.maps_transform = click_map_transform(1)
            self.feature_extractor = HRNetOCR.named(backbone)
            feature_dims = 2 * HRNET[backbone].ocr_width
        self.refiner = MaskCorrection(feature_dims, mid, corr)

    def click_inputs(self) -> tuple[ClickInput, ...]:
        """The click disks' weights (``calibration``): the base network's one disk; the correction
        network's two disks, channels 3-4 of its input, 16 channels each after the 4x4 pixel unshuffle."""
        base = f"feature_extractor.{self.feature_extractor.side_layer}" if self.is_segformer else "maps_transform.0"
        return ClickInput(base, (0,)), ClickInput("refiner.image_conv1.1.conv3x3_1", tuple(range(3 * 16, 5 * 16)))

    def logit_heads(self) -> tuple[LogitHead, ...]:
        """The layers that make the base and the corrected logits, in data-flow order (``calibration``)."""
        return (LogitHead(f"feature_extractor.{self.feature_extractor.logits_layer}"), LogitHead("refiner.refine_pred"))

    def base_parameters(self) -> list[nn.Parameter]:
        """Parameters of the first-click network (everything but the correction network)."""
        refiner = {id(p) for p in self.refiner.parameters()}
        return [p for p in self.parameters() if id(p) not in refiner]

    def encode(self, image: torch.Tensor, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """Base network on click #0: logits and aux logits (stride 4) and the feature."""
        first_disk = disk_maps(squared_distance_maps(first_click_only(points), *image.shape[-2:]),
                               CLICK_RADIUS)[:, :1]
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
        return self.refiner(image, disk_maps(sq, CLICK_RADIUS), feature, resize(logits_lr, image.shape[-2:]),
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
        image, _ = split_input(x)
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
