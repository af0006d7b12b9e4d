"""Which samples the HTML report shows, and which clicks of them: pure functions of the
``load_results`` frame, so what a page calls "worst" or "disagree most" is easy to check."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...records import OK


def method_labels(frame: pd.DataFrame) -> list[str]:
    """The methods' labels in the frame's order (a label names method, weights and implementation)."""
    return list(dict.fromkeys(frame["label"]))


def noc_grid(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per sample id, one column per method label: NoC (clicks) in ``column``, averaged over
    click seeds; NaN where a method has no evaluated record of the sample."""
    grid = frame.pivot_table(index="sample_id", columns="label", values=column, aggfunc="mean", dropna=False)
    return grid.reindex(columns=method_labels(frame), index=list(dict.fromkeys(frame["sample_id"])))


def worst(grid: pd.DataFrame, label: str, n: int) -> list[str]:
    """The ``n`` samples with the highest NoC of ``label`` (ties in sample order)."""
    column = grid[label].dropna()
    order = np.argsort(-column.to_numpy(), kind="stable")
    return [str(column.index[i]) for i in order[:n]]


def disagreements(grid: pd.DataFrame, n: int) -> list[tuple[str, float, str, str]]:
    """The ``n`` samples with the largest paired NoC difference between two methods, as
    (sample id, difference in clicks, method with fewer clicks, method with more); samples where
    all methods agree are left out."""
    found = []
    for sid, row in grid.iterrows():
        best = (0.0, "", "")
        for a, b in itertools.combinations(grid.columns, 2):
            if np.isnan(row[a]) or np.isnan(row[b]):
                continue
            diff = abs(float(row[a]) - float(row[b]))
            if diff > best[0]:
                best = (diff, *((a, b) if row[a] < row[b] else (b, a)))
        if best[0] > 0:
            found.append((str(sid), *best))
    found.sort(key=lambda item: -item[1])  # stable: ties keep sample order
    return found[:n]


def shown_samples(grid: pd.DataFrame, n: int | None) -> list[str]:
    """The samples that get their own page: every sample (``n`` None), else the worst ``n`` of each
    method and the ``n`` where methods disagree most, in the dataset's order."""
    if n is None:
        return [str(s) for s in grid.index]
    chosen = {s for label in grid.columns for s in worst(grid, label, n)}
    chosen |= {s for s, *_ in disagreements(grid, n)}
    return [str(s) for s in grid.index if s in chosen]


def chosen_clicks(ious: Sequence[float], threshold: float, wanted: Sequence[int] = (1, 3, 5)) -> list[tuple[int, str]]:
    """The clicks a sample view shows, as (click number from 1, why): the ``wanted`` ones that ran,
    the first to reach ``threshold`` and the last."""
    n = len(ious)
    picks: dict[int, list[str]] = {k: [f"click {k}"] for k in wanted if k <= n}
    reached = next((k + 1 for k, v in enumerate(ious) if np.float32(v) >= np.float32(threshold)), None)
    if reached is not None:
        picks.setdefault(reached, [f"click {reached}"]).append(f"reached IoU {threshold:g}")
    if n:
        picks.setdefault(n, [f"click {n}"]).append("last")
    return [(k, ", ".join(picks[k])) for k in sorted(picks)]


def is_viewable(status: str) -> bool:
    """A record whose masks can be shown (it ran; a method error shows the clicks before it failed)."""
    return status in (OK, "method-error")
