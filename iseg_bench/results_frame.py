"""``load_results``: a results folder as one pandas DataFrame, one row per sample and method.

The frame is the per-sample view of the stored records under the counting rules of ``summary``
(NoC per threshold, data errors without NoC, method errors as failures); the report code reads it
too, so what a user computes from it is what the report shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .metric_catalog import MASK_SCORES
from .predictor import MethodInfo
from .protocol import Protocol
from .records import FIRST, LATER, SampleRecord, method_key
from .store import ResultStore, StoreError
from .summary import sample_noc, thr_key

# Columns every frame has, in order; ``noc_<t>`` columns follow (one per threshold of the protocols).
COLUMNS = {
    "method": "method name (as stored)",
    "label": "the method's display label (with weights and implementation when they differ)",
    "weights": "weights identity (file hash, 'none' or 'untrained')",
    "implementation": "'' for the default implementation (or none), 'official' for official arithmetic",
    "trained": "False for an untrained (random-weight) network, whose accuracy is meaningless",
    "dataset": "dataset name",
    "fingerprint": "content hash of the dataset copy",
    "sample_id": "sample id within the dataset",
    "seed": "click seed of a seeded click strategy (0 for the robot)",
    "protocol": "protocol hash",
    "protocol_name": "protocol name (e.g. neutral, ritm)",
    "max_clicks": "the protocol's click budget",
    "status": "ok, data-error (excluded from metrics) or method-error (a failure)",
    "error": "what went wrong, for a data or method error",
    "height": "image height (pixels)",
    "width": "image width (pixels)",
    "clicks_run": "clicks evaluated before the sample stopped",
    "ious": "IoU after each click (list of floats in [0, 1])",
    **{m.sample_key: f"{m.unit} after each click (list; empty when the record predates it)" for m in MASK_SCORES},
    "clicks": "robot clicks as [y, x, positive] (list; empty for an imported IoU log)",
    "latency_s": "model time of each click in seconds (list; NaN when not timed)",
    "iou_first": "IoU after click 1",
    "iou_last": "IoU after the last click run",
    "first_click_s": "model time of click 1 (set_image + predict), seconds",
    "later_click_s": "median model time of clicks 2.. (predict), seconds",
    "model_time_s": "model time summed over the sample's clicks, seconds (NaN when not timed)",
    "timed": "False when evaluated in a parallel run (latencies not measured)",
    "device": "where the method computed",
    "masks": "path of the stored masks (run --save-masks), or '' when none were stored",
    "key": "the record's content key",
}


def noc_column(threshold: float) -> str:
    """The frame's column of NoC at ``threshold`` (clicks): 0.9 -> 'noc_90'."""
    return f"noc_{thr_key(threshold)}"


def _row(record: SampleRecord, protocol: Protocol, info: MethodInfo | None, store: ResultStore) -> dict:
    evaluated, timed = record.evaluated, record.timed and record.evaluated
    first = [x for x, p in zip(record.latency_s, record.phases) if p == FIRST]
    later = [x for x, p in zip(record.latency_s, record.phases) if p == LATER]
    masks = store.masks_path(record)
    row = {
        "method": record.method, "label": info.label if info else record.method, "weights": record.weights,
        "implementation": record.implementation, "trained": info.trained if info else None,
        "dataset": record.dataset, "fingerprint": record.fingerprint, "sample_id": record.sample_id,
        "seed": record.seed, "protocol": record.protocol, "protocol_name": protocol.name,
        "max_clicks": protocol.max_clicks,
        "status": record.status, "error": record.error, "height": record.height, "width": record.width,
        "clicks_run": len(record.ious), "ious": list(record.ious),
        **{m.sample_key: list(record.per_click.get(m.sample_key, [])) for m in MASK_SCORES},
        "clicks": [list(c) for c in record.clicks],
        "latency_s": list(record.latency_s),
        "iou_first": record.ious[0] if record.ious else np.nan,
        "iou_last": record.ious[-1] if record.ious else np.nan,
        "first_click_s": first[0] if timed and first else np.nan,
        "later_click_s": float(np.median(later)) if timed and later else np.nan,
        "model_time_s": float(sum(record.latency_s)) if timed else np.nan,
        "timed": record.timed, "device": record.device,
        "masks": str(masks) if masks.exists() else "", "key": record.key,
    }
    noc = sample_noc(record, protocol) if evaluated else {}
    row.update({noc_column(t): float(noc[t]) if t in noc else np.nan for t in protocol.iou_thresholds})
    return row


def load_results(path: str | Path, protocol: str | None = None) -> pd.DataFrame:
    """Every stored sample of the results folder ``path`` as a DataFrame (columns: ``COLUMNS`` and
    ``noc_<threshold>`` in clicks, NaN where a protocol has no such threshold or the sample is a
    data error). ``protocol`` keeps the records of one protocol (its name or hash). StoreError when
    the folder holds no records or its manifest does not describe them."""
    store = ResultStore(path)
    return records_frame(store.iter_records(), store, protocol)


def records_frame(records: Iterable[SampleRecord], store: ResultStore, protocol: str | None = None) -> pd.DataFrame:
    """``load_results`` of records already read from ``store`` (the report reads them once)."""
    manifest = store.read_manifest()
    methods = {k: MethodInfo.from_dict(d) for k, d in manifest.get("methods", {}).items()}
    protocols: dict[str, Protocol] = {}
    rows = []
    for record in records:
        if record.protocol not in protocols:
            described = manifest.get("protocols", {}).get(record.protocol)
            if described is None:
                raise StoreError(f"{store.manifest_path} does not describe protocol {record.protocol} "
                                 "used by stored records")
            protocols[record.protocol] = Protocol.from_dict(described)
        p = protocols[record.protocol]
        if protocol is not None and protocol not in (p.name, p.hash):
            continue
        info = methods.get(method_key(record.method, record.weights, record.implementation))
        rows.append(_row(record, p, info, store))
    if not rows:
        what = f" under protocol {protocol!r}" if protocol else ""
        raise StoreError(f"no result records{what} in {store.records_dir}")
    frame = pd.DataFrame(rows)
    nocs = sorted({noc_column(t) for p in protocols.values() for t in p.iou_thresholds},
                  key=lambda c: float(c.split("_")[1]))
    return frame[list(COLUMNS) + nocs]
