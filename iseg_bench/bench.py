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

Results are JSON files in ``<out>/bench/`` with the environment and machine load inside. The
measuring is ``bench_worker.py``, the reading ``bench_results.py``.
``run_bench_plan`` is the whole command (checks, one job per method, implementation and protocol,
the rounds, the efficiency table); the command line only parses its options into a ``BenchPlan``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .bench_results import BENCH_DIR
from .bench_worker import BenchSpec


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



def merge(results: list[dict]) -> dict:
    """Pool the timing samples of several rounds of the same job (FLOPs from the first, load summed,
    the highest matmul peak)."""
    from .machine_load import LoadReading, combine

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
        proc = subprocess.run([sys.executable, "-m", "iseg_bench.bench_worker", str(spec_file), str(out_file)],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not out_file.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise BenchError(f"{_label(spec)}: benchmark process failed (exit {proc.returncode}): {tail}")
        return json.loads(out_file.read_text())


@dataclass(frozen=True, kw_only=True)
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
    from . import adapters  # noqa: F401  (importing the families registers their presets)
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
    from .reporting.efficiency_tables import efficiency_markdown

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
