"""Official checkpoints: where they come from, where iseg-bench looks for them, how they are loaded.

Loading is safe and strict: ``torch.load(..., weights_only=True)`` (a file that needs arbitrary
Python objects is refused), every key the network expects must be present with its exact shape,
and nothing unexpected may be left over -- except names that alias another tensor of the same
network (EMC-Click saves its shared correlation block under three names).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from .family import WeightsSpec

WEIGHTS_ENV = "ISEG_BENCH_WEIGHTS"


class WeightsError(Exception):
    """A checkpoint that cannot be used, with the reason and what to do."""


OFFICIAL, USER = "official", "user"


def checkpoint_origin(digest: str, spec: WeightsSpec) -> str:
    """``official`` when ``digest`` (SHA-256, hex) equals the published official file's, else ``user``."""
    return OFFICIAL if spec.sha256 is not None and digest.lower() == spec.sha256.lower() else USER


def weights_dirs(explicit: str | Path | None = None) -> list[Path]:
    """Where weights are looked for, in order: ``--weights DIR``, ``$ISEG_BENCH_WEIGHTS``, the cache."""
    from iseg_bench.datasets.fingerprint import cache_dir

    dirs = []
    if explicit is not None and Path(explicit).is_dir():
        dirs.append(Path(explicit))
    if os.environ.get(WEIGHTS_ENV):
        dirs.append(Path(os.environ[WEIGHTS_ENV]))
    dirs.append(cache_dir() / "weights")
    return dirs


def find_weights(variant: str, spec: WeightsSpec, explicit: str | Path | None = None) -> Path | None:
    """The checkpoint of ``variant``: an explicit file, or ``<variant>.pth`` / the official name in a weights dir."""
    if explicit is not None and Path(explicit).is_file():
        return Path(explicit)
    for folder in weights_dirs(explicit):
        for name in (f"{variant}.pth", spec.file_name):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of an official checkpoint, loaded without executing any pickled code."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"{path}: refused to load: the file needs arbitrary Python objects to unpickle, and "
            f"iseg-bench only loads plain tensors (torch.load weights_only=True) so that a checkpoint "
            f"cannot run code. Detail: {str(exc).splitlines()[0]}") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint (truncated or corrupt download?): "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if isinstance(checkpoint, list):
        raise WeightsError(f"{path}: holds {len(checkpoint)} models (a multi-stage checkpoint); "
                           "iseg-bench evaluates single-model checkpoints")
    if isinstance(checkpoint, dict) and "state_dict" in checkpoint:
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise WeightsError(f"{path}: expected {{'state_dict': ..., 'config': ...}} or a plain state_dict")
    return checkpoint


def aliases(model: nn.Module) -> dict[str, str]:
    """Names in the model's state_dict that share their tensor with an earlier name: alias -> canonical."""
    first: dict[tuple[int, int], str] = {}
    out = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        key = (id(tensor), tensor.numel())
        if key in first:
            out[name] = first[key]
        else:
            first[key] = name
    return out


def load_into(model: nn.Module, state: dict[str, torch.Tensor], source: str, variant: str) -> None:
    """Copy ``state`` into ``model``, strictly: every key and shape must match (aliases excepted)."""
    expected = model.state_dict()
    alias = aliases(model)
    missing = [k for k in expected if k not in state and k not in alias]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")

        parts = []
        if missing:
            parts.append(f"missing keys: {show(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {show(unexpected)}")
        raise WeightsError(f"{source} does not fit {variant} ({'; '.join(parts)}); is it the checkpoint of "
                           f"another variant?")
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise WeightsError(f"{source} does not fit {variant}: {key} has shape {tuple(tensor.shape)}, "
                               f"expected {tuple(expected[key].shape)} (checkpoint of another variant?)")
    for name, canonical in alias.items():
        if name in state and canonical in state and not torch.equal(state[name], state[canonical]):
            raise WeightsError(f"{source}: {name} should alias {canonical} but holds different values")
    clean = {k: v for k, v in state.items() if k not in alias}
    model.load_state_dict(clean, strict=False)


def inspect_checkpoint(path: Path, model: nn.Module, variant: str, spec: WeightsSpec) -> tuple[bool, str]:
    """Whether the file at ``path`` reads and fits ``model`` (the variant's network), and what it is."""
    from iseg_bench.atomic_files import sha256_file

    try:
        load_into(model, read_state_dict(path), str(path), variant)
    except WeightsError as exc:
        return False, f"unusable: {exc}"
    digest = sha256_file(path)
    if checkpoint_origin(digest, spec) == OFFICIAL:
        return True, f"official (reads, fits; SHA-256 matches): {path}"
    return True, f"user checkpoint (reads, fits; SHA-256 {digest[:16]}..., origin unverified): {path}"


def seeded_init(model: nn.Module, seed: int = 0) -> None:
    """Random weights that keep activations alive through deep stacks (for untrained runs).

    Weights with fan-in are drawn N(0, 1/fan_in); norm gains and scales around 1, running
    variances 1 + |N(0, 0.05)|, other vectors N(0, 0.05). Deterministic for a given seed.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict(keep_vars=True).items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=gen)
            if tensor.dim() >= 2:
                value = noise / (tensor[0].numel() ** 0.5)
            elif name.endswith("running_var"):
                value = 1 + 0.05 * noise.abs()
            elif name.endswith(".weight") or name.endswith(".scale"):
                value = 1 + 0.05 * noise
            else:
                value = 0.05 * noise
            tensor.copy_(value)
