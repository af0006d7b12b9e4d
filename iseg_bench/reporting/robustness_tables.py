"""The robustness tables (Markdown, LaTeX) and the strategies figure, from ``load_results`` frames.

``robustness``: one protocol with a seeded click strategy run under several seeds; per method and
dataset, NoC with its confidence interval over samples and seeds, the per-sample spread, the
noise-to-signal ratios, and how often two methods' order flips between seeds.
``strategies``: several protocols of one results folder that differ only in the click strategy;
per method and dataset, NoC under each strategy side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from ..metrics import carried_forward
from ..protocol import Protocol
from ..records import DATA_ERROR
from ..results_frame import noc_column
from ..robustness import iou_auc, ranking_flips, spread
from ..summary import scored_trace, thr_key
from .style import DASH, number
from .tables import latex_table, noc_table_thresholds


def _matrix(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """(sample, seed) values of one method on one dataset; samples missing a seed are left out."""
    grid = frame.pivot_table(index="sample_id", columns="seed", values=column, aggfunc="first")
    return grid.dropna()


def _with_auc(frame: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    evaluated = frame[frame.status != DATA_ERROR].copy()
    mc = protocol.max_clicks
    evaluated["iou_auc"] = [iou_auc(carried_forward(scored_trace(r.ious, r.status, mc), mc))
                            for r in evaluated.itertuples()]
    return evaluated


def robustness_records(frame: pd.DataFrame, protocol: Protocol) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, body, notes) of the robustness table of one seeded protocol's frame."""
    evaluated = _with_auc(frame, protocol)
    thresholds = noc_table_thresholds(protocol)
    headers = ["Method", "Dataset", "Samples x seeds"]
    for t in thresholds:
        k = thr_key(t)
        headers += [f"NoC@{k} (95 % CI)", f"NoC@{k} sample SD", f"NoC@{k} NSR"]
    headers += ["IoU-AUC NSR"]
    body = []
    for (label, dataset), group in evaluated.groupby(["label", "dataset"], sort=False):
        line = [str(label), str(dataset)]
        auc = _matrix(group, "iou_auc")
        cells = []
        for t in thresholds:
            noc = _matrix(group, noc_column(t))
            s = spread(noc.to_numpy(), auc.loc[noc.index].to_numpy())
            cells += [f"{s.noc:.2f} [{s.ci[0]:.2f}, {s.ci[1]:.2f}]", f"{s.sample_sd:.2f}", f"{s.nsr:.3f}"]
        line += [f"{s.samples} x {s.seeds}"] + cells + [f"{s.auc_nsr:.3f}"]
        body.append(line)
    seeds = sorted(evaluated.seed.unique())
    notes = [protocol.summary() + ".",
             f"Every sample ran under click seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} seeds); a sample missing a "
             "seed is left out of its method's row. NoC in clicks; CI: two-stage bootstrap over samples, then "
             "seeds within a sample (2000 resamples, percentile). Sample SD: a sample's standard deviation of NoC "
             "over seeds, averaged over samples; NSR: that SD over the sample's mean NoC, averaged over samples "
             "(RClicks' noise-to-signal ratio); IoU-AUC NSR: the same for the area under the IoU curve of all "
             f"{protocol.max_clicks} clicks (stopped samples keep their last IoU), as RClicks reports it."]
    notes += flip_notes(evaluated, thresholds[-1])
    return headers, body, notes


def per_sample_spread(frame: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """One row per method, dataset and sample: its NoC at each Table-3 threshold over the seeds
    (mean, standard deviation, noise-to-signal ratio) and its IoU-AUC's, in clicks / fractions."""
    evaluated = _with_auc(frame, protocol)
    columns = [noc_column(t) for t in noc_table_thresholds(protocol)] + ["iou_auc"]
    grouped = evaluated.groupby(["method", "label", "dataset", "sample_id"], sort=False)[columns]
    mean, sd = grouped.mean(), grouped.std(ddof=0)
    out = pd.concat({"mean": mean, "sd": sd, "nsr": sd / mean.where(mean > 0)}, axis=1)
    out.columns = [f"{column}_{stat}" for stat, column in out.columns]
    out["seeds"] = grouped.size()
    return out.reset_index()


def flip_notes(frame: pd.DataFrame, threshold: float) -> list[str]:
    """One sentence per dataset and pair of methods: in how many seeds each needs fewer clicks."""
    out = []
    column = noc_column(threshold)
    for dataset, group in frame.groupby("dataset", sort=False):
        labels = list(dict.fromkeys(group.label))
        for a, b in itertools.combinations(labels, 2):
            ma, mb = _matrix(group[group.label == a], column), _matrix(group[group.label == b], column)
            rows, cols = ma.index.intersection(mb.index), ma.columns.intersection(mb.columns)
            if len(rows) == 0 or len(cols) == 0:
                continue
            fewer_a, fewer_b, ties = ranking_flips(ma.loc[rows, cols].to_numpy(), mb.loc[rows, cols].to_numpy())
            verdict = "the order flips between seeds" if fewer_a and fewer_b else "the order holds in every seed"
            out.append(f"{dataset}, NoC@{thr_key(threshold)} over {len(rows)} samples: {a} needs fewer clicks in "
                       f"{fewer_a} of {len(cols)} seeds, {b} in {fewer_b}, ties {ties}: {verdict}.")
    return out


def robustness_markdown(frame: pd.DataFrame, protocol: Protocol) -> str:
    headers, body, notes = robustness_records(frame, protocol)
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True,
                     colalign=("left", "left") + ("right",) * (len(headers) - 2))
            + "\n\n" + "\n".join(f"> {n}" for n in notes) + "\n")


def robustness_latex(frame: pd.DataFrame, protocol: Protocol) -> str:
    return latex_table(*robustness_records(frame, protocol))


# -- several strategies -----------------------------------------------------------------------

def strategy_families(protocols: Sequence[Protocol]) -> list[list[Protocol]]:
    """Groups of two or more protocols that differ only in the click strategy and its parameters."""
    def rest(p: Protocol) -> str:
        return p.with_clicker("robot").hash  # a robot protocol's parameters are the defaults already

    groups: dict[str, list[Protocol]] = {}
    for p in protocols:
        groups.setdefault(rest(p), []).append(p)
    return [g for g in groups.values() if len(g) > 1]


def _seed_means(frame: pd.DataFrame, column: str) -> pd.Series:
    """Each sample's NoC averaged over its seeds (one value per sample)."""
    return frame[frame.status != DATA_ERROR].groupby("sample_id")[column].mean()


def strategies_records(frame: pd.DataFrame, family: Sequence[Protocol]) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, body, notes): NoC per method and dataset under each strategy of ``family``."""
    thresholds = noc_table_thresholds(family[0])
    names = [p.clicker_summary() for p in family]
    headers = ["Method", "Dataset"] + [f"{n} NoC@{thr_key(t)}" for n in names for t in thresholds]
    body = []
    mine = frame[frame.protocol.isin([p.hash for p in family])]
    for (label, dataset), group in mine.groupby(["label", "dataset"], sort=False):
        line = [str(label), str(dataset)]
        for p in family:
            runs = group[group.protocol == p.hash]
            for t in thresholds:
                values = _seed_means(runs, noc_column(t))
                line.append(number(float(values.mean())) if len(values) else DASH)
        body.append(line)
    seeds = {p.clicker_summary(): mine[mine.protocol == p.hash].seed.nunique() for p in family}
    notes = [f"Protocols {', '.join(f'{p.name} [{p.hash}]' for p in family)}: the same settings but the click "
             "strategy. NoC in clicks: each sample's mean over its seeds, averaged over samples. Seeds: "
             + ", ".join(f"{k} {v}" for k, v in seeds.items()) + "."]
    return headers, body, notes


def strategies_markdown(frame: pd.DataFrame, family: Sequence[Protocol]) -> str:
    headers, body, notes = strategies_records(frame, family)
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True,
                     colalign=("left", "left") + ("right",) * (len(headers) - 2))
            + "\n\n" + "\n".join(f"> {n}" for n in notes) + "\n")


def strategies_latex(frame: pd.DataFrame, family: Sequence[Protocol]) -> str:
    return latex_table(*strategies_records(frame, family))


def plot_strategies(frame: pd.DataFrame, family: Sequence[Protocol], path: Path) -> Path:
    """Box plots of per-sample NoC (mean over seeds) at the family's highest Table-3 threshold: one
    panel per dataset, one box per (method, strategy)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import HORIZONTAL, caption

    t = noc_table_thresholds(family[0])[-1]
    column = noc_column(t)
    mine = frame[frame.protocol.isin([p.hash for p in family])]
    datasets = list(dict.fromkeys(mine.dataset))
    labels = list(dict.fromkeys(mine.label))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets) + 2, 0.4 * len(labels) * len(family) + 2.5),
                             squeeze=False, sharey=True)
    hatches = ["", "//", "..", "xx", "\\\\", "oo"]
    for ax, ds in zip(axes[0], datasets):
        data, names, fills = [], [], []
        for i, label in enumerate(labels):
            for j, p in enumerate(family):
                runs = mine[(mine.dataset == ds) & (mine.label == label) & (mine.protocol == p.hash)]
                values = _seed_means(runs, column).to_numpy()
                data.append(values if values.size else np.array([np.nan]))
                names.append(f"{label} · {p.clicker_summary()}")
                fills.append((f"C{i}", hatches[j % len(hatches)]))
        boxes = ax.boxplot(data, **HORIZONTAL, showmeans=True, widths=0.6, patch_artist=True,
                           meanprops={"marker": "D", "markerfacecolor": "black", "markeredgecolor": "black",
                                      "markersize": 4})
        for patch, (colour, hatch) in zip(boxes["boxes"], fills):
            patch.set(facecolor=colour, alpha=0.45, hatch=hatch)
        ax.set_yticks(range(1, len(names) + 1), names, fontsize=8)
        ax.set_xlim(0.5, family[0].max_clicks + 0.5)
        ax.set_xlabel(f"NoC@{thr_key(t)} per sample, mean over seeds (clicks)")
        ax.set_title(ds)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0][0].invert_yaxis()
    note = (f"Click strategies: {', '.join(p.clicker_summary() for p in family)}; the other settings as in "
            f"{family[0].summary()}. Box: quartiles; diamond: mean.")
    fig.tight_layout(rect=(0, caption(fig, note), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
