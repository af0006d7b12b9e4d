"""RoIAlign with ``aligned=True`` semantics (He et al., as torchvision implements it), in plain torch.

torchvision is not a dependency here. Each output bin averages bilinear samples on an adaptive
grid (``ceil(roi_size / output_size)`` per axis); with ``aligned=True`` box coordinates are shifted
by half a pixel so that pixel centres line up. Samples more than one pixel outside the map are 0;
samples within that margin are clamped to the border, as torchvision does.
"""

from __future__ import annotations

import math

import torch


def _axis_samples(start: torch.Tensor, size: torch.Tensor, bins: int, grid: int) -> torch.Tensor:
    """Sample coordinates along one axis, (bins * grid,) bin-major, in float32 as torchvision."""
    bin_size = size / bins
    p = torch.arange(bins, dtype=torch.float32, device=start.device)[:, None]
    i = torch.arange(grid, dtype=torch.float32, device=start.device)[None, :]
    return (start + p * bin_size + (i + 0.5) * bin_size / grid).reshape(-1)


def _axis_interp(coords: torch.Tensor, length: int):
    """(low index, high index, weight of low, weight of high, in-range) with torchvision's border rules."""
    valid = (coords >= -1.0) & (coords <= length)
    c = coords.clamp(min=0.0)
    low = c.long()
    at_end = low >= length - 1
    low = torch.where(at_end, torch.full_like(low, length - 1), low)
    high = torch.where(at_end, low, low + 1)
    c = torch.where(at_end, low.to(c.dtype), c)
    frac = c - low.to(c.dtype)
    return low, high, 1.0 - frac, frac, valid


def roi_align(features: torch.Tensor, boxes: torch.Tensor, output_size: tuple[int, int],
              spatial_scale: float) -> torch.Tensor:
    """``features`` (N, C, H, W), ``boxes`` (K, 5) rows ``[batch_index, x1, y1, x2, y2]`` -> (K, C, oh, ow)."""
    oh, ow = output_size
    _, c, h, w = features.shape
    boxes = boxes.to(torch.float32)
    outputs = []
    for row in boxes:
        b = int(row[0])
        x1, y1, x2, y2 = (row[k] * spatial_scale - 0.5 for k in range(1, 5))
        rh, rw = y2 - y1, x2 - x1
        gh, gw = max(1, math.ceil(float(rh) / oh)), max(1, math.ceil(float(rw) / ow))
        ylo, yhi, hy, ly, yok = _axis_interp(_axis_samples(y1, rh, oh, gh), h)
        xlo, xhi, hx, lx, xok = _axis_interp(_axis_samples(x1, rw, ow, gw), w)
        ok = (yok[:, None] & xok[None, :]).to(features.dtype)
        fmap = features[b]
        top, bottom = fmap[:, ylo], fmap[:, yhi]
        val = ((hy[:, None] * hx[None, :]) * top[:, :, xlo] + (hy[:, None] * lx[None, :]) * top[:, :, xhi]
               + (ly[:, None] * hx[None, :]) * bottom[:, :, xlo] + (ly[:, None] * lx[None, :]) * bottom[:, :, xhi])
        val = val * ok
        outputs.append(val.reshape(c, oh, gh, ow, gw).sum(dim=(2, 4)) / (gh * gw))
    return torch.stack(outputs) if outputs else features.new_zeros((0, c, oh, ow))
