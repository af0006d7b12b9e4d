"""The harness's own cost per click on DAVIS-sized frames (480x854), against the deep methods.

Overhead = everything ``evaluate_sample`` does besides the model calls (clicker, output checks,
thresholding, IoU, bookkeeping) plus writing the sample's record, per click. It is measured with a
replay method that returns precomputed probability maps, so only harness work remains. In the same
run, every deep method's later-click latency is measured on the same frames at the sizes the
protocol gives it (DAVIS rules: EMC-Click 576 short side, RITM zoom 600, FocalClick 256). The
target: overhead below 2 % of the cheapest deep method's later click.

    python benchmarks/harness_overhead.py [--data-root ../shared/datasets] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import cv2
import numpy as np
import torch

from iseg_bench.adapters import DEEP_VARIANTS, load_predictor
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.predictor import MethodInfo, Predictor
from iseg_bench.protocol import Protocol
from iseg_bench.records import SampleRecord
from iseg_bench.store import ResultStore

H, W = 480, 854


class Replay(Predictor):
    """Returns the next of a precomputed list of probability maps (a method that costs nothing)."""

    name = "replay"

    def __init__(self, maps: list[np.ndarray]) -> None:
        self.maps = maps

    def set_image(self, image):
        self.k = 0

    def predict(self, clicks, prev_mask):
        out = self.maps[min(self.k, len(self.maps) - 1)]
        self.k += 1
        return out

    def describe(self):
        return MethodInfo("replay", "test", "none", None)


def frames(data_root: str | None, count: int):
    specs = ["Synthetic"] + (["GrabCut", "Berkeley"] if data_root else [])
    out = []
    for spec in specs:
        ds = open_dataset(spec, data_root)
        for i in range(0, len(ds), max(1, len(ds) // count)):
            s = ds.load(i)
            gt = cv2.resize(s.gt.astype(np.int16), (W, H), interpolation=cv2.INTER_NEAREST).astype(np.int32)
            out.append((cv2.resize(s.image, (W, H)), gt))
    return out


def improving_predictions(gt: np.ndarray, clicks: int) -> list[np.ndarray]:
    """Probability maps that approach the object click after click (errors along the boundary)."""
    obj = (gt == 1).astype(np.uint8)
    maps = []
    for k in range(clicks):
        r = max(1, 12 - k)
        grown = cv2.dilate(obj, np.ones((r, r), np.uint8)) if k % 2 else cv2.erode(obj, np.ones((r, r), np.uint8))
        maps.append(grown.astype(np.float32) * 0.9 + 0.05)
    return maps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    clicks = 20
    protocol = Protocol(max_clicks=clicks, early_stop="never")
    samples = frames(args.data_root, args.frames)

    per_click = []
    with tempfile.TemporaryDirectory() as tmp, ResultStore(tmp) as store:
        for n, (image, gt) in enumerate(samples):
            replay = Replay(improving_predictions(gt, clicks))
            t0 = time.perf_counter()
            out = evaluate_sample(replay, image, gt, protocol)
            record = SampleRecord("replay", "none", "frames", "fp", str(n), protocol.hash, clicks=out.clicks,
                                  ious=out.ious, latency_s=out.latency_s, phases=out.phases, setup_s=out.setup_s)
            store.append(record)
            wall = time.perf_counter() - t0
            per_click.append((wall - sum(out.latency_s)) / len(out.ious))
    overhead_ms = 1000 * statistics.median(per_click)

    later = {}
    image, gt = samples[0]
    ys, xs = np.nonzero(gt == 1)
    from iseg_bench.clicker import Click
    click_list = [Click(int(ys[i]), int(xs[i]), k % 3 != 1, k) for k, i in enumerate(np.linspace(0, len(ys) - 1, 6).astype(int))]
    for name in DEEP_VARIANTS:
        predictor = load_predictor(name)
        predictor.prepare(Protocol(), "DAVIS")
        predictor.set_image(image)
        predictor.predict(click_list[:1], None)
        times = []
        for k in range(2, 7):
            t0 = time.perf_counter()
            predictor.predict(click_list[:k], None)
            times.append(time.perf_counter() - t0)
        later[name] = 1000 * statistics.median(times)
    cheapest = min(later, key=later.get)
    print(f"frames: {len(samples)} at {H}x{W}, {clicks} clicks each, {args.threads} threads")
    print(f"harness overhead per click (clicker + checks + threshold + IoU + record): median {overhead_ms:.3f} ms")
    for name, ms in sorted(later.items(), key=lambda kv: kv[1]):
        print(f"  later click {name:28s} {ms:8.1f} ms")
    print(f"cheapest deep later click: {cheapest} {later[cheapest]:.1f} ms -> overhead share "
          f"{100 * overhead_ms / later[cheapest]:.2f} % (target < 2 %)")


if __name__ == "__main__":
    main()
