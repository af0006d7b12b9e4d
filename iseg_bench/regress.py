"""The regression gate: NoC, NoF and mIoU@k against a committed baseline.

A baseline file records what was run (methods with their weights identity, datasets with their
fingerprints, the protocol, the sample limit), where (the environment) and the numbers. The robot
user is deterministic, so on the same environment the default tolerance is zero: any change to the
clicker, the metrics, a loader or a method that moves a number fails. Across machines, library
versions (OpenCV, NumPy, PyTorch, BLAS) can move classical and deep methods by rounding; pass a
tolerance then, e.g. ``--tolerance noc=0.05,nof=1,miou=0.005``. Comparing against a baseline made
under another protocol, on another copy of a dataset or with other weights is refused: those are
different experiments, not regressions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .summary import ResultRow

FORMAT = 1


class BaselineError(Exception):
    """A baseline that cannot be read or does not describe the same experiment."""


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed absolute change: NoC in clicks, NoF in samples, mIoU as a fraction."""

    noc: float = 0.0
    nof: int = 0
    miou: float = 0.0

    @classmethod
    def parse(cls, text: str | None) -> Tolerance:
        if not text:
            return cls()
        values = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in ("noc", "nof", "miou") or not value:
                raise ValueError(f"tolerance must look like noc=0.05,nof=1,miou=0.005, got {text!r}")
            values[key] = int(value) if key == "nof" else float(value)
        return cls(**values)


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
    return {"samples": row.samples, "noc": row.noc, "nof": row.nof, "miou": row.miou,
            "data_errors": row.data_errors, "method_errors": row.method_errors}


def make_baseline(name: str, rows: list[ResultRow], protocol: dict, protocol_hash: str, datasets: dict,
                  limit: int | None, environment: dict, command: str) -> dict:
    """A baseline document from summary rows (one per method and dataset)."""
    results: dict[str, dict] = {}
    methods: dict[str, dict] = {}
    for r in rows:
        results.setdefault(r.method, {})[r.dataset] = row_metrics(r)
        methods[r.method] = {"weights": r.weights, "status": r.status}
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
                           weights: dict[str, str]) -> None:
    """BaselineError explaining why the current run is a different experiment, if it is one."""
    reasons = []
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
        raise BaselineError("not comparable with the baseline: " + "; ".join(reasons)
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
            checks = [("samples", old["samples"], new["samples"], 0)]
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

