"""The regression gate: NoC, NoF and mIoU@k against a committed baseline.

A baseline file records what was run (methods with their weights identity, datasets with their
fingerprints, the protocol, the sample limit), where (the environment) and the numbers. The robot
user is deterministic, so on the same environment the default tolerance is zero: any change to the
clicker, the metrics, a loader or a method that moves a number fails. Across machines, library
versions (OpenCV, NumPy, PyTorch, BLAS) can move classical and deep methods by rounding; pass a
tolerance then, e.g. ``--tolerance noc=0.05,nof=1,miou=0.005``. Comparing against a baseline made
under another protocol, on another copy of a dataset or with other weights is refused: those are
different experiments, not regressions. So is a baseline made on another device type (CPU against
GPU kernels differ in rounding) unless a tolerance is given.

``run_regression`` is the whole gate (run the baseline's experiment, then compare or rewrite); the
command line only maps its outcome to a message and an exit code.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .device import device_type
from .protocol import Protocol
from .summary import ResultRow

FORMAT = 1


class BaselineError(Exception):
    """A baseline that cannot be read or does not describe the same experiment."""


class IncomparableError(BaselineError):
    """The current run is another experiment than the baseline's (protocol, data, weights, device)."""


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed absolute change: NoC in clicks, NoF in samples, mIoU as a fraction."""

    noc: float = 0.0
    nof: int = 0
    miou: float = 0.0

    @property
    def zero(self) -> bool:
        return self.noc == 0 and self.nof == 0 and self.miou == 0

    @classmethod
    def parse(cls, text: str | None) -> Tolerance:
        if not text:
            return cls()
        values: dict[str, float] = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in ("noc", "nof", "miou") or not value:
                raise ValueError(f"tolerance must look like noc=0.05,nof=1,miou=0.005, got {text!r}")
            values[key] = int(value) if key == "nof" else float(value)
        return cls(noc=values.get("noc", 0.0), nof=int(values.get("nof", 0)), miou=values.get("miou", 0.0))


@dataclass(frozen=True)
class Change:
    method: str
    dataset: str
    metric: str
    baseline: float
    current: float
    allowed: float

    @property
    def delta(self) -> float:
        return self.current - self.baseline

    @property
    def unit(self) -> str:
        return UNITS[self.metric.split("@")[0]]


UNITS = {"samples": "samples", "NoC": "clicks", "NoF": "samples", "mIoU": "IoU (0-1)"}


def row_metrics(row: ResultRow) -> dict:
    seeds = {"seeds": row.seeds} if row.seeds > 1 else {}  # a robot baseline keeps its old layout
    return {"samples": row.samples, **seeds, "noc": row.noc, "nof": row.nof, "miou": row.miou,
            "data_errors": row.data_errors, "method_errors": row.method_errors}


def make_baseline(name: str, rows: list[ResultRow], protocol: dict, protocol_hash: str, datasets: dict,
                  limit: int | None, environment: dict, command: str) -> dict:
    """A baseline document from summary rows (one per method and dataset)."""
    results: dict[str, dict] = {}
    methods: dict[str, dict] = {}
    for r in rows:
        results.setdefault(r.method, {})[r.dataset] = row_metrics(r)
        methods[r.method] = {"weights": r.weights, "status": r.status, "device": device_type(r.device)}
    return {"format": FORMAT, "name": name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command, "protocol": protocol, "protocol_hash": protocol_hash, "limit": limit,
            "methods": methods, "datasets": datasets, "environment": environment, "results": results}


def read_baseline(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (create it with --update)") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    if data.get("format") != FORMAT or "results" not in data:
        raise BaselineError(f"{path} is not an iseg-bench baseline (format {FORMAT})")
    return data


def refuse_if_incomparable(baseline: dict, protocol_hash: str, fingerprints: dict[str, str],
                           weights: dict[str, str], devices: dict[str, str] | None = None,
                           tolerance: Tolerance = Tolerance()) -> None:
    """IncomparableError explaining why the current run is a different experiment, if it is one.
    ``devices`` (method -> device type) may differ from the baseline's only under a tolerance."""
    reasons = []
    for name, info in baseline["methods"].items():
        base_device, now = info.get("device", "cpu"), (devices or {}).get(name)
        if now is not None and now != base_device and tolerance.zero:
            reasons.append(f"method {name} computed on {now}, the baseline on {base_device}: kernels on different "
                           "device types round differently, so compare them only with --tolerance")
    if baseline["protocol_hash"] != protocol_hash:
        reasons.append(f"protocol {protocol_hash} differs from the baseline's {baseline['protocol_hash']}")
    for name, info in baseline["datasets"].items():
        if name in fingerprints and fingerprints[name] != info["fingerprint"]:
            reasons.append(f"dataset {name} is another copy (fingerprint {fingerprints[name]}, baseline "
                           f"{info['fingerprint']}): different copies give different NoC")
    for name, info in baseline["methods"].items():
        if name in weights and weights[name] != info["weights"]:
            reasons.append(f"method {name} has other weights or another algorithm version ({weights[name]}, "
                           f"baseline {info['weights']})")
    if reasons:
        raise IncomparableError("not comparable with the baseline: " + "; ".join(reasons)
                            + ". Re-create the baseline deliberately with --update if this is intended.")


def compare(baseline: dict, rows: list[ResultRow], tol: Tolerance) -> tuple[list[Change], list[str]]:
    """Changes beyond tolerance, and baseline entries the current results lack."""
    current = {(r.method, r.dataset): row_metrics(r) for r in rows}
    changes, missing = [], []
    for method, per_dataset in baseline["results"].items():
        for dataset, old in per_dataset.items():
            new = current.get((method, dataset))
            if new is None:
                missing.append(f"{method} on {dataset}")
                continue
            checks: list[tuple[str, float, float, float]] = [("samples", old["samples"], new["samples"], 0)]
            if "seeds" in old:
                checks.append(("seeds", old["seeds"], new.get("seeds", 1), 0))
            checks += [(f"NoC@{k}", v, new["noc"].get(k, math.nan), tol.noc) for k, v in old["noc"].items()]
            checks += [(f"NoF@{k}", v, new["nof"].get(k, math.nan), tol.nof) for k, v in old["nof"].items()]
            checks += [(f"mIoU@{k + 1}", v, new["miou"][k] if k < len(new["miou"]) else math.nan, tol.miou)
                       for k, v in enumerate(old["miou"])]
            for metric, a, b, allowed in checks:
                if math.isnan(b) or abs(b - a) > allowed + 1e-12:
                    changes.append(Change(method, dataset, metric, a, b, allowed))
    return changes, missing


def changes_table(changes: list[Change]) -> str:
    from tabulate import tabulate

    body = [[c.method, c.dataset, c.metric, f"{c.baseline:.6g}", f"{c.current:.6g}", f"{c.delta:+.6g}",
             f"±{c.allowed:g}", c.unit] for c in changes]
    return tabulate(body, headers=["method", "dataset", "metric", "baseline", "now", "change", "tolerance", "unit"],
                    tablefmt="simple", disable_numparse=True,
                    colalign=("left", "left", "left", "right", "right", "right", "left", "left"))



@dataclass(frozen=True)
class RegressionPlan:
    """A regression check: the baseline file, the tolerance, where to run; with ``update``, the
    methods, datasets, protocol and limit of a new baseline (an existing one keeps its own)."""

    baseline: Path
    tolerance: Tolerance = Tolerance()
    update: bool = False
    methods: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    protocol: Protocol | None = None
    limit: int | None = None
    results: Path | None = None  # a results folder to reuse and keep (None: a fresh temporary one)
    data_root: Path | None = None
    workers: int = 1
    device: str = "cpu"
    click_seeds: int = 1  # with ``update``, of a new baseline under a seeded clicker


@dataclass
class RegressionOutcome:
    """What the gate found: ``written`` (a baseline was (re)written), ``ok`` or ``regression``."""

    verdict: str
    protocol: Protocol
    changes: list[Change] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    not_loaded: list[str] = field(default_factory=list)
    compared: int = 0
    rows: int = 0


def run_regression(plan: RegressionPlan) -> RegressionOutcome:
    """Run the baseline's experiment and compare (or, with ``update``, write the baseline).

    BaselineError: no usable baseline; IncomparableError: another experiment. Unknown names and
    datasets raise as in ``runner.run``.
    """
    from . import environment
    from .report import build_reports
    from .runner import RunPlan, run

    if plan.baseline.exists():
        base = read_baseline(plan.baseline)
        methods = tuple(base["methods"])
        datasets = tuple(info["spec"] for info in base["datasets"].values())
        protocol, limit = Protocol.from_dict(base["protocol"]), base["limit"]
        seeds = base.get("click_seeds", 1)
    elif plan.update and plan.methods and plan.datasets:
        base, methods, datasets = None, plan.methods, plan.datasets
        protocol, limit, seeds = plan.protocol or Protocol(), plan.limit, plan.click_seeds
    else:
        raise BaselineError(f"{plan.baseline} does not exist; create it with --update --methods ... --datasets ...")
    with tempfile.TemporaryDirectory() as tmp:
        out = plan.results or Path(tmp) / "results"
        outcome = run(RunPlan(methods, datasets, protocol, out, plan.data_root, limit,
                              executor="process" if plan.workers > 1 else "inline", workers=plan.workers,
                              device=plan.device, click_seeds=seeds))
        rows = [r for rep in build_reports(out) if rep.protocol.hash == protocol.hash for r in rep.rows]
        manifest = json.loads((out / "manifest.json").read_text())
    result = RegressionOutcome("ok", protocol, not_loaded=outcome.not_loaded, rows=len(rows))
    fingerprints = {r.dataset: r.fingerprint for r in rows}
    if plan.update:
        spec_of = dict(zip((d["name"] for d in manifest["datasets"].values()), datasets))
        doc = make_baseline(plan.baseline.stem, rows, protocol.to_dict(), protocol.hash,
                            {name: {"spec": spec_of.get(name, name), "fingerprint": fp,
                                    "samples": max(r.samples + r.data_errors for r in rows if r.dataset == name)}
                             for name, fp in fingerprints.items()},
                            limit, environment.capture(), " ".join(sys.argv))
        if seeds > 1:
            doc["click_seeds"] = seeds
        plan.baseline.parent.mkdir(parents=True, exist_ok=True)
        plan.baseline.write_text(json.dumps(doc, indent=1) + "\n")
        result.verdict = "written"
        return result
    assert base is not None  # without a baseline file only ``update`` gets here
    refuse_if_incomparable(base, protocol.hash, fingerprints, {r.method: r.weights for r in rows},
                           {r.method: device_type(r.device) for r in rows}, plan.tolerance)
    result.changes, result.missing = compare(base, rows, plan.tolerance)
    result.compared = sum(len(per) for per in base["results"].values())  # method/dataset results
    result.verdict = "regression" if result.changes or result.missing else "ok"
    return result
