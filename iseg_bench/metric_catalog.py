"""Every metric the tool reports, declared once: its name, unit, format, direction and tolerance.

The tables (Markdown, LaTeX, HTML), the CSV and JSON exports, ``load_results`` and the regression
gate read these declarations; none of them names a metric itself. A metric is one of three shapes:
``THRESHOLD`` (a value per IoU threshold: NoC@90), ``CLICK`` (a value after each click: mIoU@k) or
``SCALAR`` (one value: seconds per click). A per-click metric of the masks themselves (``scorer``:
made from the ground truth, called on each click's mask) is computed by the evaluation loop, kept
in every record under its ``sample_key`` and averaged over samples like mIoU, so declaring one here
is all it takes to add it (Boundary IoU is such a metric).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import metrics

THRESHOLD, CLICK, SCALAR = "threshold", "click", "scalar"
LOWER, HIGHER = "lower", "higher"  # which way is better


@dataclass(frozen=True)
class Metric:
    """One reported metric. ``header`` and ``column`` are templates: ``{t}`` is a threshold's key
    (0.9 -> 90), ``{k}`` a click number. Values are stored in ``unit``; tables show ``scale`` x the
    value with ``digits`` decimals. ``tolerance`` is the regression gate's default allowed change
    (None: not gated), ``integer`` tolerances count whole units (samples)."""

    key: str  # the ResultRow attribute, summary.json's key and the gate's name
    header: str  # table header template, unit included where the table shows one
    column: str  # results.csv column template (unit-named)
    unit: str  # unit of the stored value
    description: str  # what it is, for summary.json and the documentation
    shape: str  # THRESHOLD, CLICK or SCALAR
    better: str = LOWER
    scale: float = 1.0
    digits: int = 2
    tolerance: float | None = None
    integer: bool = False
    in_table: bool = True  # shown in the results table (every metric is in the CSV and JSON)
    sample_key: str = ""  # CLICK metrics: the record's per-click values ("ious", or a scorer's own key)
    scorer: Callable[[np.ndarray], Callable[[np.ndarray], float]] | None = None  # gt -> (mask -> value)

    @property
    def label(self) -> str:
        """The metric's short name, as the gate's messages print it: ``NoC``, ``mIoU``."""
        return self.header.split("@")[0].split(" (")[0]

    def headers(self, keys: list[str]) -> list[str]:
        """Header cells for thresholds' keys (THRESHOLD) or click numbers (CLICK)."""
        if self.shape == SCALAR:
            return [self.header]
        return [self.header.format(t=k, k=k) for k in keys]


CATALOG: tuple[Metric, ...] = (
    Metric("noc", "NoC@{t}", "noc_{t}_clicks", "clicks",
           "mean number of clicks to reach each IoU threshold (max_clicks when never reached)", THRESHOLD,
           tolerance=0.0),
    Metric("nof", "NoF@{t}", "nof_{t}_samples", "samples",
           "samples that never reach the threshold within max_clicks (failures)", THRESHOLD,
           tolerance=0.0, integer=True),
    Metric("noc_std", "NoC SD@{t}", "noc_{t}_std_clicks", "clicks",
           "standard deviation of the per-sample NoC", THRESHOLD, in_table=False),
    Metric("miou", "mIoU@{k} (%)", "miou_{k}", "IoU (0-1)",
           "fraction in [0, 1], k = 1..max_clicks", CLICK, better=HIGHER, scale=100.0, digits=1,
           tolerance=0.0, sample_key="ious"),
    Metric("mbiou", "mBIoU@{k} (%)", "mbiou_{k}", "Boundary IoU (0-1)",
           "mean Boundary IoU after click k (Cheng et al., CVPR 2021: IoU of the masks' inner bands "
           f"{metrics.BOUNDARY_DILATION_RATIO:g} x the image diagonal wide, void excluded), fraction in "
           "[0, 1], k = 1..max_clicks", CLICK, better=HIGHER, scale=100.0, digits=1, tolerance=0.0,
           sample_key="boundary_iou", scorer=metrics.boundary_iou_scorer),
    Metric("spc_s", "SPC (ms)", "spc_s", "s", "seconds of model time per click", SCALAR, scale=1000.0, digits=1),
    Metric("first_click_s", "1st click (ms, median)", "first_click_median_s", "s",
           "median seconds of model time of click 1 (set_image + predict)", SCALAR, scale=1000.0, digits=1),
    Metric("later_click_s", "later clicks (ms, median)", "later_click_median_s", "s",
           "median seconds of model time of clicks 2.. (predict)", SCALAR, scale=1000.0, digits=1),
    Metric("time_s", "Time@{t} (s)", "time_{t}_s", "s",
           "seconds of model time, summed over samples until each threshold", THRESHOLD, digits=1),
)
BY_KEY = {m.key: m for m in CATALOG}
GATED = tuple(m for m in CATALOG if m.tolerance is not None)  # what the regression gate compares
MASK_SCORES = tuple(m for m in CATALOG if m.scorer is not None)  # computed from each click's mask


def of_shape(shape: str) -> tuple[Metric, ...]:
    return tuple(m for m in CATALOG if m.shape == shape)


def units() -> dict[str, str]:
    """Each metric's unit and meaning, for summary.json."""
    return {m.key: f"{m.unit}: {m.description}" for m in CATALOG}
