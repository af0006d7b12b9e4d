"""What machine and software produced a result: recorded with every run."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import psutil

PACKAGES = ("iseg-bench", "numpy", "opencv-python", "opencv-python-headless", "torch", "pandas", "scipy")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def set_threads(threads: int) -> None:
    """Fix torch's (when installed) and OpenCV's thread counts for this process."""
    import cv2

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    cv2.setNumThreads(threads)


def capture() -> dict:
    """CPU, cores, memory, OS, Python and package versions, thread-count settings, and the GPUs
    (name, memory, CUDA runtime, driver) when torch sees any."""
    import cv2

    from .device import gpu_environment

    versions = {p: v for p in PACKAGES if (v := _version(p))}
    versions["cv2 (runtime)"] = cv2.__version__
    threads = {}
    if "torch" in sys.modules:  # only when a method already uses it: importing torch costs seconds
        torch = sys.modules["torch"]
        threads = {"torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads()}
    return {
        **threads,
        "cpu": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
        "opencv_threads": cv2.getNumThreads(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
        **gpu_environment(),
    }


def project_revision() -> dict:
    """This iseg-bench's version and, when it runs from a git checkout, the commit (with ``+dirty``
    when the checkout has uncommitted changes); empty commit otherwise."""
    import subprocess
    from pathlib import Path

    from . import __version__

    here = Path(__file__).resolve().parent.parent
    commit = ""
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10)
            commit = head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {"version": __version__, "commit": commit}
