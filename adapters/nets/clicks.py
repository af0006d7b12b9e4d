"""Clicks as network input: the points tensor and the disk / squared-distance maps.

The points layout is the official one: ``[B, 2N, 3]``, N positive rows ``(y, x, index)`` padded
with ``(-1, -1, -1)``, then N negative rows. The maps reproduce the official DistMaps arithmetic
(float32 ``(r - y)^2 + (c - x)^2``, 1e6 for padding, minimum over the clicks of each polarity).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

PAD = (-1.0, -1.0, -1.0)
INVALID_DISTANCE = 1e6


def points_tensor(click_lists: Sequence[Sequence[tuple[float, float, bool, int]]],
                  limit: int | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """``[B, 2N, 3]`` float32 on ``device`` from per-batch lists of ``(y, x, is_positive, index)``."""
    lists = [list(c)[:limit] if limit else list(c) for c in click_lists]
    n = max([sum(p for _, _, p, _ in c) for c in lists] + [sum(not p for _, _, p, _ in c) for c in lists])
    n = max(1, min(n, limit) if limit else n)
    rows = []
    for clicks in lists:
        pos = [(y, x, i) for y, x, p, i in clicks if p]
        neg = [(y, x, i) for y, x, p, i in clicks if not p]
        rows.append(pos + [PAD] * (n - len(pos)) + neg + [PAD] * (n - len(neg)))
    return torch.tensor(rows, dtype=torch.float32, device=device)


def squared_distance_maps(points: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``[B, 2, H, W]``: squared distance of every pixel to the nearest positive / negative click.

    A padding row counts as a click at squared distance 1e6 everywhere, as in the official code
    (it matters only for pixels more than 1000 px from every real click).
    """
    b, two_n, _ = points.shape
    n = two_n // 2
    rows = torch.arange(height, dtype=torch.float32, device=points.device).view(-1, 1)
    cols = torch.arange(width, dtype=torch.float32, device=points.device).view(1, -1)
    out = torch.full((b, 2, height, width), float("inf"), dtype=torch.float32, device=points.device)
    for bi in range(b):
        for j in range(two_n):
            y, x = float(points[bi, j, 0]), float(points[bi, j, 1])
            target = out[bi, j // n]
            if max(y, x) < 0:
                target.clamp_(max=INVALID_DISTANCE)
                continue
            ty = torch.tensor(y, dtype=torch.float32, device=points.device)
            tx = torch.tensor(x, dtype=torch.float32, device=points.device)
            torch.minimum(target, (rows - ty) ** 2 + (cols - tx) ** 2, out=target)
    return out


def disk_maps(sq_dist: torch.Tensor, radius: float) -> torch.Tensor:
    """1 inside a click's disk (squared distance <= radius^2), else 0."""
    return (sq_dist <= radius ** 2).float()


def first_click_only(points: torch.Tensor) -> torch.Tensor:
    """Points with every click but index 0 turned into padding (EMC-Click's backbone input)."""
    out = points.clone()
    out[out[:, :, 2] > 0] = -1
    return out
