"""The efficiency phase: parameters, FLOPs and CPU latency per click phase, one method per process.

Latency is never measured while other work shares the machine: ``run_bench`` runs each method in
its own fresh process, one after the other (``rounds`` times, interleaved, so slow drifts of the
machine hit every method alike), with a fixed thread count. Each process times

- every click phase of the network alone on a synthetic frame (``cost_phases``), after warm-up;
- the real predictor click by click on dataset images driven by the robot user (model time only,
  the first click including ``set_image``), which also gives latency per click index.

Results are JSON files ``<out>/bench/<method>@<H>x<W>.json`` with the environment inside.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .latency import summary, time_calls

BENCH_DIR = "bench"


@dataclass(frozen=True)
class BenchSpec:
    """One method's benchmark job (also the worker's input, as JSON)."""

    method: str
    height: int = 384
    width: int = 384
    threads: int = 2
    protocol: dict = field(default_factory=dict)
    datasets: tuple[str, ...] = ()
    data_root: str | None = None
    limit: int = 5
    clicks: int = 10
    warmup: int = 3
    repeats: int = 10
    weights: str | None = None
    count_flops: bool = True


def bench_path(out: Path, method: str, height: int, width: int) -> Path:
    return Path(out) / BENCH_DIR / f"{method}@{height}x{width}.json"


# --- worker (runs in its own process) -------------------------------------------------------------

def run_worker(spec: BenchSpec) -> dict:
    """Measure one method in this process; returns the JSON-ready result."""
    import cv2
    import psutil
    import torch

    from . import environment
    from .adapters import load_predictor
    from .datasets import open_dataset
    from .evaluation import evaluate_sample
    from .flops import count_macs
    from .protocol import Protocol

    torch.set_num_threads(spec.threads)
    cv2.setNumThreads(spec.threads)
    protocol = Protocol.from_dict(spec.protocol) if spec.protocol else Protocol()
    predictor = load_predictor(spec.method, weights=spec.weights)
    predictor.prepare(protocol, "frame")
    info = predictor.describe()
    phases = []
    for phase in predictor.cost_phases(spec.height, spec.width):
        flops = count_macs(phase.module, phase.inputs).to_dict() if spec.count_flops else None
        with torch.inference_mode():
            seconds = time_calls(lambda: phase.module(*phase.inputs), spec.warmup, spec.repeats)
        phases.append({"phase": phase.phase, "parts": phase.parts, "input_size": list(phase.input_size),
                       "batch": phase.batch, "params": phase.params, "flops": flops, "latency_s": seconds})

    clicks = []
    click_protocol = protocol.replace(max_clicks=spec.clicks, early_stop="never")
    for ds_spec in spec.datasets:
        ds = open_dataset(ds_spec, spec.data_root)
        predictor.prepare(protocol, ds.name)
        per_click: list[list[float]] = [[] for _ in range(spec.clicks)]
        errors = []
        for index in range(min(spec.limit, len(ds))):
            sample = ds.load(index)
            outcome = evaluate_sample(predictor, sample.image, sample.gt, click_protocol)
            if outcome.error:
                errors.append(f"{sample.id}: {outcome.error}")
            for k, seconds in enumerate(outcome.latency_s):
                per_click[k].append(seconds)
        clicks.append({"dataset": ds.name, "fingerprint": ds.fingerprint, "samples": min(spec.limit, len(ds)),
                       "per_click_s": per_click, "errors": errors})

    env = environment.capture()  # includes torch's thread settings
    env["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    return {"method": info.name, "info": info.to_dict(), "spec": dataclasses.asdict(spec),
            "protocol": protocol.to_dict(), "protocol_hash": protocol.hash, "phases": phases, "clicks": clicks,
            "environment": env, "rounds": 1}


def merge(results: list[dict]) -> dict:
    """Pool the timing samples of several rounds of the same method (FLOPs from the first)."""
    base = json.loads(json.dumps(results[0]))
    for other in results[1:]:
        for mine, theirs in zip(base["phases"], other["phases"]):
            mine["latency_s"] += theirs["latency_s"]
        for mine, theirs in zip(base["clicks"], other["clicks"]):
            for k, values in enumerate(theirs["per_click_s"]):
                mine["per_click_s"][k] += values
    base["rounds"] = len(results)
    return base


# --- orchestration ------------------------------------------------------------------------------

class BenchError(Exception):
    """A worker process that failed; the message carries its stderr."""


def _spawn(spec: BenchSpec) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_file.write_text(json.dumps(dataclasses.asdict(spec)))
        proc = subprocess.run([sys.executable, "-m", "iseg_bench.bench", str(spec_file), str(out_file)],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not out_file.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise BenchError(f"{spec.method}: benchmark process failed (exit {proc.returncode}): {tail}")
        return json.loads(out_file.read_text())


def run_bench(specs: list[BenchSpec], out: Path, rounds: int = 1, echo=print) -> tuple[list[dict], list[str]]:
    """Benchmark every spec in its own process, ``rounds`` times interleaved; store and return results."""
    collected: dict[str, list[dict]] = {s.method: [] for s in specs}
    failures: dict[str, str] = {}
    for r in range(rounds):
        for spec in specs:
            if spec.method in failures:
                continue
            echo(f"bench round {r + 1}/{rounds}: {spec.method}")
            try:
                collected[spec.method].append(_spawn(dataclasses.replace(spec, count_flops=spec.count_flops and r == 0)))
            except BenchError as exc:
                failures[spec.method] = str(exc)
    results = []
    for spec in specs:
        if spec.method in failures or not collected[spec.method]:
            continue
        merged = merge(collected[spec.method])
        path = bench_path(out, merged["method"], spec.height, spec.width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=1))
        results.append(merged)
    return results, [failures[m] for m in failures]


def load_bench(out: Path) -> list[dict]:
    """Every stored benchmark result of a results folder."""
    folder = Path(out) / BENCH_DIR
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def image_latencies(result: dict, phase: str) -> list[float]:
    """Per-click seconds on the benchmark images: click 1 for "first", every later click for "later"."""
    out: list[float] = []
    for entry in result["clicks"]:
        ks = entry["per_click_s"][:1] if phase == "first" else entry["per_click_s"][1:]
        for values in ks:
            out.extend(values)
    return out


def phase_rows(result: dict) -> list[dict]:
    """One row per click phase: the network alone (if it is one) and the predictor on real images."""
    networks = {ph["phase"]: ph for ph in result["phases"]}
    rows = []
    for phase in ("first", "later"):
        ph = networks.get(phase)
        rows.append({
            "method": result["method"], "label": label_of(result), "phase": phase,
            "parts": ph["parts"] if ph else "not a network",
            "input": ph["input_size"] if ph else None, "batch": ph["batch"] if ph else None,
            "params": ph["params"] if ph else 0,
            "gmacs": ph["flops"]["gmacs"] if ph and ph["flops"] else float("nan"),
            "not_counted": sorted(ph["flops"]["not_counted"]) if ph and ph["flops"] else [],
            "network": summary(ph["latency_s"] if ph else []),
            "images": summary(image_latencies(result, phase)),
        })
    return rows


def label_of(result: dict) -> str:
    info = result["info"]
    return info["name"] if info["trained"] is not False else f"{info['name']} (untrained)"


def click_curve(result: dict) -> list[float]:
    """Median latency (ms) per click index over every benchmarked image."""
    n = max((len(c["per_click_s"]) for c in result["clicks"]), default=0)
    curve = []
    for k in range(n):
        values = [x for c in result["clicks"] if k < len(c["per_click_s"]) for x in c["per_click_s"][k]]
        curve.append(float(np.median(values)) * 1000 if values else float("nan"))
    return curve


if __name__ == "__main__":  # the worker: python -m iseg_bench.bench SPEC.json OUT.json
    raw = json.loads(Path(sys.argv[1]).read_text())
    raw["datasets"] = tuple(raw.get("datasets", ()))
    Path(sys.argv[2]).write_text(json.dumps(run_worker(BenchSpec(**raw))))
