"""FocalClick's refiner: re-predicts the focus crop from the RGB crop, the clicks, the coarse logits
and the RoI-aligned segmentor feature, and blends with the coarse logits through a learnt trimap."""

from __future__ import annotations

import torch
from torch import nn

from .layers import ConvNormReLU, SepConvBNReLU, resize

MID = 32



class FocalRefiner(nn.Module):
    """Inputs at the crop resolution (256 in evaluation): image in [0, 1], 2 click disks, coarse logits."""

    def __init__(self, feature_dims: int, with_unused_gate: bool = False) -> None:
        super().__init__()
        self.image_conv1 = ConvNormReLU(6, MID, 3, 2, 1)
        self.image_conv2 = SepConvBNReLU(MID, MID)
        self.image_conv3 = SepConvBNReLU(MID, MID)
        self.refine_fusion = ConvNormReLU(feature_dims, MID, 1, 1, 0)
        self.refine_fusion2 = SepConvBNReLU(MID, MID)
        self.refine_fusion3 = SepConvBNReLU(MID, MID)
        if with_unused_gate:  # the SegFormer checkpoints carry this gate; the forward never uses it
            self.feature_gate = nn.Sequential(nn.Conv2d(MID, 1, 1), nn.Sigmoid())
        self.refine_pred = nn.Conv2d(MID, 1, 3, 1, 1)
        self.refine_trimap = nn.Conv2d(MID, 1, 3, 1, 1)

    def forward(self, image: torch.Tensor, click_disks: torch.Tensor, feature: torch.Tensor,
                coarse_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(refined logits, trimap logits), both at the image resolution."""
        x = torch.cat([image, click_disks, torch.sigmoid(coarse_logits)], 1)
        feature = self.refine_fusion(feature)
        x = self.image_conv3(self.image_conv2(self.image_conv1(x)))
        x = resize(feature, x.shape[-2:]) + x
        x = self.refine_fusion3(self.refine_fusion2(x))
        size = image.shape[-2:]
        trimap = resize(self.refine_trimap(x), size)
        pred = resize(self.refine_pred(x), size)
        gate = torch.sigmoid(trimap)
        return pred * gate + coarse_logits * (1 - gate), trimap
