"""One benchmark job, measured in its own fresh process (``python -m iseg_bench.bench_worker SPEC OUT``):
the predictor's whole click on dataset images, per click index, and every click phase's network
work alone (fvcore FLOPs, latency, achieved GFLOP/s beside the matrix-multiply peak), with the
environment and the machine load."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from .latency import time_calls


@dataclass(frozen=True)
class BenchSpec:
    """One (method, implementation, protocol) benchmark job (also the worker's input, as JSON).

    ``height`` x ``width`` is the synthetic frame of the network phases; ``frame`` (H, W) resizes
    every benchmark image (None: native size); ``rules`` names the dataset whose published input
    rules apply (None: each dataset's own), e.g. DAVIS rules on DAVIS-sized frames.
    """

    method: str
    height: int = 384
    width: int = 384
    threads: int = 2
    protocol: dict = field(default_factory=dict)
    implementation: str | None = None
    datasets: tuple[str, ...] = ()
    data_root: str | None = None
    frame: tuple[int, int] | None = None
    rules: str | None = None
    limit: int = 5
    clicks: int = 10
    warmup: int = 3
    repeats: int = 10
    weights: str | None = None
    count_flops: bool = True
    device: str = "cpu"

    @classmethod
    def from_dict(cls, raw: dict) -> BenchSpec:
        raw = dict(raw, datasets=tuple(raw.get("datasets", ())))
        if raw.get("frame") is not None:
            raw["frame"] = tuple(raw["frame"])
        return cls(**raw)


def _frame(image: np.ndarray, gt: np.ndarray, frame: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """The sample resized to ``frame`` (H, W): image bilinear, labels nearest."""
    if frame is None:
        return image, gt
    import cv2

    h, w = frame
    return (cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR),
            cv2.resize(gt.astype(np.int16), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32))


def _network_phases(predictor, spec: BenchSpec) -> list[dict]:
    """Every click phase's network work on the synthetic frame: FLOPs, latency, achieved rate."""
    import torch

    from .flops import count_macs

    phases = []
    for phase in predictor.cost_phases(spec.height, spec.width):
        flops = count_macs(phase.module, phase.inputs).to_dict() if spec.count_flops else None
        with torch.inference_mode() if phase.inference_mode else torch.no_grad():
            seconds = time_calls(partial(phase.module, *phase.inputs), spec.warmup, spec.repeats, spec.device)
        phases.append({"phase": phase.phase, "click": phase.click, "parts": phase.parts,
                       "input_size": list(phase.input_size), "batch": phase.batch, "params": phase.params,
                       "bn_statistics": phase.statistics, "flops": flops, "latency_s": seconds})
    return phases


def _image_clicks(predictor, protocol, spec: BenchSpec) -> list[dict]:
    """Whole-click latency per click index on every benchmark image (after one untimed sample)."""
    from .datasets import open_dataset
    from .evaluation import evaluate_sample
    from .steering import is_steered

    click_protocol = protocol.replace(max_clicks=spec.clicks, early_stop="never")
    steered = is_steered(protocol.untrained_control, predictor)
    out = []
    for ds_spec in spec.datasets:
        ds = open_dataset(ds_spec, spec.data_root)
        predictor.prepare(protocol, spec.rules or ds.name)
        count = min(spec.limit, len(ds))
        samples = []
        for i in range(count):
            sample = ds.load(i)
            samples.append(_frame(sample.image, sample.gt, spec.frame))
        if spec.warmup and samples:
            evaluate_sample(predictor, *samples[0], click_protocol)
        per_click: list[list[float]] = [[] for _ in range(spec.clicks)]
        errors = []
        for sid, (image, gt) in zip(ds.ids, samples):
            outcome = evaluate_sample(predictor, image, gt, click_protocol)
            if outcome.error:
                errors.append(f"{sid}: {outcome.error}")
            for k, seconds in enumerate(outcome.latency_s):
                per_click[k].append(seconds)
        out.append({"dataset": ds.name, "fingerprint": ds.fingerprint, "samples": count,
                    "frame": list(spec.frame) if spec.frame else None, "rules": spec.rules or ds.name,
                    "steered": steered, "per_click_s": per_click, "errors": errors})
    return out


def peak_rss_mb() -> float | None:
    """This process's peak resident memory (MB) so far, where the platform reports it (Unix)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def run_worker(spec: BenchSpec) -> dict:
    """Measure one method in this process; returns the JSON-ready result."""
    import psutil

    from . import environment
    from .adapters import load_predictor
    from .latency import matmul_rates
    from .machine_load import LoadMonitor
    from .protocol import Protocol

    environment.set_threads(spec.threads)
    protocol = Protocol.from_dict(spec.protocol) if spec.protocol else Protocol()
    predictor = load_predictor(spec.method, spec.weights, spec.implementation, spec.device)
    device = predictor.describe().device  # a method that cannot use the device computes on the CPU
    with LoadMonitor() as monitor:
        rates = matmul_rates(device=device)
        predictor.prepare(protocol, spec.rules or "frame")
        phases = _network_phases(predictor, spec)
        clicks = _image_clicks(predictor, protocol, spec)
    env = environment.capture()  # includes torch's thread settings
    env["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    env["peak_rss_mb"] = peak_rss_mb()
    env["matmul_gflops"] = rates
    env["matmul_peak_gflops"] = rates["peak"]
    return {"method": predictor.describe().name, "info": predictor.describe().to_dict(),
            "spec": dataclasses.asdict(spec), "protocol": protocol.to_dict(), "protocol_hash": protocol.hash,
            "phases": phases, "clicks": clicks, "environment": env, "load": monitor.reading.to_dict(), "rounds": 1}


if __name__ == "__main__":  # the worker: python -m iseg_bench.bench_worker SPEC.json OUT.json
    job = BenchSpec.from_dict(json.loads(Path(sys.argv[1]).read_text()))
    Path(sys.argv[2]).write_text(json.dumps(run_worker(job)))
