"""A results folder summarised, one ``Report`` per protocol it holds: what the report renders and what
``regress`` compares, computed from the stored records alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .predictor import MethodInfo
from .protocol import Protocol
from .results_frame import noc_column, records_frame
from .store import ResultStore, StoreError
from .summary import ResultRow, summarize


@dataclass
class Report:
    """One protocol's summary of a results folder: its rows, its per-sample frame, and the folder its
    report is written to (``report/``, or ``report/<protocol>-<hash>/`` when the folder holds several)."""

    protocol: Protocol
    rows: list[ResultRow]
    out_dir: Path
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)  # per-sample rows (``load_results``)
    files: list[Path] = field(default_factory=list)


def _order(rows: list[ResultRow], manifest: dict) -> list[ResultRow]:
    """Methods and datasets in the order the runs named them (latest run last)."""
    methods, datasets = [], []
    for run in manifest.get("runs", []):
        methods += run.get("methods", [])
        datasets += run.get("datasets", [])
    m_rank = {m.lower(): i for i, m in reversed(list(enumerate(methods)))}
    d_rank = {d: i for i, d in reversed(list(enumerate(datasets)))}
    return sorted(rows, key=lambda r: (m_rank.get(r.method.lower(), len(m_rank)), r.method,
                                       d_rank.get(r.dataset, len(d_rank)), r.dataset))


def build_reports(results_dir: str | Path) -> list[Report]:
    """Summaries of every protocol found in ``results_dir`` (StoreError if there is nothing)."""
    store = ResultStore(results_dir)
    manifest = store.read_manifest()
    records = store.load()
    if not records:
        raise StoreError(f"no result records in {store.records_dir}")
    methods = {k: MethodInfo.from_dict(d) for k, d in manifest.get("methods", {}).items()}
    hashes = list(dict.fromkeys(r.protocol for r in records))
    missing = [h for h in hashes if h not in manifest.get("protocols", {})]
    if missing:
        raise StoreError(f"{store.manifest_path} does not describe protocol(s) {missing} used by stored records")
    frame = records_frame(records, store)
    reports = []
    for h in hashes:
        protocol = Protocol.from_dict(manifest["protocols"][h])
        rows = _order(summarize(records, protocol, methods), manifest)
        sub = "report" if len(hashes) == 1 else f"report/{protocol.name}-{h}"
        own = [c for c in frame.columns if not c.startswith("noc_")] + [noc_column(t) for t in protocol.iou_thresholds]
        samples = frame.loc[frame.protocol == h, own]
        reports.append(Report(protocol, rows, Path(results_dir) / sub, samples))
    return reports
