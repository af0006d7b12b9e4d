"""What every deep adapter shares: the variant it runs, its weights (official, user or seeded
random), its implementation, input checks, the network boundary, and its self-description.

Two implementations of every family give the same outputs (to about 1e-6):

- ``engineered`` (the default): the same engineering for every family wherever it applies --
  inference mode, channels-last layout, fused attention kernels, work that depends on the image
  alone done once per image or per crop (normalisation, resizing, flipping, the network's
  image-only first stage) and no output computed that the predictor does not use;
- ``official``: exactly the per-click work of the official predictor (``torch.no_grad``, NCHW,
  explicit attention, the whole input re-prepared and every network output recomputed at every
  click, the official code's redundant resizes included), to measure what the published code costs.

Every call into a network goes through ``DeepPredictor.network``: that is the "network alone"
boundary, the same for every family and both implementations (network-resolution tensors in,
logits at the network's input resolution out); everything else in ``predict`` is pre- and
post-processing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from iseg_bench.atomic_files import sha256_file
from iseg_bench.click_strategies import make_clicker
from iseg_bench.clicker import Click
from iseg_bench.device import synchronize
from iseg_bench.predictor import IMPLEMENTATIONS, CostPhase, MethodInfo, Predictor
from iseg_bench.protocol import Protocol
from iseg_bench.steering import Surrogate

from .calibration import CALIBRATED, calibrated_state, requested_seed, weights_identity
from .family import VARIANTS, Variant
from .nets.clicks import points_tensor
from .nets.layers import set_engineered
from .weights import OFFICIAL, WeightsError, checkpoint_origin, find_weights, load_into, read_state_dict, seeded_init

ENGINEERED, OFFICIAL_ARITHMETIC = IMPLEMENTATIONS
LATER_CLICK = 5  # the click whose network work stands for "later clicks" in cost_phases


@dataclass
class NetworkCall:
    """One recorded call into a network: the function, its arguments and what it returned (tensors cloned)."""

    fn: Callable
    args: tuple
    result: object = None


class DeepPredictor(Predictor):
    """Base of the RITM, FocalClick and EMC-Click adapters.

    Official weights are loaded when found (``weights=`` file or folder, ``$ISEG_BENCH_WEIGHTS``, or
    the cache); otherwise the network runs with seeded random weights and says so everywhere.
    Subclasses implement ``infer`` (engineered) and ``infer_official`` and call every network
    through ``network``.
    """

    uses_weights = True
    implementations = IMPLEMENTATIONS
    devices = ("cpu", "cuda")
    min_side = 16
    default_flip = False
    phase_parts = {"first": "", "later": ""}  # what runs in each click phase, for the reports

    def __init__(self, variant: str | Variant, weights: str | Path | None = None, seed: int = 0,
                 implementation: str = ENGINEERED, device: str = "cpu") -> None:
        if isinstance(variant, str):
            variant = VARIANTS[variant]
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"unknown implementation {implementation!r}; choose one of {', '.join(IMPLEMENTATIONS)}")
        self.variant = variant
        self.name = variant.name
        self.family = variant.family
        self.implementation = implementation
        self.official = implementation == OFFICIAL_ARITHMETIC
        self.net = variant.build().eval()
        calibrated = requested_seed(weights)
        path = None if calibrated is not None else find_weights(variant.name, variant.weights, weights)
        if path is None and calibrated is None and weights is not None and not Path(weights).is_dir():
            raise WeightsError(f"--weights {weights}: no such file or folder")
        if calibrated is not None:
            self.net.load_state_dict(calibrated_state(type(self), variant, calibrated))
            self.weights_id, self.trained, self.origin = weights_identity(variant.name, calibrated), False, CALIBRATED
            self.weights_path: Path | None = None  # the checkpoint file, when one is loaded (trained)
        elif path is not None:
            load_into(self.net, read_state_dict(path), str(path), variant.name)
            digest = sha256_file(path)
            self.weights_id, self.trained = f"sha256:{digest[:16]}", True
            self.origin = checkpoint_origin(digest, variant.weights)
            self.weights_path = path
        else:
            seeded_init(self.net, seed)
            self.weights_id, self.trained, self.origin = f"random-init:{variant.name}:seed{seed}", False, "random-init"
            self.weights_path = None
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.device = torch.device(device)
        self.net = self.net.to(self.device)  # once; inputs follow per image (set_image) and per click
        # engineered: channels-last (the same arithmetic; 3-10x faster depthwise convolutions on
        # CPU), fused kernels, copy-free layouts; official: the official NCHW layout and formulations
        self.net = self.net.to(memory_format=torch.contiguous_format if self.official else torch.channels_last)
        set_engineered(self.net, not self.official)
        self.flip = self.default_flip
        self.image: torch.Tensor | None = None
        self.steering: torch.Tensor | None = None
        self.recorder: list[NetworkCall] | None = None

    # -- protocol and inputs --------------------------------------------------------------------

    def prepare(self, protocol: Protocol, dataset: str) -> None:
        self.flip = self.default_flip if protocol.flip_tta is None else protocol.flip_tta
        self.configure_size(protocol.input_size, dataset)

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        """Adopt the protocol's input size (None: the method's published rule for ``dataset``)."""

    def reset(self) -> None:
        self.image = None
        self.steering = None

    def set_image(self, image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"{self.name} expects an RGB uint8 image of shape (H, W, 3), got {desc}")
        h, w = image.shape[:2]
        if min(h, w) < self.min_side:
            raise ValueError(f"{self.name}: image {w}x{h} is smaller than the network's minimum side of "
                             f"{self.min_side} px")
        self.steering = None
        with self.grad_mode():
            pixels = torch.from_numpy(np.ascontiguousarray(image)).to(self.device)
            self.image = pixels.permute(2, 0, 1)[None].float() / 255.0
            self.on_image()

    def image_tensor(self) -> torch.Tensor:
        """The current image (1, 3, H, W) in [0, 1], as ``set_image`` made it."""
        if self.image is None:
            raise RuntimeError(f"{self.name}: no image; call set_image() first")
        return self.image

    def synchronize(self) -> None:
        synchronize(str(self.device))

    def on_image(self) -> None:
        """Per-image preparation after ``set_image`` (state, and the engineered per-image work)."""

    def steer(self, mask: np.ndarray) -> None:
        self.steering = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None].to(self.device)

    def carried(self, probs: torch.Tensor) -> torch.Tensor:
        """The full-size probabilities the next click starts from: the prediction, or the surrogate."""
        return probs if self.steering is None else self.steering

    def carried_state(self) -> dict[str, object]:
        """What the predictor carries from one click to the next (tensors and boxes), named the same
        in both implementations, so that they can be compared click by click."""
        return {}

    def grad_mode(self):
        """``inference_mode`` (engineered) or the official code's ``no_grad``."""
        return torch.no_grad() if self.official else torch.inference_mode()

    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        if self.image is None:
            raise RuntimeError(f"{self.name}: predict() called before set_image()")
        with self.grad_mode():
            return (self.infer_official(clicks) if self.official else self.infer(clicks)).cpu().numpy()

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        """Probabilities (H, W) for the current image and clicks (engineered)."""
        raise NotImplementedError

    def infer_official(self, clicks: Sequence[Click]) -> torch.Tensor:
        """The same probabilities through the official predictor's per-click work."""
        raise NotImplementedError

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """A network input in the layout of the network's weights."""
        return x if self.official else x.contiguous(memory_format=torch.channels_last)

    def network(self, fn: Callable, *args):
        """Call into a network: the boundary of the "network alone" phase (recorded when asked)."""
        if self.recorder is None:
            return fn(*args)
        call = NetworkCall(fn, tree_map(snapshot, args))
        result = fn(*args)
        call.result = tree_map(snapshot, result)
        self.recorder.append(call)
        return result

    # -- cost phases ----------------------------------------------------------------------------

    def phase_modules(self, phase: str) -> list[nn.Module]:
        """The networks a click phase runs (for its parameter count)."""
        return [self.net]

    def cost_phases(self, height: int, width: int) -> list[CostPhase]:
        """The network calls of click 1 and of click ``LATER_CLICK``, recorded from the predictor itself
        on a synthetic ``height`` x ``width`` frame (textured background, a disc object) with the robot
        clicking on surrogate masks, so crops and zoom-ins are those a trained model would cause."""
        image, gt = synthetic_frame(height, width)
        surrogate, clicker = Surrogate(gt), make_clicker("robot", gt)
        errors = clicker.errors(np.zeros(gt.shape, bool))
        recorded: dict[int, list[NetworkCall]] = {}
        self.reset()
        self.set_image(image)
        for k in range(1, LATER_CLICK + 1):
            clicker.click_for(errors)
            self.steer(surrogate.mask(k))
            self.recorder = []
            try:
                self.predict(tuple(clicker.clicks), None)
            finally:
                recorded[k], self.recorder = self.recorder, None
            errors = clicker.errors(surrogate.mask(k))
        self.reset()
        phases = []
        for phase, k in (("first", 1), ("later", LATER_CLICK)):
            module = ReplayModule(self.net, recorded[k])
            shape = module.input_shape()
            modules = self.phase_modules(phase)
            params = sum(p.numel() for m in modules for p in m.parameters())
            stats = sum(b.numel() for m in modules for n, b in m.named_buffers()
                        if n.endswith(("running_mean", "running_var")))
            phases.append(CostPhase(phase, self.phase_parts[phase], (shape[-2], shape[-1]), shape[0], params, module,
                                    module.inputs, inference_mode=not self.official, click=k, statistics=stats))
        return phases

    # -- description ----------------------------------------------------------------------------

    def input_size(self) -> str:
        return "native"

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def describe(self) -> MethodInfo:
        return MethodInfo(name=self.name, family=self.family, weights=self.weights_id, trained=self.trained,
                          params=self.parameter_count(), input_size=self.input_size(),
                          capabilities=self.capabilities, notes=self._weights_note(), origin=self.origin,
                          implementation=self.implementation, device=str(self.device))

    def _weights_note(self) -> str:
        spec = self.variant.weights
        if self.origin == CALIBRATED:
            return ("seeded random weights with logit heads calibrated to decisive, click-dependent masks "
                    "(`--weights calibrated`, for regression tests): untrained")
        if not self.trained:
            return (f"no checkpoint found: get {spec.file_name} from {spec.source} and pass --weights or put it "
                    f"in $ISEG_BENCH_WEIGHTS (see `iseg-bench weights`)")
        assert self.weights_path is not None  # trained: a checkpoint file was loaded (__init__)
        if self.origin == OFFICIAL:
            return f"official weights {self.weights_path.name} (SHA-256 equals the published file's)"
        why = ("differs from the published official file's" if spec.sha256 else
               "cannot be checked: no SHA-256 of the official file is published")
        return f"user checkpoint {self.weights_path.name}: trained, origin unverified (its SHA-256 {why})"


def snapshot(value: object) -> object:
    """A copy of a tensor that later in-place work cannot change (anything else as it is)."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


class ReplayModule(nn.Module):
    """The recorded network calls of one click, replayed from their recorded inputs: fvcore traces
    it for FLOPs and the benchmark times it ("network alone"). Its inputs are every tensor the
    calls received; its outputs every tensor they returned."""

    def __init__(self, net: nn.Module, calls: list[NetworkCall]) -> None:
        super().__init__()
        self.net = net  # registered, so the phase's parameters are the module's
        self.calls = calls
        self.leaves, self.spec = tree_flatten([c.args for c in calls])
        self.positions = [i for i, leaf in enumerate(self.leaves) if isinstance(leaf, torch.Tensor)]
        self.inputs = tuple(self.leaves[i] for i in self.positions)

    def input_shape(self) -> tuple[int, ...]:
        """Shape (B, C, H, W) of the first image-like input of the first call."""
        return next(tuple(t.shape) for t in self.inputs if t.dim() == 4)

    def forward(self, *tensors: torch.Tensor):
        leaves = list(self.leaves)
        for i, tensor in zip(self.positions, tensors):
            leaves[i] = tensor
        args = tree_unflatten(leaves, self.spec)
        outputs = [call.fn(*call_args) for call, call_args in zip(self.calls, args)]
        return tuple(t for t in tree_flatten(outputs)[0] if isinstance(t, torch.Tensor))


def synthetic_frame(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic textured frame with a disc object of radius 0.3 x the shorter side."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:height, :width]
    gt = ((yy - height / 2) ** 2 + (xx - width / 2) ** 2 <= (0.3 * min(height, width)) ** 2).astype(np.int32)
    image[gt == 1] = image[gt == 1] // 2 + 100
    return image, gt


def click_rows(clicks: Sequence[Click], scale_y: float = 1.0,
               scale_x: float = 1.0) -> list[tuple[float, float, bool, int]]:
    """Clicks as ``(y, x, positive, index)`` rows, scaled."""
    return [(c.y * scale_y, c.x * scale_x, c.is_positive, c.index) for c in clicks]


def batch_points(rows, width: int, flip: bool, device: torch.device) -> torch.Tensor:
    """Points of the rows, plus their mirror image (x' = W - x - 1) when flip TTA doubles the batch."""
    lists = [rows] + ([[(y, width - x - 1, p, i) for y, x, p, i in rows]] if flip else [])
    return points_tensor(lists, device=device)


def with_flip(x: torch.Tensor, flip: bool) -> torch.Tensor:
    """The input and, with flip TTA, its mirror image in the batch."""
    return torch.cat([x, torch.flip(x, dims=[3])], 0) if flip else x


def flip_average(logits: torch.Tensor, flip: bool) -> torch.Tensor:
    """Flip TTA's inverse: the mean of the logits and the un-mirrored logits of the mirror."""
    return 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3])) if flip else logits


def logit(p: torch.Tensor) -> torch.Tensor:
    return torch.log(p / (1 - p))


_UNSET = object()


class CropCache:
    """One entry: work that depends only on the image and a crop box, reused while the box repeats."""

    def __init__(self) -> None:
        self.key: object = _UNSET
        self.value = None

    def get(self, key: object, make: Callable):
        if key != self.key:
            self.key, self.value = key, make()
        return self.value
