"""Accuracy and time metrics as pure functions: of masks (IoU, Boundary IoU) and of per-click traces.

A *trace* is the float32 IoU after each click of one sample, truncated where the sample stopped.
Conventions follow the reference evaluation code (RITM's isegm/inference/utils.py: ``get_iou``,
``compute_noc_metric``):

- IoU ignores void pixels; an empty union gives NaN, which never reaches a threshold.
- Thresholds are compared in float32 (``float32(0.9) >= 0.9`` holds, as in the reference).
- A sample that never reaches a threshold counts ``max_clicks`` (not ``max_clicks + 1``), and a
  failure (NoF) is a sample whose NoC equals ``max_clicks`` -- including one that first gets there
  exactly at the last click.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Trace = Sequence[float] | np.ndarray


def iou(gt: np.ndarray, pred: np.ndarray) -> float:
    """IoU of a binary prediction against a label map (1 object, 0 background, -1 void).

    >>> gt = np.array([[1, 1], [0, -1]]); pred = np.array([[True, False], [True, True]])
    >>> round(iou(gt, pred), 4)
    0.3333
    """
    valid = gt != -1
    obj = gt == 1
    pred = pred.astype(bool, copy=False)
    n_object = np.count_nonzero(obj & valid)
    missed = np.count_nonzero(obj & ~pred & valid)
    extra = np.count_nonzero(pred & ~obj & valid)
    return iou_from_counts(int(n_object), int(missed), int(extra))


BOUNDARY_DILATION_RATIO = 0.02  # Boundary IoU's band width as a share of the image diagonal (Cheng et al.)


def boundary_width(shape: tuple[int, ...], ratio: float = BOUNDARY_DILATION_RATIO) -> int:
    """Boundary IoU's band width in pixels: ``ratio`` x the image diagonal, rounded (half to even, as
    Python's ``round``), at least 1.

    >>> boundary_width((480, 640)), boundary_width((10, 10))
    (16, 1)
    """
    return max(1, int(round(ratio * float(np.hypot(shape[0], shape[1])))))


def _band_in_box(mask: np.ndarray, width: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """``inner_boundary`` of ``mask`` within the mask's bounding box (outside it there is none), and
    the box: the erosion reads no pixel beyond the box's one-pixel background frame, which stands for
    the rest of the frame and the image border alike, so the work follows the object's size."""
    import cv2

    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return np.zeros((0, 0), bool), (slice(0, 0), slice(0, 0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    inside = mask[box].astype(np.uint8)
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    eroded = cv2.erode(np.pad(inside, 1), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=1)[1:-1, 1:-1]
    return inside.astype(bool) & ~eroded.astype(bool), box


def inner_boundary(mask: np.ndarray, width: int) -> np.ndarray:
    """The pixels of ``mask`` within ``width`` pixels (chessboard distance) of its outside, the image
    border counting as outside: the mask minus its erosion by a (2 width + 1)-pixel square, which is
    ``width`` erosions by a 3x3 square of the mask padded with one background pixel.

    >>> int(inner_boundary(np.ones((5, 5), bool), 1).sum()), int(inner_boundary(np.ones((5, 5), bool), 2).sum())
    (16, 24)
    """
    out = np.zeros(mask.shape, bool)
    band, box = _band_in_box(mask.astype(bool, copy=False), width)
    out[box] = band
    return out


def boundary_iou_scorer(gt: np.ndarray, ratio: float = BOUNDARY_DILATION_RATIO):
    """A function of a binary prediction giving its Boundary IoU against the label map ``gt`` (1 object,
    0 background, -1 void): the IoU of the two masks' inner boundary bands (``inner_boundary``, band
    width ``boundary_width``), void pixels excluded from both, NaN when both bands are empty. The
    ground truth's band is computed once, for every click of a sample.

    Boundary IoU (Cheng et al., CVPR 2021) weighs the outline: a mask that misses a thin part or
    follows the edge loosely loses far more Boundary IoU than IoU on a large object.
    """
    width = boundary_width(gt.shape, ratio)
    valid = gt != -1
    gt_band = inner_boundary(gt == 1, width) & valid
    n_gt = int(np.count_nonzero(gt_band))

    def score(pred: np.ndarray) -> float:
        band, box = _band_in_box(pred.astype(bool, copy=False), width)
        band &= valid[box]
        both = int(np.count_nonzero(band & gt_band[box]))
        union = n_gt + int(np.count_nonzero(band)) - both
        return both / union if union else float("nan")

    return score


def boundary_iou(gt: np.ndarray, pred: np.ndarray, ratio: float = BOUNDARY_DILATION_RATIO) -> float:
    """Boundary IoU of one prediction (``boundary_iou_scorer``).

    >>> gt = np.zeros((200, 200), int); gt[50:150, 50:150] = 1; pred = np.zeros((200, 200), bool)
    >>> pred[52:148, 52:148] = True  # 2 px inside the edge: IoU 0.92, bands of 6 px overlap by 4
    >>> boundary_iou(gt, gt == 1), round(boundary_iou(gt, pred), 3), round(iou(gt, pred), 3)
    (1.0, 0.5, 0.922)
    """
    return boundary_iou_scorer(gt, ratio)(pred)


def iou_from_counts(n_object: int, missed: int, extra: int) -> float:
    """IoU from pixel counts (void excluded): (object - missed) / (object + extra); NaN if empty.

    Intersection and union are the same integers as counting ``pred & gt`` and ``pred | gt``.

    >>> iou_from_counts(10, 2, 3)
    0.6153846153846154
    """
    union = n_object + extra
    return float(n_object - missed) / float(union) if union else float("nan")


def _as_trace(trace: Trace) -> np.ndarray:
    return np.asarray(trace, dtype=np.float32)


def reached(trace: Trace, threshold: float) -> np.ndarray:
    """Boolean array: did the IoU after each click reach ``threshold`` (float32 comparison)?"""
    return _as_trace(trace) >= np.float32(threshold)


def noc(trace: Trace, threshold: float, max_clicks: int) -> int:
    """Clicks needed to reach ``threshold``; ``max_clicks`` if it is never reached.

    >>> noc([0.5, 0.86, 0.91], 0.85, 20), noc([0.3] * 20, 0.85, 20)
    (2, 20)
    """
    hits = np.flatnonzero(reached(trace, threshold))
    return int(hits[0]) + 1 if hits.size else max_clicks


def noc_per_sample(traces: Sequence[Trace], threshold: float, max_clicks: int) -> np.ndarray:
    return np.array([noc(t, threshold, max_clicks) for t in traces], dtype=np.int64)


def mean_noc(traces: Sequence[Trace], threshold: float, max_clicks: int) -> float:
    """NoC@threshold: mean clicks to reach it over samples (NaN for no samples).

    >>> traces = [[0.5, 0.86, 0.91], [0.95], [0.3] * 20, [0.1] * 19 + [0.92]]
    >>> mean_noc(traces, 0.85, 20), mean_noc(traces, 0.90, 20)
    (10.75, 11.0)
    """
    counts = noc_per_sample(traces, threshold, max_clicks)
    return float(counts.mean()) if counts.size else float("nan")


def noc_std(traces: Sequence[Trace], threshold: float, max_clicks: int) -> float:
    """Population standard deviation of the per-sample NoC (as SimpleClick reports)."""
    counts = noc_per_sample(traces, threshold, max_clicks)
    return float(counts.std()) if counts.size else float("nan")


def nof(traces: Sequence[Trace], threshold: float, max_clicks: int) -> int:
    """NoF@threshold ("≥20@t"): samples whose NoC equals ``max_clicks``.

    >>> nof([[0.5, 0.86, 0.91], [0.95], [0.3] * 20, [0.1] * 19 + [0.92]], 0.90, 20)
    2
    """
    return int(np.count_nonzero(noc_per_sample(traces, threshold, max_clicks) == max_clicks))


def carried_forward(trace: Trace, max_clicks: int) -> np.ndarray:
    """The trace extended to ``max_clicks`` by repeating its last IoU (a stopped sample keeps its mask)."""
    t = _as_trace(trace)[:max_clicks]
    if t.size == 0:
        raise ValueError("an empty trace cannot be carried forward")
    return np.concatenate([t, np.full(max_clicks - t.size, t[-1], dtype=np.float32)])


def miou_curve(traces: Sequence[Trace], max_clicks: int) -> np.ndarray:
    """mIoU@k for k = 1..max_clicks (float64), early-stopped samples carried forward.

    >>> miou_curve([[0.5, 0.9], [0.7, 0.8, 0.85]], 3).round(3).tolist()
    [0.6, 0.85, 0.875]
    """
    if not traces:
        return np.full(max_clicks, np.nan)
    stacked = np.stack([carried_forward(t, max_clicks) for t in traces]).astype(np.float64)
    return stacked.mean(axis=0)


def miou_band(traces: Sequence[Trace], max_clicks: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of a ``level`` confidence interval of mIoU@k across samples (Student's
    t on the carried-forward traces; NaN with fewer than two samples).

    >>> lo, hi = miou_band([[0.5, 0.9], [0.7, 0.8]], 2); bool(lo[0] < 0.6 < hi[0])
    True
    """
    from scipy import stats

    if len(traces) < 2:
        return np.full(max_clicks, np.nan), np.full(max_clicks, np.nan)
    stacked = np.stack([carried_forward(t, max_clicks) for t in traces]).astype(np.float64)
    mean, sem = stacked.mean(axis=0), stacked.std(axis=0, ddof=1) / np.sqrt(len(traces))
    half = stats.t.ppf(0.5 + level / 2, len(traces) - 1) * sem
    return mean - half, mean + half


def time_to_iou(trace: Trace, latencies_s: Sequence[float], threshold: float) -> float:
    """Model time (s) spent until ``threshold`` is reached; all clicks' time if it never is.

    >>> time_to_iou([0.5, 0.9, 0.95], [0.2, 0.1, 0.1], 0.9)
    0.30000000000000004
    """
    lat = np.asarray(latencies_s, dtype=np.float64)
    if lat.size != len(trace):
        raise ValueError(f"{lat.size} latencies for a trace of {len(trace)} clicks")
    hits = np.flatnonzero(reached(trace, threshold))
    n = int(hits[0]) + 1 if hits.size else lat.size
    return float(lat[:n].sum())


def seconds_per_click(latencies: Sequence[Sequence[float]]) -> float:
    """SPC: mean model time per click actually run, over all samples (NaN without clicks)."""
    flat = [x for lat in latencies for x in lat]
    return float(np.mean(flat)) if flat else float("nan")
