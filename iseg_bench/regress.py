"""The regression gate: every gated metric (``metric_catalog.GATED``: NoC, NoF, mIoU@k, mBIoU@k) against a
committed baseline.

A baseline file records what was run (methods with their weights identity, datasets with their
fingerprints, the protocol, the sample limit), where (the environment) and the numbers. The robot
user is deterministic, so on the same environment the default tolerance is zero: any change to the
clicker, the metrics, a loader or a method that moves a number fails. Across machines, library
versions (OpenCV, NumPy, PyTorch, BLAS) can move classical and deep methods by rounding; pass a
tolerance then, e.g. ``--tolerance noc=0.05,nof=1,miou=0.005``. Comparing against a baseline made
under another protocol, on another copy of a dataset or with other weights is refused: those are
different experiments, not regressions. So is a baseline made on another device type (CPU against
GPU kernels differ in rounding) unless a tolerance is given.

Every baseline since format 2 also keeps each sample's trace (its clicks and its IoU after every
click), so a change is reported where it begins: the method, the sample and the first click whose
position or IoU moved. Traces are compared at zero tolerance only (under a tolerance, rounding on
another machine may legitimately move a click). The gate always runs with one thread per worker:
torch's results depend on the thread count (its reductions are split differently).

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
from .metric_catalog import BY_KEY, GATED, THRESHOLD
from .protocol import Protocol
from .records import DATA_ERROR, OK, SampleRecord
from .summary import ResultRow

FORMAT = 2  # 2 adds the per-sample traces and the generated weights' spec; format 1 is still read
READABLE_FORMATS = (1, 2)
THREADS = 1  # torch and OpenCV threads per worker while the gate runs
SHOWN_SAMPLES = 20  # changed samples listed in full (the rest counted)


class BaselineError(Exception):
    """A baseline that cannot be read or does not describe the same experiment."""


class IncomparableError(BaselineError):
    """The current run is another experiment than the baseline's (protocol, data, weights, device)."""


class Tolerance:
    """Largest allowed absolute change of each gated metric (``metric_catalog.GATED``), in its unit:
    NoC in clicks, NoF in samples, mIoU and mBIoU as fractions; by default the declared tolerance (0)."""

    def __init__(self, **allowed: float) -> None:
        unknown = sorted(set(allowed) - {m.key for m in GATED})
        if unknown:
            raise ValueError(f"no tolerance for {', '.join(unknown)}; gated metrics: {', '.join(m.key for m in GATED)}")
        self.allowed = {m.key: (int if m.integer else float)(allowed.get(m.key, m.tolerance or 0)) for m in GATED}

    @property
    def zero(self) -> bool:
        return not any(self.allowed.values())

    def __str__(self) -> str:
        return ", ".join(f"{key} ±{value:g}" for key, value in self.allowed.items())

    @classmethod
    def parse(cls, text: str | None) -> Tolerance:
        if not text:
            return cls()
        example = ",".join(f"{m.key}={1 if m.integer else 0.005:g}" for m in GATED)
        values: dict[str, float] = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in BY_KEY or BY_KEY[key] not in GATED or not value:
                raise ValueError(f"tolerance must look like {example}, got {text!r}")
            values[key] = int(value) if BY_KEY[key].integer else float(value)
        return cls(**values)


NO_TOLERANCE = Tolerance()  # every gated metric at its declared tolerance (0: any change fails)


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


UNITS = {"samples": "samples", "seeds": "seeds", **{m.label: m.unit for m in GATED}}


def row_metrics(row: ResultRow) -> dict:
    """What a baseline keeps of a result row: its counts and every gated metric."""
    seeds = {"seeds": row.seeds} if row.seeds > 1 else {}  # a robot baseline keeps its old layout
    return {"samples": row.samples, **seeds, **{m.key: row.value(m) for m in GATED},
            "data_errors": row.data_errors, "method_errors": row.method_errors}


def _checks(old: dict, new: dict, tol: Tolerance) -> list[tuple[str, float, float, float]]:
    """(name, baseline, now, allowed) of every gated metric the baseline holds (an older baseline
    lacks the metrics declared after it was made, which are then not compared)."""
    checks = []
    for m in GATED:
        if m.key not in old:
            continue
        allowed, now = tol.allowed[m.key], new[m.key]
        if m.shape == THRESHOLD:
            checks += [(f"{m.label}@{k}", v, now.get(k, math.nan), allowed) for k, v in old[m.key].items()]
        else:  # CLICK
            checks += [(f"{m.label}@{k + 1}", v, now[k] if k < len(now) else math.nan, allowed)
                       for k, v in enumerate(old[m.key])]
    return checks


def sample_label(record: SampleRecord, seeds: int) -> str:
    """How a trace names its sample: the sample id, with the click seed when there are several."""
    return f"{record.sample_id}#seed{record.seed}" if seeds > 1 else record.sample_id


def trace(record: SampleRecord) -> dict:
    """What a sample did: its clicks ``[y, x, positive]`` and float32 IoU after each (and a status
    other than ok)."""
    status = {} if record.status == OK else {"status": record.status}
    return {**status, "clicks": record.clicks, "ious": record.ious}


def traces_of(records: list[SampleRecord], seeds: int) -> dict[str, dict[str, dict[str, dict]]]:
    """method -> dataset -> sample -> trace."""
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for r in sorted(records, key=lambda r: (r.method, r.dataset, r.sample_id, r.seed)):
        out.setdefault(r.method, {}).setdefault(r.dataset, {})[sample_label(r, seeds)] = trace(r)
    return out


def make_baseline(name: str, rows: list[ResultRow], protocol: dict, protocol_hash: str, datasets: dict,
                  limit: int | None, environment: dict, command: str, traces: dict | None = None,
                  weights: str | None = None) -> dict:
    """A baseline document from summary rows (one per method and dataset), with the samples' traces
    and, for generated weights (``calibrated``), how to make them again."""
    results: dict[str, dict] = {}
    methods: dict[str, dict] = {}
    for r in rows:
        results.setdefault(r.method, {})[r.dataset] = row_metrics(r)
        methods[r.method] = {"weights": r.weights, "status": r.status, "device": device_type(r.device)}
    return {"format": FORMAT, "name": name, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command, "protocol": protocol, "protocol_hash": protocol_hash, "limit": limit,
            "weights_spec": weights, "methods": methods, "datasets": datasets, "environment": environment,
            "results": results, "traces": traces or {}}


def dumps_baseline(doc: dict) -> str:
    """The baseline as indented JSON, each sample's trace on one line (a moved sample is one line of diff)."""
    head = json.dumps({k: v for k, v in doc.items() if k != "traces"}, indent=1)
    blocks = []
    for method, per_dataset in doc.get("traces", {}).items():
        datasets = []
        for dataset, samples in per_dataset.items():
            lines = ",\n".join(f"    {json.dumps(sample)}: {json.dumps(t, separators=(',', ':'))}"
                                for sample, t in samples.items())
            datasets.append(f"   {json.dumps(dataset)}: {{\n{lines}\n   }}")
        blocks.append(f"  {json.dumps(method)}: {{\n" + ",\n".join(datasets) + "\n  }")
    traces = "{\n" + ",\n".join(blocks) + "\n }" if blocks else "{}"
    return head[:-2] + f',\n "traces": {traces}\n}}\n'


def read_baseline(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (create it with --update)") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS or "results" not in data:
        raise BaselineError(f"{path} is not an iseg-bench baseline (formats {', '.join(map(str, READABLE_FORMATS))})")
    return data


def refuse_if_incomparable(baseline: dict, protocol_hash: str, fingerprints: dict[str, str],
                           weights: dict[str, str], devices: dict[str, str] | None = None,
                           tolerance: Tolerance = NO_TOLERANCE) -> None:
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
            checks += _checks(old, new, tol)
            for metric, a, b, allowed in checks:
                if math.isnan(b) or abs(b - a) > allowed + 1e-12:
                    changes.append(Change(method, dataset, metric, a, b, allowed))
    return changes, missing


@dataclass(frozen=True)
class SampleChange:
    """Where one sample's trace first departs from the baseline's: ``click`` (1-based; 0 for the
    sample as a whole), what moved there, and the two values."""

    method: str
    dataset: str
    sample: str
    click: int
    what: str
    baseline: str
    current: str


def _click_text(click: list[int]) -> str:
    y, x, positive = click
    return f"(y={y}, x={x}, {'+' if positive else '-'})"


def first_difference(method: str, dataset: str, sample: str, old: dict, new: dict | None) -> SampleChange | None:
    """The first click at which ``new`` departs from ``old`` (a click placed elsewhere, another IoU,
    another length), or a change of the sample's status; None when they are the same."""
    if new is None:
        return SampleChange(method, dataset, sample, 0, "sample", "evaluated", "missing")
    before, after = old.get("status", OK), new.get("status", OK)
    if before != after:
        return SampleChange(method, dataset, sample, 0, "status", before, after)
    for k, (a, b) in enumerate(zip(old["clicks"], new["clicks"]), 1):
        if list(a) != list(b):
            return SampleChange(method, dataset, sample, k, "click", _click_text(a), _click_text(b))
        if old["ious"][k - 1] != new["ious"][k - 1]:
            return SampleChange(method, dataset, sample, k, "IoU", f"{old['ious'][k - 1]:.7g}",
                                f"{new['ious'][k - 1]:.7g}")
    if len(old["ious"]) != len(new["ious"]):
        k = min(len(old["ious"]), len(new["ious"])) + 1
        return SampleChange(method, dataset, sample, k, "clicks run", str(len(old["ious"])), str(len(new["ious"])))
    if old["ious"] != new["ious"]:  # an imported log has IoUs without clicks
        k = next(i for i, (a, b) in enumerate(zip(old["ious"], new["ious"]), 1) if a != b)
        return SampleChange(method, dataset, sample, k, "IoU", f"{old['ious'][k - 1]:.7g}", f"{new['ious'][k - 1]:.7g}")
    return None


def compare_traces(baseline: dict, current: dict) -> list[SampleChange]:
    """Every baseline sample whose trace changed, at its first changed click."""
    changes = []
    for method, per_dataset in baseline.get("traces", {}).items():
        for dataset, samples in per_dataset.items():
            now = current.get(method, {}).get(dataset)
            if now is None:
                continue  # the whole result is missing: reported once, by ``compare``
            for sample, old in samples.items():
                change = first_difference(method, dataset, sample, old, now.get(sample))
                if change is not None:
                    changes.append(change)
    return changes


def sample_changes_table(changes: list[SampleChange], shown: int = SHOWN_SAMPLES) -> str:
    """The changed samples, each at its first changed click (the first ``shown``, the rest counted)."""
    from tabulate import tabulate

    body = [[c.method, c.dataset, c.sample, f"click {c.click}" if c.click else "-", c.what, c.baseline, c.current]
            for c in changes[:shown]]
    table = tabulate(body, headers=["method", "dataset", "sample", "first change", "what", "baseline", "now"],
                     tablefmt="simple", disable_numparse=True)
    more = len(changes) - shown
    return table + (f"\n... and {more} more changed samples" if more > 0 else "")


def changes_table(changes: list[Change]) -> str:
    from tabulate import tabulate

    body = [[c.method, c.dataset, c.metric, f"{c.baseline:.6g}", f"{c.current:.6g}", f"{c.delta:+.6g}",
             f"±{c.allowed:g}", c.unit] for c in changes]
    return tabulate(body, headers=["method", "dataset", "metric", "baseline", "now", "change", "tolerance", "unit"],
                    tablefmt="simple", disable_numparse=True,
                    colalign=("left", "left", "left", "right", "right", "right", "left", "left"))



@dataclass(frozen=True, kw_only=True)
class RegressionPlan:
    """A regression check: the baseline file, the tolerance, where to run. Without ``update``,
    ``methods``, ``datasets`` and ``limit`` (the first N samples of each dataset, compared by their
    traces alone) pick the part of the baseline to check (default: all of it); with ``update`` they
    and ``protocol`` make a new baseline (without methods and datasets the baseline's own experiment
    is run again and rewritten). ``weights``: a checkpoint file or folder, or generated weights
    (``calibrated``), which a baseline keeps and re-creates itself."""

    baseline: Path
    tolerance: Tolerance = NO_TOLERANCE
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
    weights: str | None = None


@dataclass
class RegressionOutcome:
    """What the gate found: ``written`` (a baseline was (re)written), ``ok`` or ``regression``."""

    verdict: str
    protocol: Protocol
    changes: list[Change] = field(default_factory=list)
    samples: list[SampleChange] = field(default_factory=list)  # at zero tolerance: where each changed sample departs
    missing: list[str] = field(default_factory=list)
    not_loaded: list[str] = field(default_factory=list)
    compared: int = 0
    traced: int = 0  # samples whose clicks and IoUs were compared one by one
    rows: int = 0


def select(baseline: dict, methods: tuple[str, ...], datasets: tuple[str, ...], path: Path) -> dict:
    """The part of ``baseline`` holding ``methods`` (names or aliases) and ``datasets`` (names or the
    specs they were opened with); BaselineError naming what the baseline does not hold."""
    from .adapters import METHODS

    keep_methods = list(baseline["methods"])
    if methods:
        keep_methods = [METHODS.canonical(m) if m in METHODS else m for m in methods]
        unknown = [m for m in keep_methods if m not in baseline["methods"]]
        if unknown:
            raise BaselineError(f"{path} holds no results of {', '.join(unknown)} "
                                f"(it holds {', '.join(baseline['methods'])})")
    keep_datasets = list(baseline["datasets"])
    if datasets:
        by_spec = {info["spec"]: name for name, info in baseline["datasets"].items()}
        keep_datasets = [by_spec.get(d, d) for d in datasets]
        unknown = [d for d in keep_datasets if d not in baseline["datasets"]]
        if unknown:
            raise BaselineError(f"{path} holds no results on {', '.join(unknown)} "
                                f"(it holds {', '.join(baseline['datasets'])})")

    def part(per_method: dict) -> dict:
        return {m: {d: v for d, v in per_method[m].items() if d in keep_datasets}
                for m in keep_methods if m in per_method}

    return {**baseline, "methods": {m: baseline["methods"][m] for m in keep_methods},
            "datasets": {d: baseline["datasets"][d] for d in keep_datasets},
            "results": part(baseline["results"]), "traces": part(baseline.get("traces", {}))}


def traces_only(baseline: dict, tolerance: Tolerance, path: Path) -> dict:
    """The baseline to check by its traces alone (a part of its samples: the aggregates, which need
    every sample, are dropped), at zero tolerance only."""
    if not tolerance.zero:
        raise BaselineError("checking the first samples (--limit) compares them click by click, at zero tolerance "
                            "only: drop --tolerance or --limit")
    if not baseline.get("traces"):
        raise BaselineError(f"{path} keeps no per-sample traces (format 1): it can only be checked whole; "
                            "re-create it with --update to check a part")
    return {**baseline, "results": {}}


def run_regression(plan: RegressionPlan) -> RegressionOutcome:
    """Run the baseline's experiment and compare (or, with ``update``, write the baseline).

    BaselineError: no usable baseline; IncomparableError: another experiment. Unknown names and
    datasets raise as in ``runner.run``.
    """
    from . import environment
    from .folder_summary import build_reports
    from .runner import RunPlan, run
    from .store import ResultStore

    base: dict | None = None
    if plan.update and (plan.methods or plan.datasets):
        if not (plan.methods and plan.datasets):
            raise BaselineError("a new baseline needs both --methods and --datasets (without either, --update "
                                "re-creates the existing baseline's own experiment)")
        methods, datasets, weights = plan.methods, plan.datasets, plan.weights
        protocol, limit, seeds = plan.protocol or Protocol(), plan.limit, plan.click_seeds
    elif plan.baseline.exists():
        base = read_baseline(plan.baseline)
        if not plan.update:
            base = select(base, plan.methods, plan.datasets, plan.baseline)
        methods = tuple(base["methods"])
        datasets = tuple(info["spec"] for info in base["datasets"].values())
        protocol, limit = Protocol.from_dict(base["protocol"]), base["limit"]
        seeds, weights = base.get("click_seeds", 1), plan.weights or base.get("weights_spec")
        if plan.limit is not None and not plan.update:
            base, limit = traces_only(base, plan.tolerance, plan.baseline), min(plan.limit, limit or plan.limit)
    else:
        raise BaselineError(f"{plan.baseline} does not exist; create it with --update --methods ... --datasets ...")
    with tempfile.TemporaryDirectory() as tmp:
        out = plan.results or Path(tmp) / "results"
        outcome = run(RunPlan(methods=methods, datasets=datasets, protocol=protocol, out=out, data_root=plan.data_root,
                              limit=limit, weights=Path(weights) if weights else None,
                              executor="process" if plan.workers > 1 else "inline", workers=plan.workers,
                              threads=THREADS, device=plan.device, click_seeds=seeds))
        rows = [r for rep in build_reports(out) if rep.protocol.hash == protocol.hash for r in rep.rows
                if r.method in methods or base is None]
        records = [r for r in ResultStore(out).load() if r.protocol == protocol.hash and r.status != DATA_ERROR
                   and any(r.method == row.method and r.dataset == row.dataset for row in rows)]
        manifest = json.loads((out / "manifest.json").read_text())
    result = RegressionOutcome("ok", protocol, not_loaded=outcome.not_loaded, rows=len(rows))
    fingerprints = {r.dataset: r.fingerprint for r in rows}
    traces = traces_of(records, seeds)
    if plan.update:
        spec_of = dict(zip((d["name"] for d in manifest["datasets"].values()), datasets))
        generated = weights if weights and not Path(weights).exists() else None  # a path is this machine's
        doc = make_baseline(plan.baseline.stem, rows, protocol.to_dict(), protocol.hash,
                            {name: {"spec": spec_of.get(name, name), "fingerprint": fp,
                                    "samples": max(r.samples + r.data_errors for r in rows if r.dataset == name)}
                             for name, fp in fingerprints.items()},
                            limit, environment.capture(), " ".join(sys.argv), traces, generated)
        if seeds > 1:
            doc["click_seeds"] = seeds
        plan.baseline.parent.mkdir(parents=True, exist_ok=True)
        plan.baseline.write_text(dumps_baseline(doc))
        result.verdict = "written"
        return result
    assert base is not None  # without a baseline file only ``update`` gets here
    refuse_if_incomparable(base, protocol.hash, fingerprints, {r.method: r.weights for r in rows},
                           {r.method: device_type(r.device) for r in rows}, plan.tolerance)
    result.changes, result.missing = compare(base, rows, plan.tolerance)
    if not base["results"]:  # a part of the samples, checked by their traces: those the run evaluated
        result.missing = [f"{m} on {d}" for m, per in base["traces"].items() for d in per if d not in traces.get(m, {})]
        base = {**base, "traces": {m: {d: {k: t for k, t in samples.items() if k in traces.get(m, {}).get(d, {})}
                                        for d, samples in per.items()} for m, per in base["traces"].items()}}
    if plan.tolerance.zero:
        result.samples = compare_traces(base, traces)
        result.traced = sum(len(samples) for per in base["traces"].values() for samples in per.values())
    result.compared = sum(len(per) for per in base["results"].values())  # method/dataset results
    result.verdict = "regression" if result.changes or result.missing or result.samples else "ok"
    return result
