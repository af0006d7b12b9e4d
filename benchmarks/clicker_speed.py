"""Time the robot clicker per click on 480x854 (DAVIS-sized) frames, beside the full-image rule.

Both clickers see the same masks: the ground truth of every Synthetic scene (and of the real
GrabCut set when ../shared/datasets is present) resized to 480x854, and the predictions of the
`disk` method as it follows the clicks for up to 20 clicks. The bounding-box clicker must place the
very same clicks; the script checks that while it times them.

    python benchmarks/clicker_speed.py [--data-root ../shared/datasets]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from iseg_bench.adapters import load_predictor
from iseg_bench.clicker import RobotClicker
from iseg_bench.datasets import open_dataset

H, W = 480, 854


def full_image_click(gt: np.ndarray, pred: np.ndarray, not_clicked: np.ndarray) -> tuple[int, int, bool]:
    """The reference rule on the whole frame (no bounding box), for comparison."""
    obj, valid = gt == 1, gt != -1
    fn = obj & ~pred & valid
    fp = ~obj & pred & valid
    pad = lambda m: np.pad(m, 1).astype(np.uint8)
    dfn = cv2.distanceTransform(pad(fn), cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    dfp = cv2.distanceTransform(pad(fp), cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    positive = dfn.max() > dfp.max()
    dist = dfn if positive else dfp
    y, x = divmod(int(np.argmax(dist == dist.max())), W)
    return y, x, bool(positive)


def label_maps(data_root: str | None):
    specs = ["Synthetic"] + (["GrabCut", "Berkeley"] if data_root else [])
    for spec in specs:
        ds = open_dataset(spec, data_root)
        for i in range(len(ds)):
            s = ds.load(i)
            yield spec, s.image, s.gt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    disk = load_predictor("disk")
    times = {"bbox": [], "full": []}
    per_set: dict[str, list[float]] = {}
    for name, image, gt in label_maps(args.data_root):
        gt = cv2.resize(gt.astype(np.int16), (W, H), interpolation=cv2.INTER_NEAREST).astype(np.int32)
        image = cv2.resize(image, (W, H))
        disk.set_image(image)
        fast, not_clicked = RobotClicker(gt), np.ones((H, W), bool)
        pred = np.zeros((H, W), bool)
        for _ in range(20):
            t0 = time.perf_counter()
            a = fast.next_click(pred)
            t1 = time.perf_counter()
            b = full_image_click(gt, pred, not_clicked)
            t2 = time.perf_counter()
            not_clicked[b[0], b[1]] = False
            assert (a.y, a.x, a.is_positive) == b, (name, a, b)
            times["bbox"].append(t1 - t0)
            times["full"].append(t2 - t1)
            per_set.setdefault(name, []).append(t1 - t0)
            pred = disk.predict(fast.clicks, pred) > 0.5
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    p90 = {k: float(np.percentile(v, 90)) * 1000 for k, v in times.items()}
    print(f"clicks timed: {len(times['bbox'])} on {H}x{W} frames (identical clicks from both rules)")
    for k in ("bbox", "full"):
        print(f"  {k:>4} clicker: median {med[k]:.3f} ms/click, p90 {p90[k]:.3f} ms/click")
    for name, v in per_set.items():
        print(f"  bbox clicker on {name}: median {statistics.median(v) * 1000:.3f} ms/click over {len(v)} clicks")
    print(f"  ratio bbox/full (median): {med['bbox'] / med['full']:.2f}")


if __name__ == "__main__":
    main()
