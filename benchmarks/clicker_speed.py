"""Time the robot clicker per click on 480x854 (DAVIS-sized) frames, beside the full-image rule.

Both clickers see the same masks: the ground truth of every Synthetic scene (and of the real
GrabCut set when ../shared/datasets is present) resized to 480x854, and the predictions of the
`disk` method as it follows the clicks for up to 20 clicks. The bounding-box clicker must place the
very same clicks; the script checks that while it times them.

    python benchmarks/clicker_speed.py [--data-root ../shared/datasets] [--out reports/efficiency]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
import numpy as np
from report_files import REPO, write_report

from iseg_bench.adapters import load_predictor
from iseg_bench.clicker import RobotClicker
from iseg_bench.datasets import open_dataset

H, W = 480, 854


def full_image_click(gt: np.ndarray, pred: np.ndarray, not_clicked: np.ndarray) -> tuple[int, int, bool]:
    """The reference rule on the whole frame (no bounding box), for comparison."""
    obj, valid = gt == 1, gt != -1
    fn = obj & ~pred & valid
    fp = ~obj & pred & valid

    def pad(m):
        return np.pad(m, 1).astype(np.uint8)

    dfn = cv2.distanceTransform(pad(fn), cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    dfp = cv2.distanceTransform(pad(fp), cv2.DIST_L2, 0)[1:-1, 1:-1] * not_clicked
    positive = dfn.max() > dfp.max()
    dist = dfn if positive else dfp
    y, x = divmod(int(np.argmax(dist == dist.max())), W)
    return y, x, bool(positive)


def label_maps(data_root: str | None):
    """(data set name, image, ground truth) of every Synthetic scene, and of GrabCut and Berkeley with data_root."""
    specs = ["Synthetic"] + (["GrabCut", "Berkeley"] if data_root else [])
    for spec in specs:
        ds = open_dataset(spec, data_root)
        for i in range(len(ds)):
            s = ds.load(i)
            yield spec, s.image, s.gt


def time_clicks(data_root: str | None) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per click of both rules over every frame (and of the bbox rule per data set).

    Stops with an error if the two rules ever place different clicks.
    """
    disk = load_predictor("disk")
    times = {"bbox": [], "full": []}
    per_set: dict[str, list[float]] = {}
    for name, image, gt in label_maps(data_root):
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
            if (a.y, a.x, a.is_positive) != b:
                raise SystemExit(f"the clickers disagree on {name}: bbox {a}, full image {b}")
            times["bbox"].append(t1 - t0)
            times["full"].append(t2 - t1)
            per_set.setdefault(name, []).append(t1 - t0)
            pred = disk.predict(fast.clicks, pred) > 0.5
    return times, per_set


def markdown(r: dict) -> str:
    """The results as a short Markdown section; every number names its unit."""
    rules = "\n".join(f"| {k} | {v['median']:.3f} | {v['p90']:.3f} |" for k, v in r["ms_per_click"].items())
    sets = "\n".join(f"| {name} | {v['median']:.3f} | {v['clicks']} |"
                     for name, v in r["bbox_ms_per_click_by_set"].items())
    return (f"{r['clicks_timed']} clicks timed on {r['height']}x{r['width']} pixel frames; both rules placed identical "
            f"clicks (checked at every click).\n\n"
            f"| rule | median (ms/click) | p90 (ms/click) |\n|---|---|---|\n{rules}\n\n"
            f"| data set | bbox clicker median (ms/click) | clicks |\n|---|---|---|\n{sets}\n\n"
            f"Ratio bbox / full-image rule (medians): {r['ratio_bbox_to_full']:.2f} (dimensionless).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default=str(REPO / "reports" / "efficiency"), help="folder for clicker_speed.json/.md")
    args = ap.parse_args()
    times, per_set = time_clicks(args.data_root)
    ms = {k: {"median": statistics.median(v) * 1000, "p90": float(np.percentile(v, 90)) * 1000}
          for k, v in times.items()}
    results = {
        "height": H, "width": W, "data_root": args.data_root, "clicks_timed": len(times["bbox"]),
        "identical_clicks": True,  # time_clicks stops the script otherwise
        "ms_per_click": ms,
        "bbox_ms_per_click_by_set": {name: {"median": statistics.median(v) * 1000, "clicks": len(v)}
                                     for name, v in per_set.items()},
        "ratio_bbox_to_full": ms["bbox"]["median"] / ms["full"]["median"],
    }
    print(f"clicks timed: {results['clicks_timed']} on {H}x{W} frames (identical clicks from both rules)")
    for k in ("bbox", "full"):
        print(f"  {k:>4} clicker: median {ms[k]['median']:.3f} ms/click, p90 {ms[k]['p90']:.3f} ms/click")
    for name, v in results["bbox_ms_per_click_by_set"].items():
        print(f"  bbox clicker on {name}: median {v['median']:.3f} ms/click over {v['clicks']} clicks")
    print(f"  ratio bbox/full (median): {results['ratio_bbox_to_full']:.2f}")
    path = write_report(args.out, "clicker_speed", results, markdown(results), sys.argv)
    print(f"wrote {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
