"""Calibrated seeded weights: untrained networks whose masks are decisive and follow the clicks.

A network with seeded random weights predicts an empty, a full or a 0.5-everywhere mask, and a
click (a disk of a few pixels) barely reaches its output, so a regression test on it cannot notice
a predictor that misplaces a click or a crop. ``calibrated_state`` makes weights that can, on the
embedded reference scene (``Synthetic`` sample 0), with the engineered predictor under its own
published settings:

1. seeded as usual (``weights.seeded_init``);
2. the weights that read the click disks (``click_inputs()`` of the network) multiplied by
   ``CLICK_GAIN``, so that a click dominates the features around it as it does in a trained network;
3. each logit head (``logit_heads()``, in data-flow order) rescaled so that its logits, while the
   robot clicks the reference scene, have mean 0 and standard deviation ``SPREAD`` (most pixels far
   from the threshold). A head whose logits are a product (SAM's hypernetworks) is only scaled.
   The last head is negated if a positive first click leaves its own pixel background.

The result is no segmenter, but every click moves the mask, and crops and zoom-ins land where the
masks put them. Nothing is stored: the same code, seed and machine give the same weights;
``RECIPE`` names this recipe in the weights identity.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

CALIBRATED = "calibrated"  # the --weights value asking for these weights ("calibrated:SEED" for another seed)
RECIPE = 1  # bump when the recipe below changes what it produces
SPREAD = 4.0  # standard deviation of the calibrated logits on the reference scene
CLICK_GAIN = 100.0  # how much louder the click disks are made
REFERENCE_CLICKS = 5  # clicks of the reference run whose logits are measured
_PATTERN = re.compile(rf"{CALIBRATED}(?::(\d+))?")


@dataclass(frozen=True)
class ClickInput:
    """A layer reading click disks: the input ``channels`` of ``layer`` that hold them."""

    layer: str
    channels: tuple[int, ...]


@dataclass(frozen=True)
class LogitHead:
    """Where a network's logits come from: ``output`` names the module whose (first) output they are;
    ``affine`` the linear layers whose weights and biases scale them (default: ``output`` itself, a
    one-channel convolution or linear layer, whose bias also centres them)."""

    output: str
    affine: tuple[str, ...] = ()

    @property
    def layers(self) -> tuple[str, ...]:
        return self.affine or (self.output,)

    @property
    def centred(self) -> bool:
        """Only a head that is its own affine layer is shifted by its bias (a hypernetwork's logits are
        a product, and a bias there would not shift them uniformly)."""
        return not self.affine


def requested_seed(weights: str | Path | None) -> int | None:
    """The seed when ``weights`` asks for calibrated weights (``calibrated`` is seed 0), else None."""
    if weights is None:
        return None
    match = _PATTERN.fullmatch(str(weights))
    if match is None:
        return None
    return int(match.group(1) or 0)


def weights_identity(variant: str, seed: int) -> str:
    return f"{CALIBRATED}-init:{variant}:seed{seed}:recipe{RECIPE}"


def amplify_clicks(net: torch.nn.Module, inputs: tuple[ClickInput, ...]) -> None:
    """Multiply the weights reading click disks by CLICK_GAIN (a depthwise layer's are its output channels)."""
    with torch.no_grad():
        for item in inputs:
            layer = net.get_submodule(item.layer)
            if not isinstance(layer, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
                raise TypeError(f"click input {item.layer} is a {type(layer).__name__}, not a convolution")
            depthwise = layer.groups > 1 and layer.groups == layer.in_channels
            for channel in item.channels:
                (layer.weight[channel] if depthwise else layer.weight[:, channel]).mul_(CLICK_GAIN)


def _first_tensor(output) -> torch.Tensor:
    while isinstance(output, (tuple, list)):
        output = output[0]
    return output


def rescale(predictor, head: LogitHead, image: np.ndarray, gt: np.ndarray) -> None:
    """Centre the head's logits on 0 (when its bias can) and scale them to a standard deviation of
    SPREAD, as measured while the robot clicks the reference scene."""
    from iseg_bench.evaluation import evaluate_sample
    from iseg_bench.protocol import Protocol

    values: list[torch.Tensor] = []
    module = predictor.net.get_submodule(head.output)
    hook = module.register_forward_hook(lambda m, i, out: values.append(_first_tensor(out).detach().double().flatten()))
    try:
        outcome = evaluate_sample(predictor, image, gt, Protocol(max_clicks=REFERENCE_CLICKS, early_stop="never"))
    finally:
        hook.remove()
    if outcome.status != "ok" or not values:
        raise RuntimeError(f"{predictor.name}: calibration run failed or never reached {head.output}: {outcome.error}")
    logits = torch.cat(values)
    # a few significant digits: the last bits of the reductions (which vary with the kernels a machine
    # picks) do not reach the weights
    scale = float(f"{SPREAD / float(logits.std()):.3g}")
    shift = float(f"{float(logits.mean()):.3g}") if head.centred else 0.0
    with torch.no_grad():
        for name in head.layers:
            layer = predictor.net.get_submodule(name)
            layer.weight.mul_(scale)
            layer.bias.sub_(shift).mul_(scale)


def calibrate(predictor, image: np.ndarray, gt: np.ndarray) -> None:
    """Calibrate the predictor's network in place on the reference scene (module docstring)."""
    from iseg_bench.protocol import Protocol

    net = predictor.net
    if not hasattr(net, "logit_heads"):
        raise ValueError(f"{predictor.name}: its network declares no logit_heads(), so it has no calibrated weights")
    amplify_clicks(net, net.click_inputs() if hasattr(net, "click_inputs") else ())
    predictor.prepare(Protocol(name="calibration", flip_tta=None), "Synthetic")  # its own published settings
    heads = net.logit_heads()
    for head in heads:
        rescale(predictor, head, image, gt)
    orient(predictor, heads[-1], image, gt)
    predictor.reset()


def orient(predictor, head: LogitHead, image: np.ndarray, gt: np.ndarray) -> None:
    """Negate the last head if a positive first click leaves its own pixel background (a random
    network's click response has a random sign; a segmenter's is positive)."""
    from iseg_bench.click_strategies import make_clicker

    clicker = make_clicker("robot", gt)
    click = clicker.click_for(clicker.errors(np.zeros(gt.shape, bool)))
    predictor.reset()
    predictor.set_image(image)
    if predictor.predict((click,), None)[click.y, click.x] < 0.5:
        with torch.no_grad():
            for name in head.layers:
                layer = predictor.net.get_submodule(name)
                layer.weight.neg_()
                layer.bias.neg_()


@functools.lru_cache(maxsize=8)
def calibrated_state(predictor_class: type, variant, seed: int) -> dict[str, torch.Tensor]:
    """The calibrated ``state_dict`` of ``variant`` for ``seed``, computed once per process on the CPU
    with one thread and the engineered implementation, so that every implementation, device and
    worker gets the same weights."""
    from iseg_bench.datasets import open_dataset

    reference = open_dataset("Synthetic").load(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        predictor = predictor_class(variant, weights=None, seed=seed)
        calibrate(predictor, reference.image, reference.gt)
    finally:
        torch.set_num_threads(threads)
    return {k: v.detach().clone().contiguous() for k, v in predictor.net.state_dict().items()}
