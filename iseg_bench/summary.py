"""Accumulate: stored records -> one result row per (method, dataset) under one protocol.

Counting rules, stated once here and printed in every report:

- data errors (a sample that cannot be loaded) are excluded from every metric and counted apart;
- method errors (the method raised or returned an invalid map) count as failures: the IoU of the
  failing click and every later click is 0, so NoC is ``max_clicks`` unless a threshold was reached
  before the failure;
- mIoU@k carries a stopped sample's last IoU forward (it keeps its mask);
- times are model time only (``set_image`` + ``predict``), measured during the accuracy run;
- under a seeded clicker run with several seeds, NoC and mIoU average over every (sample, seed)
  run, and NoF and Time@IoU are per seed (their mean over seeds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from . import metrics
from .machine_load import LoadReading, combine
from .metric_catalog import MASK_SCORES, Metric
from .predictor import MethodInfo
from .protocol import Protocol
from .records import FIRST, LATER, METHOD_ERROR, OK, SampleRecord, method_key

COUNTING_RULES = (
    "NoC@t: mean clicks to reach IoU t (a sample that never does counts max_clicks); "
    "NoF@t: samples whose NoC@t equals max_clicks; IoU excludes void pixels; thresholds compared "
    "in float32. Data errors are excluded, method errors count as failures (IoU 0 from the failing "
    "click). mIoU@k carries an early-stopped sample's last IoU forward. Times are model time only "
    "(set_image + predict), in seconds, measured during the accuracy run. Under several click seeds, NoC and "
    "mIoU average over every (sample, seed) run; NoF and Time@IoU are means per seed."
)


@dataclass
class ResultRow:
    """One method on one dataset under one protocol."""

    method: str
    label: str
    status: str
    weights: str
    implementation: str  # "" for the default implementation (or none), "official" for official arithmetic
    dataset: str
    fingerprint: str
    protocol: str
    samples: int  # distinct samples evaluated (each run under every seed)
    data_errors: int
    method_errors: int
    noc: dict[str, float]
    nof: dict[str, float]  # an int count with one seed, the mean count per seed with several
    noc_std: dict[str, float]
    miou: list[float]
    spc_s: float
    first_click_s: float
    later_click_s: float
    time_s: dict[str, float]
    clicks: int
    carried_forward: int
    timed: bool = True  # False when some samples ran in a parallel executor: times are not measured
    load: dict = field(default_factory=dict)  # machine load while the timed samples ran (machine_load.LoadReading)
    device: str = "cpu"  # where the method computed ("cuda:0, cuda:1" when a pool spread it over GPUs)
    seeds: int = 1  # click seeds the samples ran under (a seeded clicker)
    # the per-click mask scores (metric_catalog.MASK_SCORES) by key, averaged as mIoU; NaN where some
    # sample was stored without them (an older record, an imported IoU log)
    curves: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def value(self, metric: Metric):
        """The row's value of a declared metric: a dict by threshold key, a list by click, or a number."""
        return self.curves.get(metric.key, []) if metric.scorer is not None else getattr(self, metric.key)


def thr_key(t: float) -> str:
    """Threshold as a column suffix: 0.85 -> '85', 0.875 -> '87.5'."""
    return f"{t * 100:g}"


def scored_trace(ious: list[float], status: str, max_clicks: int) -> np.ndarray:
    """The IoU trace the metrics use: a method error scores 0 from the failing click on."""
    trace = np.asarray(ious, dtype=np.float32)
    if status == METHOD_ERROR:
        trace = np.concatenate([trace, np.zeros(max_clicks - trace.size, np.float32)])
    return trace


def effective_trace(record: SampleRecord, max_clicks: int) -> np.ndarray:
    """``scored_trace`` of a record."""
    return scored_trace(record.ious, record.status, max_clicks)


def score_curve(records: list[SampleRecord], metric: Metric, max_clicks: int) -> list[float]:
    """A mask score's mean after each click (as mIoU: a method error scores 0, a stopped sample keeps
    its last value); NaN at every click when some sample lacks the score."""
    if any(metric.sample_key not in record.per_click for record in records):
        return [float("nan")] * max_clicks
    traces = [scored_trace(r.per_click[metric.sample_key], r.status, max_clicks) for r in records]
    return metrics.miou_curve(traces, max_clicks).tolist()


def sample_noc(record: SampleRecord, protocol: Protocol) -> dict[float, int]:
    """NoC at each of ``protocol``'s thresholds for one evaluated sample, by the counting rules above."""
    mc = protocol.max_clicks
    trace = effective_trace(record, mc)
    return {t: metrics.noc(trace, t, mc) for t in protocol.iou_thresholds}


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def summarize_group(records: list[SampleRecord], protocol: Protocol, info: MethodInfo | None) -> ResultRow:
    first = records[0]
    evaluated = [r for r in records if r.evaluated]
    mc = protocol.max_clicks
    traces = [effective_trace(r, mc) for r in evaluated]
    timed = all(r.timed for r in evaluated)
    lat = [r.latency_s for r in evaluated] if timed else []
    timing = [r for r in evaluated if timed]
    thresholds = protocol.iou_thresholds
    seeds = len({r.seed for r in evaluated}) or 1

    def per_seed(total: float) -> float:
        return total if seeds == 1 else total / seeds

    return ResultRow(
        method=first.method,
        label=info.label if info else first.method,
        status=info.status if info else "unknown",
        weights=first.weights,
        implementation=first.implementation,
        dataset=first.dataset,
        fingerprint=first.fingerprint,
        protocol=first.protocol,
        samples=len({r.sample_id for r in evaluated}),
        data_errors=len({r.sample_id for r in records if not r.evaluated}),
        method_errors=sum(r.status == METHOD_ERROR for r in evaluated),
        noc={thr_key(t): metrics.mean_noc(traces, t, mc) for t in thresholds},
        nof={thr_key(t): per_seed(metrics.nof(traces, t, mc)) for t in thresholds},
        noc_std={thr_key(t): metrics.noc_std(traces, t, mc) for t in thresholds},
        miou=metrics.miou_curve(traces, mc).tolist(),
        spc_s=metrics.seconds_per_click(lat),
        first_click_s=_median([x for r in timing for x, p in zip(r.latency_s, r.phases) if p == FIRST]),
        later_click_s=_median([x for r in timing for x, p in zip(r.latency_s, r.phases) if p == LATER]),
        time_s={thr_key(t): per_seed(float(sum(metrics.time_to_iou(r.ious, r.latency_s, t) for r in timing)))
                if timed else float("nan") for t in thresholds},
        clicks=sum(len(r.ious) for r in evaluated),
        carried_forward=sum(r.status == OK and len(r.ious) < mc for r in evaluated),
        timed=timed,
        load=combine(LoadReading.from_dict(r.load) for r in timing).to_dict(),
        device=", ".join(sorted({r.device for r in records})),
        seeds=seeds,
        curves={m.key: score_curve(evaluated, m, mc) for m in MASK_SCORES},
    )


def summarize(records: Iterable[SampleRecord], protocol: Protocol,
              methods: dict[str, MethodInfo] | None = None) -> list[ResultRow]:
    """Rows for every (method, weights, dataset, fingerprint) under ``protocol``, in first-seen order.

    ``methods`` maps ``method_key(name, weights, implementation)`` to the method's description.
    """
    groups: dict[tuple, list[SampleRecord]] = defaultdict(list)
    for r in records:
        if r.protocol == protocol.hash:
            groups[(r.method, r.weights, r.implementation, r.dataset, r.fingerprint)].append(r)
    methods = methods or {}
    return [summarize_group(g, protocol, methods.get(method_key(*key[:3]))) for key, g in groups.items()]
