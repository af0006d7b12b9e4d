"""Figures: mIoU after every click (one line per method) and NoC bars, with the protocol on them."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..protocol import Protocol  # noqa: E402
from ..store import safe_name  # noqa: E402
from ..summary import ResultRow, thr_key  # noqa: E402
from .style import series_styles  # noqa: E402
from .tables import noc_table_thresholds  # noqa: E402

# Matplotlib 3.10 names a horizontal box plot ``orientation``; ``vert`` before it (deprecated after)
HORIZONTAL = ({"orientation": "horizontal"} if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)
              else {"vert": False})


def caption(fig: plt.Figure, text: str) -> float:
    """What a figure shows and how it was measured, in small print under it; returns the fraction of
    the figure's height it takes (the bottom margin to leave for it)."""
    lines = textwrap.wrap(text, int(fig.get_figwidth() * 16))
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="0.3", va="bottom")
    return (len(lines) * 7 * 1.3 / 72 + 0.25) / fig.get_figheight()


def _caption(fig: plt.Figure, protocol: Protocol, extra: str = "") -> float:
    return caption(fig, protocol.summary() + (". " + extra if extra else ""))


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
        fig.tight_layout(rect=(0, _caption(fig, protocol, note), 1, 1))
        path = out_dir / f"miou_{safe_name(ds)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_noc_bars(rows: Sequence[ResultRow], protocol: Protocol, out_dir: Path) -> Path:
    """Grouped bars of NoC per dataset and method, one panel per Table-3 threshold."""
    thresholds = noc_table_thresholds(protocol)
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
    fig.tight_layout(rect=(0, _caption(fig, protocol, f"dotted line: max_clicks = {protocol.max_clicks} "
                                              "(never reached)"), 1, 1))
    path = out_dir / "noc.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_latency_per_click(results: Sequence[dict], path: Path) -> Path:
    """Median whole-click time per click index (log scale): one panel per implementation, one line
    per method, under each method's published protocol when such results exist (else all)."""
    from ..bench_results import click_curve, label_of
    from .efficiency_tables import control_line, implementation_line, machine_line, protocol_lines

    published = [r for r in results if r["protocol"]["name"] in (r["info"]["family"], "neutral")
                 and (r["protocol"]["name"] == r["info"]["family"] or r["info"]["family"] not in _families(results))]
    shown = published or list(results)
    panels: dict[str, list[dict]] = {}
    for res in shown:  # a method with one implementation appears in every panel
        for impl in (("engineered", "official") if not res["info"].get("implementation") else
                     (res["info"]["implementation"],)):
            panels.setdefault(impl, []).append(res)
    fig, axes = plt.subplots(1, len(panels), figsize=(8 * len(panels), 6.5), sharey=True, squeeze=False)
    for ax, (impl, rows) in zip(axes[0], sorted(panels.items())):
        for res, (colour, marker, style) in zip(rows, series_styles(len(rows))):
            curve = click_curve(res)
            if curve:
                ax.plot(range(1, len(curve) + 1), curve, color=colour, marker=marker, linestyle=style, markersize=4,
                        label=f"{label_of(res)} [{res['protocol']['name']}]")
        ax.set_yscale("log")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("click index")
        ax.set_title(f"{impl} implementation")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    axes[0][0].set_ylabel("whole click: set_image + predict on click 1, predict after\n(ms, median over images, log)")
    if shown:
        datasets = ", ".join(c["dataset"] for c in shown[0]["clicks"])
        fig.suptitle(f"CPU latency per click — {datasets} images, {shown[0]['environment']['torch_threads']} threads")
    bottom = caption(fig, " ".join(protocol_lines(shown) + [implementation_line(shown), control_line(shown),
                                                            machine_line(shown)])) if shown else 0.05
    fig.tight_layout(rect=(0, bottom, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _families(results: Sequence[dict]) -> set[str]:
    """Families that have a published preset among the results' protocols."""
    return {r["info"]["family"] for r in results if r["protocol"]["name"] == r["info"]["family"]}


def has_time(row: ResultRow, threshold: float = 0.90) -> bool:
    """Whether the row has a time to reach ``threshold`` (not when its samples ran untimed, in parallel)."""
    key = thr_key(threshold)
    return bool(row.samples) and key in row.time_s and not np.isnan(row.time_s[key])


def plot_accuracy_time(rows: Sequence[ResultRow], protocol: Protocol, dataset: str, path: Path,
                       threshold: float = 0.90) -> Path:
    """NoC@t against the model time to reach t per sample, one point per method (hollow: untrained);
    rows without times (``has_time``) are left out: draw it only when some row has them."""
    key = thr_key(threshold)
    fig, ax = plt.subplots(figsize=(11, 6))
    for r, (colour, marker, _) in zip(rows, series_styles(len(rows))):
        if has_time(r, threshold):
            hollow = r.status == "UNTRAINED"
            ax.scatter(r.time_s[key] / r.samples, r.noc[key], s=55, marker=marker, label=r.label,
                       facecolors="none" if hollow else colour, edgecolors=colour, linewidths=1.5)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title="hollow: untrained", title_fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(f"model time to reach IoU {threshold:g} (s per sample, log scale)")
    ax.set_ylabel(f"NoC@{key} (clicks, lower is better)")
    ax.set_title(f"Accuracy against time — {dataset}")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout(rect=(0, _caption(fig, protocol, "time: set_image + predict, measured during the accuracy "
                                              "run (for orientation)"), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
