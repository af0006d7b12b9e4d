"""The tiny network: image (3), positive and negative click disks (2) and the previous mask (1) in,
object logits out, at the input's resolution."""

import torch
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(6, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, 1, 1))

    def forward(self, image: torch.Tensor, disks: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([image, disks, prev], 1))
