"""What every deep adapter shares: the variant it runs, its weights (official or seeded random),
input checks, inference mode, and its self-description."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from iseg_bench.clicker import Click
from iseg_bench.predictor import MethodInfo, Predictor
from iseg_bench.protocol import Protocol

from .nets.clicks import points_tensor
from iseg_bench.files import sha256_file

from .weights import (OFFICIAL, WeightsError, WeightsSpec, checkpoint_origin, find_weights, load_into,
                      read_state_dict, seeded_init)


@dataclass(frozen=True)
class Variant:
    """One registered network: ``build()`` makes it, ``weights`` says where the official file is."""

    name: str
    family: str
    backbone: str
    build: Callable[[], nn.Module]
    weights: WeightsSpec
    golden: str  # name of the reference key list in ../shared/golden
    stage: str = ""


class DeepPredictor(Predictor):
    """Base of the RITM, FocalClick and EMC-Click adapters.

    Official weights are loaded when found (``weights=`` file or folder, ``$ISEG_BENCH_WEIGHTS``, or
    the cache); otherwise the network runs with seeded random weights and says so everywhere.
    """

    uses_weights = True
    min_side = 16
    default_flip = False

    def __init__(self, variant: str | Variant, weights: str | Path | None = None, seed: int = 0) -> None:
        if isinstance(variant, str):
            from .variants import VARIANTS

            variant = VARIANTS[variant]
        self.variant = variant
        self.name = variant.name
        self.family = variant.family
        self.net = variant.build().eval()
        path = find_weights(variant.name, variant.weights, weights)
        if path is None and weights is not None and not Path(weights).is_dir():
            raise WeightsError(f"--weights {weights}: no such file or folder")
        if path is not None:
            load_into(self.net, read_state_dict(path), str(path), variant.name)
            digest = sha256_file(path)
            self.weights_id, self.trained = f"sha256:{digest[:16]}", True
            self.origin = checkpoint_origin(digest, variant.weights)
            self.weights_path: Path | None = path
        else:
            seeded_init(self.net, seed)
            self.weights_id, self.trained, self.origin = f"random-init:{variant.name}:seed{seed}", False, "random-init"
            self.weights_path = None
        for p in self.net.parameters():
            p.requires_grad_(False)
        # channels-last layout: same arithmetic, and 3-10x faster depthwise convolutions on CPU
        self.net = self.net.to(memory_format=torch.channels_last)
        self.flip = self.default_flip
        self.image: torch.Tensor | None = None

    # -- protocol and inputs --------------------------------------------------------------------

    def prepare(self, protocol: Protocol, dataset: str) -> None:
        self.flip = self.default_flip if protocol.flip_tta is None else protocol.flip_tta
        self.configure_size(protocol.input_size, dataset)

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        """Adopt the protocol's input size (None: the method's published rule for ``dataset``)."""

    def reset(self) -> None:
        self.image = None

    def set_image(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"{self.name} expects an RGB uint8 image of shape (H, W, 3), got {desc}")
        h, w = image.shape[:2]
        if min(h, w) < self.min_side:
            raise ValueError(f"{self.name}: image {w}x{h} is smaller than the network's minimum side of "
                             f"{self.min_side} px")
        self.image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        self.on_image()

    def on_image(self) -> None:
        """Per-image preparation after ``set_image`` (caches)."""

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        if self.image is None:
            raise RuntimeError(f"{self.name}: predict() called before set_image()")
        with torch.inference_mode():
            return self.infer(clicks).numpy()

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        """Probabilities (H, W) for the current image and clicks."""
        raise NotImplementedError

    # -- description ----------------------------------------------------------------------------

    def input_size(self) -> str:
        return "native"

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def describe(self) -> MethodInfo:
        return MethodInfo(name=self.name, family=self.family, weights=self.weights_id, trained=self.trained,
                          params=self.parameter_count(), input_size=self.input_size(),
                          capabilities=self.capabilities, notes=self._weights_note(), origin=self.origin)

    def _weights_note(self) -> str:
        spec = self.variant.weights
        if not self.trained:
            return (f"no checkpoint found: get {spec.file_name} from {spec.source} and pass --weights or put it "
                    f"in $ISEG_BENCH_WEIGHTS (see `iseg-bench weights`)")
        if self.origin == OFFICIAL:
            return f"official weights {self.weights_path.name} (SHA-256 equals the published file's)"
        why = ("differs from the published official file's" if spec.sha256 else
               "cannot be checked: no SHA-256 of the official file is published")
        return f"user checkpoint {self.weights_path.name}: trained, origin unverified (its SHA-256 {why})"


class PhaseModule(nn.Module):
    """Wraps one phase's computation as a module (fvcore traces modules; timing calls it)."""

    def __init__(self, net: nn.Module, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.net = net
        self.fn = fn

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.fn(*inputs)


def sample_clicks(height: int, width: int, count: int) -> list[tuple[float, float, bool, int]]:
    """A fixed, representative click set for cost measurements: click 0 positive at the centre,
    then alternating negative/positive clicks on a ring around it."""
    rows = [(height / 2, width / 2, True, 0)]
    for i in range(1, count):
        angle = 2.0 * np.pi * i / max(1, count - 1)
        rows.append((height / 2 + 0.3 * height * np.sin(angle), width / 2 + 0.3 * width * np.cos(angle), i % 2 == 0, i))
    return [(float(int(y)), float(int(x)), p, i) for y, x, p, i in rows]


def batch_points(rows, width: int, flip: bool) -> torch.Tensor:
    """Points of the rows, plus their mirror image when flip TTA doubles the batch."""
    lists = [rows] + ([[(y, width - x - 1, p, i) for y, x, p, i in rows]] if flip else [])
    return points_tensor(lists)


def random_input(batch: int, channels: int, height: int, width: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return channels_last(torch.rand(batch, channels, height, width, generator=gen))


LATER_CLICKS = 5  # clicks in the representative later-click state (3 positive, 2 negative)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """The network input in the layout the network's weights use."""
    return x.contiguous(memory_format=torch.channels_last)


def click_rows(clicks: Sequence[Click], scale_y: float = 1.0, scale_x: float = 1.0,
               flip_width: int | None = None) -> list[tuple[float, float, bool, int]]:
    """Clicks as ``(y, x, positive, index)`` rows, scaled and optionally mirrored (x' = W - x - 1)."""
    rows = []
    for c in clicks:
        y, x = c.y * scale_y, c.x * scale_x
        if flip_width is not None:
            x = flip_width - x - 1
        rows.append((y, x, c.is_positive, c.index))
    return rows

