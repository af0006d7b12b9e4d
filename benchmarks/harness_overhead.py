"""The harness's own cost per click on DAVIS-sized frames (480x854), against the deep methods.

Overhead = everything ``evaluate_sample`` does besides the model calls (clicker, output checks,
thresholding, IoU, bookkeeping) plus writing the sample's record, per click. It is measured with a
replay method that returns precomputed probability maps, so only harness work remains. In the same
run, every deep method's later-click latency (the whole predict call) is measured on the same
frames at the sizes the protocol gives it (DAVIS rules: EMC-Click 576 short side, RITM zoom 600,
FocalClick 256), untrained networks steered by surrogate masks. The target: overhead below 2 % of
the cheapest deep method's later click.

    python benchmarks/harness_overhead.py [--data-root ../shared/datasets] [--threads 2] [--methods a,b]
                                          [--out reports/efficiency]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
from report_files import REPO, write_report

from iseg_bench.adapters import VARIANTS, load_predictor
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.predictor import MethodInfo, Predictor
from iseg_bench.protocol import Protocol
from iseg_bench.records import SampleRecord
from iseg_bench.steering import Surrogate
from iseg_bench.store import ResultStore

H, W = 480, 854
TARGET_PCT = 2.0  # overhead must stay below this share of the cheapest deep method's later click


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
    """About ``count`` (image, ground truth) pairs per dataset, resized to the DAVIS frame size."""
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


def realistic_predictions(gt: np.ndarray, clicks: int) -> list[np.ndarray]:
    """Probability maps with a trained model's kind of errors: blobs along the boundary, shrinking
    click by click (the surrogate masks of iseg_bench.steering)."""
    surrogate = Surrogate(gt)
    return [surrogate.mask(k).astype(np.float32) * 0.9 + 0.05 for k in range(1, clicks + 1)]


ERROR_KINDS = {"bands": improving_predictions, "realistic": realistic_predictions}


def harness_overhead_per_click(samples, clicks: int, predictions) -> list[float]:
    """Per frame, the seconds per click that evaluate_sample and the record write spend outside the model."""
    protocol = Protocol(max_clicks=clicks, early_stop="never")
    per_click = []
    with tempfile.TemporaryDirectory() as tmp, ResultStore(tmp) as store:
        for n, (image, gt) in enumerate(samples):
            replay = Replay(predictions(gt, clicks))
            t0 = time.perf_counter()
            out = evaluate_sample(replay, image, gt, protocol)
            record = SampleRecord("replay", "none", "frames", "fp", str(n), protocol.hash, clicks=out.clicks,
                                  ious=out.ious, latency_s=out.latency_s, phases=out.phases, setup_s=out.setup_s)
            store.append(record)
            wall = time.perf_counter() - t0
            per_click.append((wall - sum(out.latency_s)) / len(out.ious))
    return per_click


def later_click_ms(methods: list[str], samples, implementation: str) -> dict[str, float]:
    """Each deep method's median whole-click latency (ms) of clicks 2-8 on the frames, at the DAVIS input
    sizes, neutral settings, untrained networks steered by surrogate masks (a trained model's crops)."""
    protocol = Protocol(max_clicks=8, early_stop="never", untrained_control="gt-degraded")
    later = {}
    for name in methods:
        predictor = load_predictor(name, implementation=implementation)
        predictor.prepare(protocol, "DAVIS")
        evaluate_sample(predictor, *samples[0], protocol)  # warm-up
        times = [t for image, gt in samples for t in evaluate_sample(predictor, image, gt, protocol).latency_s[1:]]
        later[name] = 1000 * statistics.median(times)
    return later


def markdown(r: dict) -> str:
    """The results as a short Markdown section; every number names its unit."""
    rows = "\n".join(f"| {name} | {ms:.1f} |" for name, ms in sorted(r["later_click_ms"].items(), key=lambda kv: kv[1]))
    kinds = "\n".join(
        f"| {kind} | {o['median']:.3f} | {o['p10']:.3f} | {o['p90']:.3f} | {r['overhead_share_pct'][kind]:.2f} |"
        for kind, o in r["overhead_per_click_ms"].items())
    cheapest = r["later_click_ms"][r["cheapest"]]
    return (f"{r['frames']} frames at {r['height']}x{r['width']} pixels, {r['clicks']} clicks each, "
            f"{r['threads']} threads.\n\n"
            f"Harness overhead per click (clicker + checks + threshold + IoU + record) over the frames, for two kinds "
            f"of predicted masks: 'bands' (the object eroded or dilated: one error band along the whole boundary) "
            f"and 'realistic' (the surrogate masks: error blobs of both polarities, as a trained model makes):\n\n"
            f"| error kind | median (ms) | p10 (ms) | p90 (ms) | share of the cheapest later click (%) |\n"
            f"|---|---|---|---|---|\n{kinds}\n\n"
            f"| deep method ({r['implementation']}, DAVIS rules, neutral, surrogate-steered) | "
            f"later click, whole predict call, median of clicks 2-8 on {r['method_frames']} frames (ms) |\n"
            f"|---|---|\n{rows}\n\n"
            f"Cheapest deep later click: {r['cheapest']} {cheapest:.1f} ms; target share < {r['target_pct']:g} %.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--methods", default=",".join(VARIANTS), help="comma list of deep variants (default: all)")
    ap.add_argument("--implementation", default="engineered", choices=["engineered", "official"])
    ap.add_argument("--method-frames", type=int, default=3, help="frames the deep methods are timed on")
    ap.add_argument("--out", default=str(REPO / "reports" / "efficiency"), help="folder for harness_overhead.json/.md")
    args = ap.parse_args()
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in VARIANTS]
    if unknown:
        ap.error(f"not deep variants: {', '.join(unknown)} (choose from {', '.join(VARIANTS)})")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    clicks = 20
    samples = frames(args.data_root, args.frames)
    overhead = {}
    for kind, predictions in ERROR_KINDS.items():
        per_click_ms = [1000 * s for s in harness_overhead_per_click(samples, clicks, predictions)]
        overhead[kind] = {"median": statistics.median(per_click_ms), "p10": float(np.percentile(per_click_ms, 10)),
                          "p90": float(np.percentile(per_click_ms, 90)), "per_frame": per_click_ms}
    later = later_click_ms(methods, samples[:args.method_frames], args.implementation)
    cheapest = min(later, key=later.get)
    results = {
        "frames": len(samples), "height": H, "width": W, "clicks": clicks, "threads": args.threads,
        "implementation": args.implementation, "method_frames": min(args.method_frames, len(samples)),
        "data_root": args.data_root, "overhead_per_click_ms": overhead, "later_click_ms": later,
        "cheapest": cheapest, "target_pct": TARGET_PCT,
        "overhead_share_pct": {kind: 100 * o["median"] / later[cheapest] for kind, o in overhead.items()},
    }
    print(f"frames: {len(samples)} at {H}x{W}, {clicks} clicks each, {args.threads} threads")
    for kind, o in overhead.items():
        print(f"harness overhead per click, {kind} errors (clicker + checks + threshold + IoU + record): median "
              f"{o['median']:.3f} ms, p10 {o['p10']:.3f} ms, p90 {o['p90']:.3f} ms -> "
              f"{results['overhead_share_pct'][kind]:.2f} % of the cheapest later click")
    for name, ms in sorted(later.items(), key=lambda kv: kv[1]):
        print(f"  later click {name:28s} {ms:8.1f} ms")
    print(f"cheapest deep later click: {cheapest} {later[cheapest]:.1f} ms (target share < {TARGET_PCT:g} %)")
    path = write_report(args.out, "harness_overhead", results, markdown(results), sys.argv)
    print(f"wrote {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
