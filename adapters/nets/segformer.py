"""SegFormer (Xie et al.): the Mix Transformer encoder and the all-MLP decoder, MiT-b0 and MiT-b3.

Clicks enter through a side patch embedding (7x7, stride 4) whose output is added to the stage-1
output before stage 2; the un-added stage-1 map is what the decoder sees. ``feature`` is the fused
decoder map (256 channels for b0, 512 for b3) at stride 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ConvBNReLU

BLOCK_EPS = 1e-6  # the blocks' and stage norms' LayerNorm epsilon (patch embeddings keep 1e-5)


def to_tokens(x: torch.Tensor, engineered: bool) -> torch.Tensor:
    """(B, C, H, W) -> (B, HW, C). Engineered: a view of a channels-last map (no copy); official:
    the official ``flatten(2).transpose(1, 2)``."""
    b, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, h * w, c) if engineered else x.flatten(2).transpose(1, 2)


def to_map(tokens: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, HW, C) -> (B, C, H, W), a channels-last view of the tokens."""
    return tokens.reshape(tokens.shape[0], h, w, -1).permute(0, 3, 1, 2)


@dataclass(frozen=True)
class MiTConfig:
    dims: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]
    heads: tuple[int, int, int, int] = (1, 2, 5, 8)
    sr_ratios: tuple[int, int, int, int] = (8, 4, 2, 1)
    decoder_dim: int = 256


MIT = {
    "b0": MiTConfig(dims=(32, 64, 160, 256), depths=(2, 2, 2, 2), decoder_dim=256),
    "b3": MiTConfig(dims=(64, 128, 320, 512), depths=(3, 4, 18, 3), decoder_dim=512),
}


class OverlapPatchEmbed(nn.Module):
    engineered = True  # see ``to_tokens``

    def __init__(self, cin: int, dim: int, patch: int, stride: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, patch, stride, patch // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.norm(to_tokens(x, self.engineered)), h, w


class EfficientAttention(nn.Module):
    """Multi-head self-attention with keys/values from a spatially reduced map (sr_ratio).

    ``engineered``: the attention product through ``scaled_dot_product_attention`` (the same scale
    and softmax in one kernel); off, the explicit ``softmax(q k^T * scale) v`` of the official code.
    """

    engineered = True

    def __init__(self, dim: int, heads: int, sr_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim, dim)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
        if self.sr_ratio > 1:
            if self.engineered:
                reduced = to_tokens(self.sr(to_map(x, h, w)), True)
            else:
                reduced = self.sr(x.permute(0, 2, 1).reshape(b, c, h, w)).reshape(b, c, -1).permute(0, 2, 1)
            x = self.norm(reduced)
        kv = self.kv(x).reshape(b, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if self.engineered:
            out = F.scaled_dot_product_attention(q, kv[0], kv[1], scale=self.scale)
        else:
            out = ((q @ kv[0].transpose(-2, -1)) * self.scale).softmax(dim=-1) @ kv[1]
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class DepthwiseConv(nn.Module):
    engineered = True  # see ``to_tokens``

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(b, c, h, w))
        return to_tokens(x, self.engineered)


class MixFFN(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DepthwiseConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return self.fc2(self.act(self.dwconv(self.fc1(x), h, w)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, sr_ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=BLOCK_EPS)
        self.attn = EfficientAttention(dim, heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim, eps=BLOCK_EPS)
        self.mlp = MixFFN(dim, 4 * dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class MixVisionTransformer(nn.Module):
    """MiT encoder; ``side_channels`` is the number of click-map channels of the side embedding."""

    def __init__(self, cfg: MiTConfig, side_channels: int, with_unused_norm_add: bool) -> None:
        super().__init__()
        d = cfg.dims
        self.patch_embed1 = OverlapPatchEmbed(3, d[0], 7, 4)
        self.patch_embed2 = OverlapPatchEmbed(d[0], d[1], 3, 2)
        self.patch_embed3 = OverlapPatchEmbed(d[1], d[2], 3, 2)
        self.patch_embed4 = OverlapPatchEmbed(d[2], d[3], 3, 2)
        self.patch_embed_side1 = OverlapPatchEmbed(side_channels, d[0], 7, 4)
        if with_unused_norm_add:  # EMC-Click registers it (its checkpoints hold it) but never uses it
            self.norm_add = nn.LayerNorm(d[0], eps=BLOCK_EPS)
        for i in range(4):
            blocks = nn.ModuleList(Block(d[i], cfg.heads[i], cfg.sr_ratios[i]) for _ in range(cfg.depths[i]))
            self.add_module(f"block{i + 1}", blocks)
            self.add_module(f"norm{i + 1}", nn.LayerNorm(d[i], eps=BLOCK_EPS))

    engineered = True  # engineered: stage outputs stay channels-last views; official: made contiguous

    def _stage(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Stage ``i`` (1-4): patch embedding, transformer blocks, norm; a (B, C, H, W) map."""
        tokens, h, w = getattr(self, f"patch_embed{i}")(x)
        for blk in getattr(self, f"block{i}"):
            tokens = blk(tokens, h, w)
        out = to_map(getattr(self, f"norm{i}")(tokens), h, w)
        return out if self.engineered else out.contiguous()

    def first_stage(self, image: torch.Tensor) -> torch.Tensor:
        """Stage 1 sees the image alone (clicks join after it): reusable while the image input repeats."""
        return self._stage(1, image)

    def forward(self, image: torch.Tensor, side: torch.Tensor | None,
                stage1: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The four stage outputs; ``stage1`` is ``first_stage(image)`` when the caller kept it."""
        outs = [self.first_stage(image) if stage1 is None else stage1]
        x = outs[0]
        if side is not None:
            tokens, h, w = self.patch_embed_side1(side)
            x = x + to_map(tokens, h, w)
        for i in range(2, 5):
            x = self._stage(i, x)
            outs.append(x)
        return outs


class LinearEmbed(nn.Module):
    engineered = True  # engineered: a channels-last view of the tokens; official: a reshaped copy

    def __init__(self, cin: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(cin, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        tokens = self.proj(to_tokens(x, self.engineered))
        return to_map(tokens, h, w) if self.engineered else tokens.permute(0, 2, 1).reshape(b, -1, h, w)


class SegFormerHead(nn.Module):
    """All-MLP decoder: per-scale linear embeddings, upsampled to stride 4, fused, classified."""

    def __init__(self, dims: tuple[int, ...], dim: int) -> None:
        super().__init__()
        for i in (4, 3, 2, 1):
            self.add_module(f"linear_c{i}", LinearEmbed(dims[i - 1], dim))
        self.linear_fuse = ConvBNReLU(4 * dim, dim, 1)
        self.dropout = nn.Dropout2d(0.1)
        self.linear_pred = nn.Conv2d(dim, 1, 1)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        size = feats[0].shape[-2:]
        maps = []
        for i in (4, 3, 2, 1):
            m = getattr(self, f"linear_c{i}")(feats[i - 1])
            if i > 1:
                m = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            maps.append(m)
        feature = self.dropout(self.linear_fuse(torch.cat(maps, dim=1)))
        return self.linear_pred(feature), feature


class SegFormer(nn.Module):
    """Encoder + decoder: (logits at stride 4, fused feature)."""

    logits_layer = "decode_head.linear_pred"  # the layer that makes the object logits
    side_layer = "backbone.patch_embed_side1.proj"  # the layer that reads the click maps

    def __init__(self, version: str, side_channels: int, with_unused_norm_add: bool = False) -> None:
        super().__init__()
        cfg = MIT[version]
        self.backbone = MixVisionTransformer(cfg, side_channels, with_unused_norm_add)
        self.decode_head = SegFormerHead(cfg.dims, cfg.decoder_dim)

    def forward(self, image: torch.Tensor, side: torch.Tensor | None = None, stage1: torch.Tensor | None = None):
        return self.decode_head(self.backbone(image, side, stage1))
