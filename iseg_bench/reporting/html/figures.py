"""The HTML report's figures, from the ``load_results`` frame of one protocol: mIoU per click with a
confidence band, the distribution of NoC per method, and model time per click. Each returns the
written path, or None with nothing written when the results hold nothing to draw."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ... import metrics  # noqa: E402
from ...protocol import Protocol  # noqa: E402
from ...records import DATA_ERROR  # noqa: E402
from ...summary import scored_trace  # noqa: E402
from ..plots import HORIZONTAL, caption  # noqa: E402
from ..style import series_styles  # noqa: E402
from .selection import method_labels  # noqa: E402

BAND_LEVEL = 0.95


def _traces(group: pd.DataFrame, max_clicks: int) -> list[np.ndarray]:
    """One IoU trace per sample, as the metrics score it, carried to ``max_clicks``; under several
    click seeds the mean of the sample's traces (so a band is across samples, not runs)."""
    per_sample: dict[str, list[np.ndarray]] = {}
    for r in group.itertuples():
        if r.status != DATA_ERROR:
            trace = metrics.carried_forward(scored_trace(r.ious, r.status, max_clicks), max_clicks)
            per_sample.setdefault(r.sample_id, []).append(trace)
    return [np.mean(traces, axis=0) for traces in per_sample.values()]


def _save(fig: plt.Figure, path: Path, note: str, protocol: Protocol) -> Path:
    fig.tight_layout(rect=(0, caption(fig, f"{protocol.summary()}. {note}"), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def miou_with_band(frame: pd.DataFrame, protocol: Protocol, path: Path) -> Path | None:
    """mIoU (%) after click k per method, one panel per dataset, with a 95 % confidence band of the mean."""
    datasets = list(dict.fromkeys(frame["dataset"]))
    if not datasets:
        return None
    mc, ks = protocol.max_clicks, np.arange(1, protocol.max_clicks + 1)
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets) + 2, 4.8), squeeze=False, sharey=True)
    labels = method_labels(frame)
    for ax, ds in zip(axes[0], datasets):
        for label, (colour, marker, style) in zip(labels, series_styles(len(labels))):
            traces = _traces(frame[(frame.dataset == ds) & (frame.label == label)], mc)
            if not traces:
                continue
            lo, hi = np.clip(metrics.miou_band(traces, mc, BAND_LEVEL), 0.0, 1.0)  # IoU lies in [0, 1]
            ax.fill_between(ks, 100 * lo, 100 * hi, color=colour, alpha=0.15, linewidth=0)
            ax.plot(ks, 100 * metrics.miou_curve(traces, mc), color=colour, marker=marker, linestyle=style,
                    markersize=3, linewidth=1.5, label=f"{label} (n={len(traces)})")
        for t in protocol.iou_thresholds:
            ax.axhline(100 * t, color="0.7", linestyle=":", linewidth=1)
        ax.set_title(ds)
        ax.set_xlabel("number of clicks")
        ax.set_xticks(ks[:: max(1, mc // 10)])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0][0].set_ylabel("mIoU (%)")
    return _save(fig, path, f"Bands: {100 * BAND_LEVEL:g} % confidence interval of the mean across samples "
                 "(Student's t, cut to [0, 100] %); stopped samples keep their last IoU; under several click "
                 "seeds each sample's curve is its mean over the seeds.", protocol)


def noc_distribution(frame: pd.DataFrame, protocol: Protocol, column: str, threshold: float,
                     path: Path) -> Path | None:
    """Box plots of per-sample NoC at ``threshold`` per method (mean over click seeds), one panel per
    dataset (diamond: the mean)."""
    evaluated = frame[frame.status != DATA_ERROR]
    datasets = list(dict.fromkeys(evaluated["dataset"]))
    if not datasets:
        return None
    labels = method_labels(evaluated)
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets) + 2, 0.45 * len(labels) + 2.6),
                             squeeze=False, sharey=True)
    for ax, ds in zip(axes[0], datasets):
        values = [evaluated[(evaluated.dataset == ds) & (evaluated.label == lb)].groupby("sample_id")[column]
                  .mean().dropna().to_numpy() for lb in labels]  # one value per sample (mean over seeds)
        shown = [v if v.size else np.array([np.nan]) for v in values]
        ax.boxplot(shown, **HORIZONTAL, showmeans=True, widths=0.6,
                   meanprops={"marker": "D", "markerfacecolor": "black", "markeredgecolor": "black", "markersize": 4})
        ax.set_yticks(range(1, len(labels) + 1), [f"{lb} (n={v.size})" for lb, v in zip(labels, values)])
        ax.set_xlim(0.5, protocol.max_clicks + 0.5)
        ax.set_xlabel(f"NoC@{100 * threshold:g} per sample (clicks)")
        ax.set_title(ds)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0][0].invert_yaxis()
    return _save(fig, path, f"A sample that never reaches IoU {threshold:g} counts max_clicks = "
                 f"{protocol.max_clicks}. Box: quartiles; whiskers: 1.5 IQR; diamond: mean.", protocol)


def latency_per_click(frame: pd.DataFrame, protocol: Protocol, path: Path) -> Path | None:
    """Median model time per click index (ms, log scale) per method over every timed sample, with the
    interquartile range; None when no sample was timed (parallel runs measure no latency)."""
    timed = frame[frame.timed & (frame.status != DATA_ERROR)]
    if timed.empty:
        return None
    labels = method_labels(timed)
    fig, ax = plt.subplots(figsize=(9, 5))
    for label, (colour, marker, style) in zip(labels, series_styles(len(labels))):
        lists = [np.asarray(v, float) * 1000 for v in timed[timed.label == label]["latency_s"] if len(v)]
        if not lists:
            continue
        width = max(len(v) for v in lists)
        grid = np.full((len(lists), width), np.nan)
        for i, v in enumerate(lists):
            grid[i, : len(v)] = v
        counts = np.sum(~np.isnan(grid), axis=0)
        keep = counts >= 1
        ks = np.arange(1, width + 1)[keep]
        q1, med, q3 = (np.nanpercentile(grid[:, keep], q, axis=0) for q in (25, 50, 75))
        ax.fill_between(ks, q1, q3, color=colour, alpha=0.15, linewidth=0)
        ax.plot(ks, med, color=colour, marker=marker, linestyle=style, markersize=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("click index (click 1 includes set_image)")
    ax.set_ylabel("model time per click (ms, median, log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, "Model time measured during the accuracy run (for orientation; `iseg-bench bench` "
                 "is the careful timing phase). Band: interquartile range across samples.", protocol)
