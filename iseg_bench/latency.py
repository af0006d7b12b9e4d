"""Timing: warm-up, repeated calls around the model only, and robust statistics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from .device import device_type, synchronize


def time_calls(fn: Callable[[], object], warmup: int, repeats: int, device: str = "cpu") -> list[float]:
    """Seconds per call of ``fn`` after ``warmup`` untimed calls: perf_counter around the call on the
    CPU; on a GPU, CUDA events recorded around it and read once the device has finished."""
    for _ in range(warmup):
        fn()
    if device_type(device) == "cuda":
        return _time_cuda(fn, repeats, device)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _time_cuda(fn: Callable[[], object], repeats: int, device: str) -> list[float]:
    import torch

    synchronize(device)
    out = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) / 1000.0)
    return out


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """Median, 10th and 90th percentiles and mean, in milliseconds, and the sample count."""
    if not len(seconds):
        return {"n": 0, "median_ms": float("nan"), "p10_ms": float("nan"), "p90_ms": float("nan"),
                "mean_ms": float("nan")}
    ms = 1000.0 * np.asarray(seconds, dtype=np.float64)
    return {"n": int(ms.size), "median_ms": float(np.median(ms)), "p10_ms": float(np.percentile(ms, 10)),
            "p90_ms": float(np.percentile(ms, 90)), "mean_ms": float(ms.mean())}


def matmul_rates(repeats: int = 5, device: str = "cpu") -> dict[str, float]:
    """This machine's fp32 matrix-product rates (GFLOP/s) on ``device`` (on the CPU with torch's current
    threads), best of ``repeats`` after one warm-up, through two libraries: ``torch.mm`` of two 2048 x 2048 matrices
    (the BLAS torch was built with) and a 1x1 convolution of 1024 channels over a 64 x 64 map in
    channels-last layout (a (4096 x 1024) x (1024 x 1024) product through oneDNN, which serves the
    networks' convolutions). The higher one (``peak``) is the limit a phase's achieved rate is
    compared with."""
    import torch

    n, channels, side = 2048, 1024, 64
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    image = torch.rand(1, channels, side, side, device=device).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(channels, channels, 1, bias=False, device=device).eval()
    conv = conv.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # not in the stub
    rates = {}
    with torch.inference_mode():
        rates["torch_mm"] = 2.0 * n ** 3 / min(time_calls(lambda: torch.mm(a, b), 1, repeats, device)) / 1e9
        seconds = min(time_calls(lambda: conv(image), 1, repeats, device))
        rates["conv1x1_onednn"] = 2.0 * channels * channels * side * side / seconds / 1e9
    rates["peak"] = max(rates.values())
    return rates
