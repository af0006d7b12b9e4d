"""The efficiency phase: click latency, parameters, FLOPs and achieved GFLOP/s, one method per process.

Latency is never measured while other work shares the machine: ``run_bench`` runs each
(method, implementation, protocol) in its own fresh process, one after the other (``rounds`` times,
interleaved, so slow drifts of the machine hit every method alike), with a fixed thread count, and
records how busy the machine was meanwhile. Each process measures

- the headline, the predictor's whole click (``set_image`` + ``predict`` for click 1, ``predict``
  after it: pre-processing, flip TTA, networks, post-processing, crops pasted back, resizing), on
  dataset images driven by the robot user, per click index, after one untimed warm-up sample;
  untrained networks are steered by surrogate masks when the protocol says so, so they take the
  zoom-ins and crops trained weights would;
- every click phase's network work alone (``cost_phases``: the calls the predictor makes into its
  networks, recorded and replayed), after warm-up: latency, fvcore FLOPs, and the achieved
  GFLOP/s beside this process's measured fp32 matrix-multiply peak.

Results are JSON files in ``<out>/bench/`` with the environment and machine load inside.
``run_bench_plan`` is the whole command (checks, one job per method, implementation and protocol,
the rounds, the efficiency table); the command line only parses its options into a ``BenchPlan``.
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


def bench_name(result: dict) -> str:
    """The result's file name: what was measured, how, under which protocol, on which frames."""
    spec = result["spec"]
    frame = f"-frames{spec['frame'][0]}x{spec['frame'][1]}" if spec.get("frame") else ""
    rules = f"-{spec['rules']}-rules" if spec.get("rules") else ""
    implementation = result["info"].get("implementation") or "only"
    device = result["info"].get("device", "cpu")
    on = "" if device == "cpu" else "." + device.replace(":", "")
    return (f"{result['method']}.{implementation}.{result['protocol']['name']}-{result['protocol_hash'][:6]}"
            f".{spec['height']}x{spec['width']}{frame}{rules}{on}.json")


# --- worker (runs in its own process) -------------------------------------------------------------

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
            seconds = time_calls(lambda phase=phase: phase.module(*phase.inputs), spec.warmup, spec.repeats,
                                 spec.device)
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


def run_worker(spec: BenchSpec) -> dict:
    """Measure one method in this process; returns the JSON-ready result."""
    import psutil

    from . import environment
    from .adapters import load_predictor
    from .latency import matmul_rates
    from .load import LoadMonitor
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
    env["matmul_gflops"] = rates
    env["matmul_peak_gflops"] = rates["peak"]
    return {"method": predictor.describe().name, "info": predictor.describe().to_dict(),
            "spec": dataclasses.asdict(spec), "protocol": protocol.to_dict(), "protocol_hash": protocol.hash,
            "phases": phases, "clicks": clicks, "environment": env, "load": monitor.reading.to_dict(), "rounds": 1}


def merge(results: list[dict]) -> dict:
    """Pool the timing samples of several rounds of the same job (FLOPs from the first, load summed,
    the highest matmul peak)."""
    from .load import LoadReading, combine

    base = json.loads(json.dumps(results[0]))
    for other in results[1:]:
        for mine, theirs in zip(base["phases"], other["phases"]):
            mine["latency_s"] += theirs["latency_s"]
        for mine, theirs in zip(base["clicks"], other["clicks"]):
            for k, values in enumerate(theirs["per_click_s"]):
                mine["per_click_s"][k] += values
        base["environment"]["matmul_peak_gflops"] = max(base["environment"].get("matmul_peak_gflops", 0.0),
                                                        other["environment"].get("matmul_peak_gflops", 0.0))
    base["load"] = combine(LoadReading.from_dict(r.get("load")) for r in results).to_dict()
    base["rounds"] = len(results)
    return base


# --- orchestration ------------------------------------------------------------------------------

class BenchError(Exception):
    """A worker process that failed; the message carries its stderr."""


def _label(spec: BenchSpec) -> str:
    protocol = spec.protocol.get("name", "neutral")
    return f"{spec.method} [{spec.implementation or 'default'}, {protocol}]"


def _spawn(spec: BenchSpec) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_file.write_text(json.dumps(dataclasses.asdict(spec)))
        proc = subprocess.run([sys.executable, "-m", "iseg_bench.bench", str(spec_file), str(out_file)],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not out_file.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise BenchError(f"{_label(spec)}: benchmark process failed (exit {proc.returncode}): {tail}")
        return json.loads(out_file.read_text())


@dataclass(frozen=True)
class BenchPlan:
    """What ``iseg-bench bench`` measures: methods under protocols (presets, .json files, or
    ``published``: each method's family preset) and implementations, on a synthetic frame of
    ``size`` for the network phases and on dataset images (optionally resized to ``frame``)."""

    methods: tuple[str, ...]
    protocols: tuple[str, ...] = ("published",)
    implementations: tuple[str, ...] = ("engineered",)
    untrained_control: str = "gt-degraded"
    size: tuple[int, int] = (384, 384)
    frame: tuple[int, int] | None = None
    rules: str | None = None
    input_size: int | None = None
    threads: int | None = None  # None: the physical cores
    datasets: tuple[str, ...] = ("Synthetic",)
    data_root: Path | None = None
    limit: int = 5
    clicks: int = 10
    warmup: int = 3
    repeats: int = 10
    rounds: int = 2
    out: Path = Path("results")
    weights: Path | None = None
    device: str = "cpu"


class BenchPlanError(ValueError):
    """A plan that cannot run; ``param`` names the option at fault."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def bench_protocols(specs: tuple[str, ...], family: str, input_size: int | None, control: str) -> list:
    """The protocols one method is benchmarked under: presets, files, or ``published`` (its family's)."""
    from .protocol import PUBLISHED, ProtocolError, published_protocol, resolve_protocol

    out = []
    for spec in specs:
        try:
            protocol = published_protocol(family) if spec == PUBLISHED else resolve_protocol(spec)
        except ProtocolError as exc:
            raise BenchPlanError(str(exc), "--protocol") from None
        if input_size is not None:
            protocol = protocol.replace(input_size=input_size)
        out.append(protocol.replace(untrained_control=control))
    return list({p.hash: p for p in out}.values())


def bench_specs(plan: BenchPlan) -> list[BenchSpec]:
    """One job per (method, protocol, implementation), every name checked first (BenchPlanError)."""
    import psutil

    from .adapters import METHODS
    from .datasets import DatasetError, open_dataset
    from .device import DeviceError, resolve_device
    from .predictor import IMPLEMENTATIONS
    from .registry import UnknownNameError

    classes = {}
    for name in plan.methods:
        try:
            classes[METHODS.canonical(name)] = METHODS.get(name)
        except UnknownNameError as exc:
            raise BenchPlanError(str(exc), "--methods") from None
    unknown = [i for i in plan.implementations if i not in IMPLEMENTATIONS]
    if unknown:
        raise BenchPlanError(f"unknown implementation(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(IMPLEMENTATIONS)}", "--implementation")
    for ds in plan.datasets:
        try:
            open_dataset(ds, plan.data_root)
        except DatasetError as exc:
            raise BenchPlanError(str(exc), "--datasets") from None
    try:
        device = resolve_device(plan.device)
    except DeviceError as exc:
        raise BenchPlanError(str(exc), "--device") from None
    threads = plan.threads or psutil.cpu_count(logical=False) or 1
    height, width = plan.size
    specs = []
    for name, cls in classes.items():
        for protocol in bench_protocols(plan.protocols, cls.family, plan.input_size, plan.untrained_control):
            for implementation in (plan.implementations if cls.implementations else [None]):
                specs.append(BenchSpec(name, height, width, threads, protocol.to_dict(), implementation,
                                       plan.datasets, str(plan.data_root) if plan.data_root else None, plan.frame,
                                       plan.rules, plan.limit, plan.clicks, plan.warmup, plan.repeats,
                                       str(plan.weights) if plan.weights else None, device=device))
    return specs


def run_bench_plan(plan: BenchPlan, echo=print) -> tuple[list[dict], list[str], str]:
    """Run every job of the plan; the results, the failures, and the efficiency table (Markdown,
    also written to ``<out>/bench/efficiency.md``; empty when nothing was measured)."""
    from .efficiency_tables import efficiency_markdown

    results, failures = run_bench(bench_specs(plan), plan.out, plan.rounds, echo)
    table = efficiency_markdown(results) if results else ""
    if results:
        (Path(plan.out) / BENCH_DIR / "efficiency.md").write_text(table + "\n")
    return results, failures, table


def run_bench(specs: list[BenchSpec], out: Path, rounds: int = 1, echo=print) -> tuple[list[dict], list[str]]:
    """Benchmark every spec in its own process, ``rounds`` times interleaved; store and return results."""
    collected: list[list[dict]] = [[] for _ in specs]
    failures: dict[int, str] = {}
    for r in range(rounds):
        for i, spec in enumerate(specs):
            if i in failures:
                continue
            echo(f"bench round {r + 1}/{rounds}: {_label(spec)}")
            try:
                collected[i].append(_spawn(dataclasses.replace(spec, count_flops=spec.count_flops and r == 0)))
            except BenchError as exc:
                failures[i] = str(exc)
    results = []
    for i, runs in enumerate(collected):
        if i in failures or not runs:
            continue
        merged = merge(runs)
        path = Path(out) / BENCH_DIR / bench_name(merged)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=1))
        results.append(merged)
    return results, list(failures.values())


def load_bench(out: Path) -> list[dict]:
    """Every stored benchmark result of a results folder."""
    folder = Path(out) / BENCH_DIR
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


# --- reading results ------------------------------------------------------------------------------

def image_latencies(result: dict, phase: str) -> list[float]:
    """Whole-click seconds on the benchmark images: click 1 for "first", every later click for "later"."""
    out: list[float] = []
    for entry in result["clicks"]:
        ks = entry["per_click_s"][:1] if phase == "first" else entry["per_click_s"][1:]
        for values in ks:
            out.extend(values)
    return out


def achieved_gflops(ph: dict) -> float:
    """A network phase's achieved rate: fvcore FLOPs (2 x MACs) over its median time (GFLOP/s)."""
    if not ph.get("flops") or not ph["latency_s"]:
        return float("nan")
    return ph["flops"]["gflops"] / float(np.median(ph["latency_s"]))


def phase_rows(result: dict) -> list[dict]:
    """One row per click phase: the whole click on images, and the network alone (if it is one)."""
    networks = {ph["phase"]: ph for ph in result["phases"]}
    peak = result["environment"].get("matmul_peak_gflops", float("nan"))
    rows = []
    for phase in ("first", "later"):
        ph = networks.get(phase)
        rate = achieved_gflops(ph) if ph else float("nan")
        rows.append({
            "method": result["method"], "label": label_of(result), "phase": phase,
            "implementation": result["info"].get("implementation", ""),
            "protocol": result["protocol"]["name"],
            "parts": ph["parts"] if ph else "not a network",
            "input": ph["input_size"] if ph else None, "batch": ph["batch"] if ph else None,
            "params": ph["params"] if ph else 0, "bn_statistics": ph.get("bn_statistics", 0) if ph else 0,
            "gmacs": ph["flops"]["gmacs"] if ph and ph["flops"] else float("nan"),
            "not_counted": sorted(ph["flops"]["not_counted"]) if ph and ph["flops"] else [],
            "network": summary(ph["latency_s"] if ph else []),
            "gflops_per_s": rate, "peak_share": rate / peak if peak else float("nan"),
            "images": summary(image_latencies(result, phase)),
        })
    return rows


def label_of(result: dict) -> str:
    from .predictor import MethodInfo

    return MethodInfo.from_dict(result["info"]).label


def click_curve(result: dict) -> list[float]:
    """Median whole-click latency (ms) per click index over every benchmarked image."""
    n = max((len(c["per_click_s"]) for c in result["clicks"]), default=0)
    curve = []
    for k in range(n):
        values = [x for c in result["clicks"] if k < len(c["per_click_s"]) for x in c["per_click_s"][k]]
        curve.append(float(np.median(values)) * 1000 if values else float("nan"))
    return curve


if __name__ == "__main__":  # the worker: python -m iseg_bench.bench SPEC.json OUT.json
    job = BenchSpec.from_dict(json.loads(Path(sys.argv[1]).read_text()))
    Path(sys.argv[2]).write_text(json.dumps(run_worker(job)))
