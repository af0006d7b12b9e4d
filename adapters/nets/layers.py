"""Small layers: the click-map scale, conv + norm + ReLU variants, depthwise-separable blocks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize with ``align_corners=True``, the convention of all three official code bases."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


def normalize_image(image: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] -> ImageNet-normalised, as every model does before its backbone."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image - mean) / std


class ScaleLayer(nn.Module):
    """Multiplies by the absolute value of one learnt scalar (the click-map gain)."""

    def __init__(self, init_value: float = 0.05) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), init_value, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.abs(self.scale)


class ConvNormReLU(nn.Module):
    """Conv (with bias) -> BatchNorm (``norm``) -> ReLU: the refiners' ConvModule."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding)
        self.norm = nn.BatchNorm2d(cout)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.norm(self.conv(x)))


class ConvBNReLU(nn.Module):
    """Conv (no bias) -> BatchNorm (``bn``) -> ReLU: mmcv's ConvModule as SegFormer's decoder uses it."""

    def __init__(self, cin: int, cout: int, kernel: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class SepConvBNReLU(nn.Module):
    """Depthwise 3x3 -> pointwise 1x1 -> BN -> ReLU (FocalClick's XConvBnRelu)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv3x3 = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin)
        self.conv1x1 = nn.Conv2d(cin, cout, 1, 1, 0)
        self.norm = nn.BatchNorm2d(cout)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.norm(self.conv1x1(self.conv3x3(x))))


class SepConv2BNReLU(nn.Module):
    """Depthwise 3x3 -> BN -> depthwise 3x3 -> pointwise 1x1 -> BN -> ReLU (EMC-Click's XConvBnRelu2)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv3x3_1 = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin)
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv3x3_2 = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin)
        self.conv1x1 = nn.Conv2d(cin, cout, 1, 1, 0)
        self.norm2 = nn.BatchNorm2d(cout)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(self.conv3x3_1(x))
        return self.activation(self.norm2(self.conv1x1(self.conv3x3_2(x))))


def click_map_transform(in_channels: int) -> nn.Sequential:
    """Conv1S: 1x1 conv -> LeakyReLU(0.2) -> 3x3 stride-2 conv -> scale, added to the HRNet stem."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, kernel_size=1),
        nn.LeakyReLU(negative_slope=0.2),
        nn.Conv2d(16, 64, kernel_size=3, stride=2, padding=1),
        ScaleLayer(0.05),
    )
