"""The adapter contract every method implements, and what it declares about itself.

The harness only ever calls these methods, in this order per sample: ``reset()``,
``set_image(image)``, then ``predict(clicks, prev_mask)`` once per click. It never branches on a
method's identity; what differs between methods is declared here (capabilities, weights status).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from .clicker import Click
from .protocol import Protocol

# How a deep method computes (``DeepPredictor``): the first is the default. Same outputs, different cost.
IMPLEMENTATIONS = ("engineered", "official")
IMPLEMENTATION_NOTES = {
    "engineered": "the same engineering for every family (inference mode, channels-last, fused attention, "
                  "per-image and per-crop image work done once, no unused outputs)",
    "official": "official arithmetic: the official predictors' per-click work (no_grad, NCHW, explicit attention, "
                "whole input re-prepared and every output recomputed at every click)",
}


@dataclass(frozen=True)
class Capabilities:
    """What the harness and the reports need to know about a method's cost structure.

    ``caches_image_work``: work done once per image is reused by later clicks.
    ``later_clicks_differ``: later clicks run a different (usually cheaper) computation than the
    first, so first-click and later-click cost must be reported apart (EMC-Click).
    ``uses_prev_mask``: the method conditions on its previous prediction.
    """

    caches_image_work: bool = False
    later_clicks_differ: bool = False
    uses_prev_mask: bool = False


@dataclass(frozen=True)
class MethodInfo:
    """A method's self-description, stored with its results.

    ``weights`` identifies exactly what produced the numbers (file hash, or algorithm version for
    weight-free methods); it is part of every result key. ``trained`` is None for weight-free
    methods, False for a network with random weights (accuracy meaningless), True for a loaded
    checkpoint. ``origin`` says where a checkpoint comes from: ``official`` only when its SHA-256
    equals a published official file's, ``user`` otherwise (trained, origin unverified).
    ``source`` is set when the numbers were not produced here but imported (an official script's
    IoU log): reports label the method as imported.
    """

    name: str
    family: str
    weights: str
    trained: bool | None
    params: int = 0
    input_size: str = "native"
    capabilities: Capabilities = field(default_factory=Capabilities)
    notes: str = ""
    source: str = ""
    origin: str = ""
    implementation: str = ""  # deep methods: "engineered" (default) or "official" (official arithmetic)
    device: str = "cpu"  # where the method computes (cpu, cuda:N)

    @property
    def status(self) -> str:
        if self.source:
            return f"imported from {self.source}"
        if self.trained:
            return "official weights" if self.origin == "official" else "user checkpoint (origin unverified)"
        return {None: "weight-free", False: "UNTRAINED"}[self.trained]

    @property
    def label(self) -> str:
        """Name as printed in tables: untrained networks and imported results are always marked."""
        if self.source:
            return f"{self.name} (imported)"
        name = self.name + (" [official arithmetic]" if self.implementation == "official" else "")
        return name if self.trained is not False else f"{name} (untrained)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MethodInfo:
        data = dict(data)
        data["capabilities"] = Capabilities(**data.get("capabilities", {}))
        return cls(**data)


@dataclass
class CostPhase:
    """One phase of a method's per-click computation, runnable on its own for FLOPs and latency.

    ``module(*inputs)`` runs exactly the network work of one click of that phase (a torch module
    for deep methods); ``parts`` says what runs, ``input_size`` the network input (H, W);
    ``inference_mode`` whether the method runs under ``torch.inference_mode`` (else ``no_grad``);
    ``click`` the click (1-based) whose work this is; ``statistics`` the BatchNorm running statistics
    of the networks it runs (some papers count them as parameters).
    """

    phase: str  # "first" (click 1) or "later" (every later click)
    parts: str
    input_size: tuple[int, int]
    batch: int
    params: int
    module: Any
    inputs: tuple
    inference_mode: bool = True
    click: int = 1
    statistics: int = 0


class Predictor(ABC):
    """A click-based interactive segmentation method.

    Subclasses set ``name``, ``family`` and ``capabilities`` and implement ``set_image`` and
    ``predict``. ``predict`` returns a float array of foreground probabilities in [0, 1] with the
    image's height and width; the harness thresholds it with the protocol's ``prob_threshold``.

    What the registry relies on is declared here, as class attributes: ``uses_weights`` (the
    constructor takes ``weights``), ``implementations`` (several: it takes ``implementation``),
    ``devices`` (device types it can compute on; more than the CPU: it takes ``device``) and
    ``capabilities`` (its cost structure, for the reports).
    """

    name: str = ""  # a class attribute, or per instance (a deep predictor is named after its variant)
    family: str = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    uses_weights: ClassVar[bool] = False  # True: the constructor takes ``weights`` (a checkpoint file or folder)
    implementations: ClassVar[tuple[str, ...]] = ()  # several: the constructor takes ``implementation``
    devices: ClassVar[tuple[str, ...]] = ("cpu",)  # device types; beyond "cpu": the constructor takes ``device``

    def prepare(self, protocol: Protocol, dataset: str) -> None:
        """Called before each dataset: adopt the protocol's flip/input-size settings (optional)."""

    def reset(self) -> None:
        """Forget everything about the previous image (caches, previous predictions)."""

    def synchronize(self) -> None:
        """Wait for work the method queued on its device (a GPU); the harness calls it before reading
        the clock after ``set_image``, so asynchronous work is timed where it is done."""

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Take a new RGB uint8 image (H, W, 3); per-image work may be done or cached here."""

    @abstractmethod
    def predict(self, clicks: Sequence[Click], prev_mask: np.ndarray | None) -> np.ndarray:
        """Probabilities (H, W) after all ``clicks`` so far.

        ``prev_mask`` is the previous binary prediction as the user sees it (None at the first
        click); methods that keep their own previous probabilities may ignore it.
        """

    def steer(self, mask: np.ndarray) -> None:
        """Timing runs of untrained networks (``steering.py``): ``mask`` (bool, H x W) is what a trained
        model would predict at the coming click. Use it wherever your control flow depends on your
        own prediction (zoom-in, crops, the previous mask fed back) and carry it to the next click
        as if you had predicted it. Called before ``predict``, outside the timed region; methods
        without such state ignore it."""

    def cost_phases(self, height: int, width: int) -> list[CostPhase]:
        """The network work of a click on a ``height`` x ``width`` frame, per phase (none: not a network)."""
        return []

    @abstractmethod
    def describe(self) -> MethodInfo:
        """Name, weights identity and status, parameter count, input size, capabilities."""
