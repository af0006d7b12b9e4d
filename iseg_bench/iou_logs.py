"""Per-sample IoU logs of the official evaluation scripts, read safely and turned into records.

RITM, FocalClick and EMC-Click's ``evaluate_model.py`` can save the IoU after every click of every
sample: ``--save-ious`` pickles the list of float32 arrays, ``--iou-analysis`` a dict with
``dataset_name``, ``model_name`` and ``all_ious``. Imported as records, a published run sits beside
our own in every table, in ``compare`` (sample by sample) and in ``regress``. The log holds no
clicks and no times: those stay empty / unmeasured, and the method is labelled as imported.

Pickles can run code when loaded; these are read with an unpickler that builds nothing but NumPy
arrays, lists, tuples, dicts and plain values.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic_files import sha256_file
from .protocol import Protocol
from .records import FIRST, LATER, SampleRecord

_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("builtins", "list"), ("builtins", "tuple"), ("builtins", "dict"),
}


class IouLogError(ValueError):
    """A log that cannot be read, or that does not fit the dataset or the declared protocol."""


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to build {module}.{name}: an IoU log holds only NumPy arrays")


@dataclass
class IouLog:
    """The per-sample IoU traces of one official evaluation run, in the order the script wrote them."""

    path: Path
    sha256: str
    ious: list[np.ndarray]
    dataset_name: str | None = None
    model_name: str | None = None


def read_iou_log(path: str | Path) -> IouLog:
    """Read a ``--save-ious`` list or an ``--iou-analysis`` dict; IouLogError names the file and the fault."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = _ArraysOnly(fh).load()
    except FileNotFoundError:
        raise IouLogError(f"{path}: no such file") from None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError) as exc:
        raise IouLogError(f"{path}: not a readable IoU log ({type(exc).__name__}: {exc})") from None
    meta = {}
    if isinstance(data, dict):
        if "all_ious" not in data:
            raise IouLogError(f"{path}: a dict without 'all_ious' (keys: {sorted(map(str, data))})")
        meta = {"dataset_name": data.get("dataset_name"), "model_name": data.get("model_name")}
        data = data["all_ious"]
    if isinstance(data, np.ndarray) and data.ndim == 2:
        data = list(data)
    if not isinstance(data, (list, tuple)) or not data:
        raise IouLogError(f"{path}: expected a non-empty list of per-sample IoU arrays, got {type(data).__name__}")
    traces = []
    for i, trace in enumerate(data):
        t = np.asarray(trace)
        if t.ndim != 1 or t.size == 0 or not np.issubdtype(t.dtype, np.number):
            raise IouLogError(f"{path}: sample {i} is not a non-empty 1-D array of IoU values (shape {t.shape})")
        t = t.astype(np.float32)
        finite = t[~np.isnan(t)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise IouLogError(f"{path}: sample {i} has IoU values outside [0, 1]")
        traces.append(t)
    return IouLog(path, sha256_file(path), traces, **{k: (str(v) if v is not None else None) for k, v in meta.items()})


def rank_major_order(n: int, world_size: int) -> list[int]:
    """Dataset index of each position in a log gathered from ``world_size`` ranks (rank r evaluates
    r, r + W, r + 2W, ...; the ranks' lists are concatenated in rank order).

    >>> rank_major_order(5, 2)
    [0, 2, 4, 1, 3]
    """
    return [i for r in range(world_size) for i in range(r, n, world_size)]


def check_protocol(log: IouLog, protocol: Protocol) -> None:
    """Refuse a log whose traces could not come from ``protocol``'s click budget and early stop."""
    mc, stop = protocol.max_clicks, protocol.stop_threshold
    for i, t in enumerate(log.ious):
        if t.size > mc:
            raise IouLogError(f"{log.path}: sample {i} has {t.size} clicks, more than the protocol's max_clicks {mc}")
        if t.size == mc:
            continue
        if stop is None:
            raise IouLogError(f"{log.path}: sample {i} stops after {t.size} clicks, but protocol {protocol.name} "
                              f"never stops early; declare the protocol the log was made with")
        stopped = t >= np.float32(stop)
        allowed = np.arange(1, t.size + 1) >= protocol.min_clicks
        if not stopped[-1] or (stopped & allowed)[:-1].any():
            raise IouLogError(
                f"{log.path}: sample {i} stops after {t.size} clicks at IoU {t[-1]:.4f}, which protocol "
                f"{protocol.name} would not do (it stops at the first IoU >= {stop:g}); the script's "
                "--target-iou must equal the protocol's highest threshold: declare the protocol the log was made "
                "with (a preset or a .json file)")


def records_from_log(log: IouLog, method: str, dataset, protocol: Protocol, world_size: int = 1) -> list[SampleRecord]:
    """One record per sample of ``dataset`` (an opened Dataset), matched by position in the log."""
    n = len(dataset.ids)
    if len(log.ious) != n:
        raise IouLogError(f"{log.path}: the log has {len(log.ious)} samples, {dataset.name} has {n}; import a log "
                          "of the whole dataset, evaluated from the same copy")
    check_protocol(log, protocol)
    weights = f"iou-log:{log.sha256[:16]}"
    records = []
    for position, index in enumerate(rank_major_order(n, world_size)):
        t = log.ious[position]
        records.append(SampleRecord(
            method, weights, dataset.name, dataset.fingerprint, dataset.ids[index], protocol.hash,
            ious=[float(v) for v in t], latency_s=[float("nan")] * t.size,
            phases=[FIRST] + [LATER] * (t.size - 1), setup_s=float("nan"), timed=False))
    return records


def describe_log(log: IouLog, method: str, world_size: int) -> dict:
    """The MethodInfo fields of an imported log (as stored in the manifest)."""
    origin = f"IoU log {log.path.name} (sha256 {log.sha256[:16]})"
    model = f", model {log.model_name}" if log.model_name else ""
    order = f", gathered from {world_size} ranks" if world_size > 1 else ""
    return {"name": method, "family": "imported", "weights": f"iou-log:{log.sha256[:16]}", "trained": None,
            "source": origin, "notes": f"imported from the official evaluation script's {origin}{model}{order}; "
                                       "no clicks or times were logged"}


def import_log(path: str | Path, method: str, dataset, protocol: Protocol, results_dir: str | Path,
               world_size: int = 1, wait: bool = False,
               on_wait: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Append a log's records to a results folder under its writer lock (busy: StoreBusy, or with
    ``wait`` wait for the holder, ``on_wait`` told once); (imported, already there)."""
    from .predictor import MethodInfo
    from .store import ResultStore

    log = read_iou_log(path)
    records = records_from_log(log, method, dataset, protocol, world_size)
    store = ResultStore(results_dir)
    with store.writer_lock(wait, on_wait), store:
        stored = store.load()
        others = {r.weights for r in stored if r.method == method and r.weights != records[0].weights}
        if others:
            raise IouLogError(f"{results_dir} already holds results named {method!r} from other weights or logs "
                              f"({', '.join(sorted(others))}); import this log under another --method name")
        done = {r.key for r in stored}
        store.update_manifest(protocol=protocol.to_dict(), protocol_hash=protocol.hash, dataset=dataset.describe(),
                              method=MethodInfo.from_dict(describe_log(log, method, world_size)).to_dict())
        fresh = [r for r in records if r.key not in done]
        for record in fresh:
            store.append(record)
    return len(fresh), len(records) - len(fresh)

