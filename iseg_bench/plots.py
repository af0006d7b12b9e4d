"""Figures: mIoU after every click (one line per method) and NoC bars, with the protocol on them."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .protocol import Protocol  # noqa: E402
from .summary import ResultRow, thr_key  # noqa: E402
from .tables import table3_thresholds  # noqa: E402


def _caption(fig: plt.Figure, protocol: Protocol, extra: str = "") -> None:
    text = protocol.summary() + (". " + extra if extra else "")
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(text, 150)), fontsize=7, color="0.3", va="bottom")


def _ordered(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def plot_miou_curves(rows: Sequence[ResultRow], protocol: Protocol, out_dir: Path) -> list[Path]:
    """One PNG per dataset: mIoU (%) after click k = 1..max_clicks, one line per method."""
    paths = []
    ks = np.arange(1, protocol.max_clicks + 1)
    for ds in _ordered([r.dataset for r in rows]):
        fig, ax = plt.subplots(figsize=(9, 5.6))
        carried = False
        for r in (r for r in rows if r.dataset == ds):
            ax.plot(ks, 100 * np.asarray(r.miou), marker="o", markersize=3, linewidth=1.6,
                    label=f"{r.label} (n={r.samples})")
            carried |= r.carried_forward > 0
        for t in protocol.iou_thresholds:
            ax.axhline(100 * t, color="0.75", linestyle=":", linewidth=1)
            ax.text(protocol.max_clicks + 0.2, 100 * t, f"{100 * t:g}%", fontsize=7, color="0.5", va="center")
        ax.set_title(f"mIoU after every click — {ds}")
        ax.set_xlabel("number of clicks")
        ax.set_ylabel("mIoU (%)")
        ax.set_xticks(ks)
        ax.set_xlim(0.5, protocol.max_clicks + 0.5)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        note = ("samples stopped at the highest threshold keep their last IoU for later clicks"
                if carried else "")
        _caption(fig, protocol, note)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        path = out_dir / f"miou_{_file_safe(ds)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_noc_bars(rows: Sequence[ResultRow], protocol: Protocol, out_dir: Path) -> Path:
    """Grouped bars of NoC per dataset and method, one panel per Table-3 threshold."""
    thresholds = table3_thresholds(protocol)
    datasets = _ordered([r.dataset for r in rows])
    labels = _ordered([r.label for r in rows])
    by_key = {(r.label, r.dataset): r for r in rows}
    fig, axes = plt.subplots(1, len(thresholds), figsize=(5.5 * len(thresholds) + 1, 4.8), squeeze=False)
    width = 0.8 / max(1, len(labels))
    x = np.arange(len(datasets))
    for ax, t in zip(axes[0], thresholds):
        for i, label in enumerate(labels):
            values = [by_key[(label, ds)].noc[thr_key(t)] if (label, ds) in by_key else np.nan for ds in datasets]
            bars = ax.bar(x + (i - (len(labels) - 1) / 2) * width, values, width, label=label)
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(x, datasets)
        ax.set_ylabel("NoC (clicks, lower is better)")
        ax.set_title(f"NoC@{thr_key(t)}")
        ax.set_ylim(0, protocol.max_clicks * 1.08)
        ax.axhline(protocol.max_clicks, color="0.6", linestyle=":", linewidth=1)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    _caption(fig, protocol, f"dotted line: max_clicks = {protocol.max_clicks} (never reached)")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path = out_dir / "noc.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
