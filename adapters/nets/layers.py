"""Small layers: the click-map scale, conv + norm + ReLU variants, depthwise-separable blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def child(container: nn.Sequential | nn.ModuleList, index: int, kind: type[ModuleT]) -> ModuleT:
    """``container[index]`` as the ``kind`` it is (torch types the children of a container as any
    Module); a TypeError if it is not one."""
    module = container[index]
    if not isinstance(module, kind):
        raise TypeError(f"child {index} of {type(container).__name__} is a {type(module).__name__}, "
                        f"not a {kind.__name__}")
    return module


def children(container: nn.ModuleList, kind: type[ModuleT]) -> list[ModuleT]:
    """Every child of ``container`` as the ``kind`` it is (see ``child``)."""
    return [child(container, i, kind) for i in range(len(container))]


def module_list(slots: Sequence[nn.Module | None]) -> nn.ModuleList:
    """``nn.ModuleList(slots)`` with empty (None) slots, which the official layouts keep so that the
    indices, and with them the checkpoint keys, match. torch types that constructor for modules only;
    ``add_module``, which it calls for every slot, is typed to take None."""
    out = nn.ModuleList()
    for i, module in enumerate(slots):
        out.add_module(str(i), module)
    return out


def resize(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize with ``align_corners=True``, the convention of all three official code bases."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


def half_size(x: torch.Tensor) -> torch.Tensor:
    """Half resolution (FocalClick S1's segmentor input), bilinear with ``align_corners=True``."""
    return F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)


def split_input(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(normalised RGB, previous mask or None) from the official 3- or 4-channel network input."""
    prev = x[:, 3:4] if x.shape[1] > 3 else None
    return normalize_image(x[:, :3]), prev


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

    def _depthwise(self, x: torch.Tensor, channels: slice) -> torch.Tensor:
        """The per-channel part (depthwise conv, BN, depthwise conv) on a channel range only."""
        n = x.shape[1]
        c1, c2, bn = self.conv3x3_1, self.conv3x3_2, self.norm1
        # the convolutions have biases and the norm tracks its statistics (__init__)
        assert c1.bias is not None and c2.bias is not None
        assert bn.running_mean is not None and bn.running_var is not None
        x = F.conv2d(x, c1.weight[channels], c1.bias[channels], padding=1, groups=n)
        x = F.batch_norm(x, bn.running_mean[channels], bn.running_var[channels], bn.weight[channels],
                         bn.bias[channels], False, 0.0, bn.eps)
        return F.conv2d(x, c2.weight[channels], c2.bias[channels], padding=1, groups=n)

    def leading_part(self, x: torch.Tensor) -> torch.Tensor:
        """Contribution of the first ``x.shape[1]`` input channels to the pointwise conv (with its bias).

        The block is per-channel up to the pointwise conv, so when leading channels are constant
        (per-image features) this part can be computed once and reused with ``forward_rest``.
        """
        n = x.shape[1]
        return F.conv2d(self._depthwise(x, slice(0, n)), self.conv1x1.weight[:, :n], self.conv1x1.bias)

    def forward_rest(self, rest: torch.Tensor, leading: torch.Tensor) -> torch.Tensor:
        """``forward(cat([lead, rest], 1))`` given ``leading = leading_part(lead)``."""
        n = self.conv3x3_1.in_channels - rest.shape[1]
        y = leading + F.conv2d(self._depthwise(rest, slice(n, None)), self.conv1x1.weight[:, n:])
        return self.activation(self.norm2(y))


def set_engineered(net: nn.Module, on: bool) -> None:
    """Switch every block of ``net`` that has an engineered formulation (fused kernels, copy-free
    layouts) to it, or back to the official formulation; the arithmetic is the same either way."""
    for module in net.modules():
        if hasattr(type(module), "engineered"):
            # a plain bool attribute: torch declares Module.__setattr__ for tensors and modules only
            module.engineered = on  # type: ignore[assignment]


def click_map_transform(in_channels: int) -> nn.Sequential:
    """Conv1S: 1x1 conv -> LeakyReLU(0.2) -> 3x3 stride-2 conv -> scale, added to the HRNet stem."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, kernel_size=1),
        nn.LeakyReLU(negative_slope=0.2),
        nn.Conv2d(16, 64, kernel_size=3, stride=2, padding=1),
        ScaleLayer(0.05),
    )
