"""Two methods, sample by sample: is the NoC difference larger than the noise of a small benchmark?

For every dataset and IoU threshold, the per-sample NoC of method A and method B on the samples
both have evaluated under one protocol: each mean with its bootstrap interval, the mean paired
difference B - A with its interval, how many samples B needs fewer / as many / more clicks on, and
the two-sided sign test. Everything comes from the stored records, like every other report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from . import stats
from .predictor import MethodInfo
from .protocol import Protocol
from .records import SampleRecord, method_key
from .registry import suggest
from .reporting.style import DASH
from .reporting.tables import latex_table
from .store import ResultStore, StoreError
from .summary import sample_noc, thr_key


class CompareError(ValueError):
    """A comparison that cannot be made as asked; ``param`` names the argument to change."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class CompareSettings:
    """What to compare and how the intervals are computed."""

    a: str
    b: str
    level: float = stats.LEVEL
    resamples: int = stats.RESAMPLES
    seed: int = stats.SEED


@dataclass(frozen=True)
class Comparison:
    """Method B against A on one dataset at one IoU threshold (NoC in clicks)."""

    dataset: str
    fingerprint: str
    threshold: float
    only_a: int  # runs (sample, click seed) evaluated by A but not by B (left out)
    only_b: int
    result: stats.Paired


def per_sample_noc(records: Sequence[SampleRecord], protocol: Protocol, method: str) -> dict[tuple, dict[float, int]]:
    """NoC at every protocol threshold for each evaluated sample of ``method``, keyed by
    (dataset, fingerprint, sample id, click seed); data errors are left out, method errors count as
    failures."""
    mine = [r for r in records if r.method == method and r.protocol == protocol.hash and r.evaluated]
    weights = sorted({r.weights for r in mine})
    if len(weights) > 1:
        raise CompareError(f"{method} has results with {len(weights)} different weights ({', '.join(weights)}) "
                           "under this protocol; keep one checkpoint's results per folder", "METHOD_A / METHOD_B")
    return {(r.dataset, r.fingerprint, r.sample_id, r.seed): sample_noc(r, protocol) for r in mine}


def _sample_means(keys: Sequence[tuple], a: dict, b: dict, t: float) -> tuple[list[float], list[float]]:
    """Paired by sample: each sample's NoC of A and of B averaged over the seeds both ran (one pair
    per sample, so the bootstrap resamples samples, not runs of one sample under several users)."""
    by_sample: dict[tuple, list[tuple]] = defaultdict(list)
    for k in keys:
        by_sample[k[:3]].append(k)
    pairs = [(float(np.mean([a[k][t] for k in ks])), float(np.mean([b[k][t] for k in ks])))
             for ks in by_sample.values()]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def compare(records: Sequence[SampleRecord], protocol: Protocol, settings: CompareSettings) -> list[Comparison]:
    """Comparisons for every dataset either method has, at every threshold of ``protocol``."""
    names = sorted({r.method for r in records if r.protocol == protocol.hash})
    for name in (settings.a, settings.b):
        if name not in names:
            raise CompareError(f"no results of method {name!r} under protocol {protocol.name} [{protocol.hash}]"
                               f"{suggest(name, names)}; stored methods: {', '.join(names) or 'none'}",
                               "METHOD_A / METHOD_B")
    if settings.a == settings.b:
        raise CompareError(f"compare needs two different methods, got {settings.a!r} twice", "METHOD_B")
    a = per_sample_noc(records, protocol, settings.a)
    b = per_sample_noc(records, protocol, settings.b)
    by_dataset: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for key in list(a) + [k for k in b if k not in a]:
        by_dataset[key[:2]].append(key)
    out = []
    for (dataset, fingerprint), keys in by_dataset.items():
        both = [k for k in keys if k in a and k in b]
        for t in protocol.iou_thresholds:
            noc_a, noc_b = _sample_means(both, a, b, t)
            result = stats.paired(noc_a, noc_b, settings.level, settings.resamples, settings.seed)
            out.append(Comparison(dataset, fingerprint, t, sum(k not in b for k in keys),
                                  sum(k not in a for k in keys), result))
    return out


def _interval(value: float, ci: tuple[float, float], signed: bool = False) -> str:
    fmt = "{:+.2f}" if signed else "{:.2f}"
    if value != value:  # NaN: no paired samples
        return DASH
    low, high = ci
    band = "" if low != low else f" [{fmt.format(low)}, {fmt.format(high)}]"
    return fmt.format(value) + band


def comparison_frame(comparisons: Sequence[Comparison], settings: CompareSettings,
                     methods: dict[str, MethodInfo]) -> pd.DataFrame:
    """One row per (dataset, threshold); every column names its unit, untrained methods are marked."""
    pct = f"{settings.level * 100:g} % CI"
    a, b = (methods[m].label if m in methods else m for m in (settings.a, settings.b))
    rows = []
    for c in comparisons:
        r = c.result
        rows.append({
            "Dataset": c.dataset,
            "Metric": f"NoC@{thr_key(c.threshold)} (clicks)",
            "Paired samples": r.n,
            f"{a} [{pct}]": _interval(r.mean_a, r.ci_a),
            f"{b} [{pct}]": _interval(r.mean_b, r.ci_b),
            f"{b} - {a} [{pct}]": _interval(r.diff, r.ci_diff, signed=True),
            f"samples where {b} needs fewer / as many / more clicks": f"{r.b_lower} / {r.ties} / {r.b_higher}",
            "Sign test p (two-sided)": f"{r.sign_p:.3g}",
        })
    return pd.DataFrame(rows)


def numeric_frame(comparisons: Sequence[Comparison], settings: CompareSettings) -> pd.DataFrame:
    """The same comparison as plain numbers, one column each (the CSV export)."""
    rows = []
    for c in comparisons:
        r = c.result
        rows.append({"dataset": c.dataset, "fingerprint": c.fingerprint, "metric": f"NoC@{thr_key(c.threshold)}",
                     "unit": "clicks", "method_a": settings.a, "method_b": settings.b, "paired_samples": r.n,
                     "a_mean": r.mean_a, "a_ci_low": r.ci_a[0], "a_ci_high": r.ci_a[1],
                     "b_mean": r.mean_b, "b_ci_low": r.ci_b[0], "b_ci_high": r.ci_b[1],
                     "diff_b_minus_a": r.diff, "diff_ci_low": r.ci_diff[0], "diff_ci_high": r.ci_diff[1],
                     "samples_b_fewer": r.b_lower, "samples_tied": r.ties, "samples_b_more": r.b_higher,
                     "sign_test_p": r.sign_p, "ci_level": settings.level, "only_a": c.only_a, "only_b": c.only_b})
    return pd.DataFrame(rows)


def footer(comparisons: Sequence[Comparison], protocol: Protocol, settings: CompareSettings,
           methods: dict[str, MethodInfo]) -> list[str]:
    """The lines printed under every comparison table: what A and B are and how the numbers were made."""
    status = {m: methods[m].status if m in methods else "weights unknown" for m in (settings.a, settings.b)}
    lines = [f"Weights: {settings.a}: {status[settings.a]}; {settings.b}: {status[settings.b]}. "
             f"{settings.b} - {settings.a} < 0: {settings.b} needs fewer clicks.",
             protocol.summary() + ".",
             f"Per-sample NoC on the samples both methods evaluated (data errors left out, method errors count "
             f"as failures). Intervals: percentile bootstrap of the mean, {settings.resamples} resamples, "
             f"seed {settings.seed}; the difference bootstraps the per-sample differences (paired). Sign test: exact "
             "binomial over the samples where the two differ."]
    if protocol.seeded:
        lines.append(f"Click strategy {protocol.clicker_summary()}: the methods are paired by sample and click seed "
                     "(the same simulated user), and each sample counts once, with its NoC averaged over the seeds "
                     "both methods ran.")
    if any(m.trained is False for m in methods.values() if m.name in (settings.a, settings.b)):
        lines.append("UNTRAINED methods run with random weights: their accuracy is meaningless.")
    left = sorted({(c.dataset, c.only_a, c.only_b) for c in comparisons if c.only_a or c.only_b})
    if left:
        lines.append("Left out (evaluated by one method only): " + "; ".join(
            f"{ds}: {na} only by {settings.a}, {nb} only by {settings.b}" for ds, na, nb in left) + ".")
    fps = dict.fromkeys(f"{c.dataset} {c.fingerprint}" for c in comparisons)
    lines.append("Dataset fingerprints: " + ", ".join(fps) + ".")
    return lines


def render(comparisons: Sequence[Comparison], settings: CompareSettings, methods: dict[str, MethodInfo],
           notes: list[str], fmt: str) -> str:
    """The table as Markdown (``md``), LaTeX (``tex``) or CSV (``csv``: plain numbers, notes as
    ``#`` comments, read back with ``pandas.read_csv(path, comment="#")``)."""
    if fmt == "csv":
        return "".join(f"# {n}\n" for n in notes) + numeric_frame(comparisons, settings).to_csv(index=False)
    frame = comparison_frame(comparisons, settings, methods)
    if fmt == "tex":
        return latex_table(list(frame.columns), frame.values.tolist(), notes)
    table = tabulate(frame.values.tolist(), headers=list(frame.columns), tablefmt="pipe", disable_numparse=True,
                     colalign=("left", "left") + ("right",) * (len(frame.columns) - 2))
    return table + "\n\n" + "\n".join(f"> {n}" for n in notes) + "\n"


def load(results_dir: str | Path,
         protocol_ref: str | None) -> tuple[list[SampleRecord], Protocol, dict[str, MethodInfo]]:
    """The stored records, the protocol to compare under and the methods' descriptions (by name).

    ``protocol_ref`` (a preset name or a hash prefix) is needed only when the folder holds several.
    """
    store = ResultStore(results_dir)
    records = store.load()
    if not records:
        raise StoreError(f"no result records in {store.records_dir}")
    manifest = store.read_manifest()
    known = {h: Protocol.from_dict(d) for h, d in manifest.get("protocols", {}).items()}
    used = [known[h] for h in dict.fromkeys(r.protocol for r in records) if h in known]
    if protocol_ref:
        chosen = [p for p in used if p.name == protocol_ref or p.hash.startswith(protocol_ref)]
    else:
        chosen = used
    if len(chosen) != 1:
        listing = ", ".join(f"{p.name} [{p.hash}]" for p in used) or "none described in the manifest"
        what = (f"{'no protocol matches' if not chosen else 'several protocols match'} {protocol_ref!r}" if protocol_ref
                else "results of several protocols are stored")
        raise CompareError(f"{what} in {results_dir} ({listing}); pick one by name or hash", "--protocol")
    infos = (MethodInfo.from_dict(d) for d in manifest.get("methods", {}).values())
    used_keys = {method_key(r.method, r.weights, r.implementation) for r in records if r.protocol == chosen[0].hash}
    methods = {m.name: m for m in infos if method_key(m.name, m.weights, m.implementation) in used_keys}
    return records, chosen[0], methods
