"""HRNet (Wang et al.) with the OCR head (Yuan et al.), in the three sizes the papers use.

``HRNetOCR(width=18, ocr_width=48, small=True)`` is hrnet18s, ``(18, 64, False)`` hrnet18 and
``(32, 128, False)`` hrnet32. The click-map features are added to the stem after its first conv.
Outputs: object logits and auxiliary (soft region) logits at stride 4, and the OCR feature map.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import children, module_list, resize


def _bn_relu(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())



class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


def _blocks(block: type[BasicBlock | Bottleneck], cin: int, planes: int, count: int) -> nn.Sequential:
    downsample: nn.Module | None = None
    if cin != planes * block.expansion:
        downsample = nn.Sequential(nn.Conv2d(cin, planes * block.expansion, 1, bias=False),
                                   nn.BatchNorm2d(planes * block.expansion))
    layers = [block(cin, planes, downsample=downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, count)]
    return nn.Sequential(*layers)


def _down_chain(cin: int, cout: int, steps: int) -> nn.Sequential:
    """``steps`` stride-2 3x3 convs from branch j to branch i (ReLU after all but the last)."""
    convs = []
    for k in range(steps):
        last = k == steps - 1
        out = cout if last else cin
        layers = [nn.Conv2d(cin, out, 3, 2, 1, bias=False), nn.BatchNorm2d(out)]
        if not last:
            layers.append(nn.ReLU())
        convs.append(nn.Sequential(*layers))
    return nn.Sequential(*convs)


class HighResolutionModule(nn.Module):
    """Parallel branches of basic blocks, then every branch fused into every other."""

    def __init__(self, channels: list[int], blocks_per_branch: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList(_blocks(BasicBlock, c, c, blocks_per_branch) for c in channels)
        fuse = []
        for i, ci in enumerate(channels):
            row: list[nn.Module | None] = []  # None: a branch is not fused into itself
            for j, cj in enumerate(channels):
                if j > i:
                    row.append(nn.Sequential(nn.Conv2d(cj, ci, 1, bias=False), nn.BatchNorm2d(ci)))
                elif j == i:
                    row.append(None)
                else:
                    row.append(_down_chain(cj, ci, i - j))
            fuse.append(module_list(row))
        self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU()

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(children(self.fuse_layers, nn.ModuleList)):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, len(xs)):
                if j == i:
                    y = y + xs[j]
                elif j > i:
                    y = y + resize(row[j](xs[j]), xs[i].shape[-2:])
                else:
                    y = y + row[j](xs[j])
            out.append(self.relu(y))
        return out


class ObjectAttentionBlock(nn.Module):
    """OCR's pixel-to-object-region attention (scale 1)."""

    def __init__(self, channels: int, key_channels: int) -> None:
        super().__init__()
        self.key_channels = key_channels

        def proj(cin: int, cout: int, depth: int) -> nn.Sequential:
            layers: list[nn.Module] = []
            for k in range(depth):
                layers += [nn.Conv2d(cin if k == 0 else cout, cout, 1, bias=False), _bn_relu(cout)]
            return nn.Sequential(*layers)

        self.f_pixel = proj(channels, key_channels, 2)
        self.f_object = proj(channels, key_channels, 2)
        self.f_down = proj(channels, key_channels, 1)
        self.f_up = proj(key_channels, channels, 1)

    def forward(self, x: torch.Tensor, proxy: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        query = self.f_pixel(x).view(b, self.key_channels, -1).permute(0, 2, 1)
        key = self.f_object(proxy).view(b, self.key_channels, -1)
        value = self.f_down(proxy).view(b, self.key_channels, -1).permute(0, 2, 1)
        sim = F.softmax((self.key_channels ** -0.5) * torch.matmul(query, key), dim=-1)
        context = torch.matmul(sim, value).permute(0, 2, 1).contiguous().view(b, self.key_channels, h, w)
        return self.f_up(context)


class SpatialOCR(nn.Module):
    def __init__(self, channels: int, key_channels: int) -> None:
        super().__init__()
        self.object_context_block = ObjectAttentionBlock(channels, key_channels)
        self.conv_bn_dropout = nn.Sequential(nn.Conv2d(2 * channels, channels, 1, bias=False),
                                             _bn_relu(channels), nn.Dropout2d(0.05))

    def forward(self, feats: torch.Tensor, proxy: torch.Tensor) -> torch.Tensor:
        context = self.object_context_block(feats, proxy)
        return self.conv_bn_dropout(torch.cat([context, feats], 1))


def gather_object_context(feats: torch.Tensor, region_logits: torch.Tensor) -> torch.Tensor:
    """Soft object representation: features pooled with the spatial softmax of the region logits."""
    b, k = region_logits.shape[:2]
    probs = F.softmax(region_logits.view(b, k, -1), dim=2)
    pooled = torch.matmul(probs, feats.view(b, feats.shape[1], -1).permute(0, 2, 1))
    return pooled.permute(0, 2, 1).unsqueeze(3)


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


class HRNetOCR(nn.Module):
    """The segmentation backbone of RITM, FocalClick and EMC-Click (HRNet variants)."""

    @classmethod
    def named(cls, backbone: str) -> HRNetOCR:
        """``hrnet18s``, ``hrnet18`` or ``hrnet32``."""
        size = HRNET[backbone]
        return cls(size.width, size.ocr_width, size.small)

    logits_layer = "cls_head"  # the layer that makes the object logits

    def __init__(self, width: int, ocr_width: int, small: bool) -> None:
        super().__init__()
        nb = 2 if small else 4
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.layer1 = _blocks(Bottleneck, 64, 64, nb)
        widths = [width, 2 * width, 4 * width, 8 * width]
        self.transition1 = nn.ModuleList([
            nn.Sequential(nn.Conv2d(256, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()),
            self._new_branch(256, widths[1]),
        ])
        self.stage2 = nn.Sequential(*[HighResolutionModule(widths[:2], nb) for _ in range(1)])
        self.transition2 = module_list([None, None, self._new_branch(widths[1], widths[2])])
        self.stage3 = nn.Sequential(*[HighResolutionModule(widths[:3], nb) for _ in range(3 if small else 4)])
        self.transition3 = module_list([None, None, None, self._new_branch(widths[2], widths[3])])
        self.stage4 = nn.Sequential(*[HighResolutionModule(widths, nb) for _ in range(2 if small else 3)])
        total = sum(widths)
        mid = 2 * ocr_width
        self.conv3x3_ocr = nn.Sequential(nn.Conv2d(total, mid, 3, 1, 1), nn.BatchNorm2d(mid), nn.ReLU())
        self.ocr_distri_head = SpatialOCR(mid, ocr_width)
        self.cls_head = nn.Conv2d(mid, 1, 1)
        self.aux_head = nn.Sequential(nn.Conv2d(total, total, 1), nn.BatchNorm2d(total), nn.ReLU(),
                                      nn.Conv2d(total, 1, 1))

    @staticmethod
    def _new_branch(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()))

    def stem(self, image: torch.Tensor) -> torch.Tensor:
        """The first conv of the stem sees the image alone (clicks are added after it): reusable
        while the image input repeats."""
        return self.relu(self.bn1(self.conv1(image)))

    def forward(self, image: torch.Tensor, click_features: torch.Tensor | None = None,
                stem: torch.Tensor | None = None):
        """(logits, aux logits, OCR feature), all at stride 4 of ``image``; ``stem`` is
        ``stem(image)`` when the caller kept it."""
        x = self.stem(image) if stem is None else stem
        if click_features is not None:
            x = x + click_features
        x = self.layer1(self.relu(self.bn2(self.conv2(x))))
        ys = self.stage2([self.transition1[0](x), self.transition1[1](x)])
        ys = self.stage3(ys + [self.transition2[2](ys[-1])])
        ys = self.stage4(ys + [self.transition3[3](ys[-1])])
        size = ys[0].shape[-2:]
        feats = torch.cat([ys[0]] + [resize(y, size) for y in ys[1:]], 1)
        aux = self.aux_head(feats)
        feats = self.conv3x3_ocr(feats)
        feats = self.ocr_distri_head(feats, gather_object_context(feats, aux))
        return self.cls_head(feats), aux, feats
