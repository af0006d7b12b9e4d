"""Where a method computes: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``, checked before any work.

Networks and their inputs move to the device once (per method, per image); the harness's clicks,
IoU and scoring stay on the CPU. Timing on a GPU waits for the device (``synchronize``) or uses
CUDA events (``time_calls`` in ``latency.py``), so a figure is the device's work, not the time to
queue it. torch is imported only when a GPU is asked for or described.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

CHOICES = "cpu, cuda, cuda:N or auto"


class DeviceError(ValueError):
    """A device that is misspelt or not present on this machine; the message says which and why."""


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def cuda_count() -> int:
    """Visible CUDA devices (0 without torch or without a CUDA build)."""
    torch = _torch()
    return torch.cuda.device_count() if torch is not None and torch.cuda.is_available() else 0


def resolve_device(spec: str | None) -> str:
    """The device a spec names (``auto``: the first GPU when there is one, else the CPU)."""
    text = (spec or "cpu").strip().lower()
    if text == "cpu":
        return "cpu"
    if text == "auto":
        return "cuda" if cuda_count() else "cpu"
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if not match:
        raise DeviceError(f"device {spec!r}: choose {CHOICES}")
    count = cuda_count()
    if count == 0:
        torch = _torch()
        build = ("torch is not installed" if torch is None else
                 f"torch {torch.__version__} was built without CUDA" if not torch.version.cuda else
                 f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU")
        raise DeviceError(f"device {spec!r}: no CUDA device on this machine ({build}); use --device cpu or auto")
    if match.group(1) is not None and int(match.group(1)) >= count:
        raise DeviceError(f"device {spec!r}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return text


def device_type(device: str) -> str:
    """``cpu`` or ``cuda``: what results may be compared across."""
    return device.split(":", 1)[0]


def spread(device: str, workers: int) -> list[str]:
    """One device per worker: ``cuda`` is dealt round-robin over the visible GPUs, anything else as is."""
    count = cuda_count() if device == "cuda" else 0
    return [f"cuda:{i % count}" for i in range(workers)] if count > 1 else [device] * workers


def synchronize(device: str) -> None:
    """Wait until the device has finished the work queued on it (nothing to wait for on the CPU)."""
    if device_type(device) == "cuda":
        sys.modules["torch"].cuda.synchronize(device)


def gpu_environment() -> dict:
    """The GPUs torch sees, with the CUDA runtime and the driver version (empty without a GPU)."""
    torch = sys.modules.get("torch")  # only when a method already uses torch: importing it costs seconds
    if torch is None or not torch.cuda.is_available():
        return {}
    gpus = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        gpus.append({"index": i, "name": props.name, "memory_gb": round(props.total_memory / 2**30, 1),
                     "capability": f"{props.major}.{props.minor}"})
    return {"gpus": gpus, "cuda_runtime": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
            "driver": _driver_version()}


def _driver_version() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi`` (torch does not report it), or None."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
