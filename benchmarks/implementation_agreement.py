"""How closely the engineered implementation of every deep variant follows the official arithmetic,
unsteered and with the state each carries, click by click.

Both implementations click a real image (GrabCut, from --data-root; an embedded scene without it)
under their family's published protocol, each following its own predictions, with calibrated
seeded weights (decisive, click-dependent masks). At every click the clicks, the probabilities and
every piece of carried state (previous probabilities, zoom-in / target / focus boxes, low-resolution
logits, base features, SAM's image embedding and fed-back logits) are compared through
``iseg_bench.adapters.equivalence``, the module tests/test_implementations.py and tests/test_sam.py
compare through. SAM's three sizes run through tiny configurations of each size's layout.
Exits 1 when a comparison is outside its tolerance.

    python benchmarks/implementation_agreement.py [--clicks 20] [--data-root ../shared/datasets]
                                                  [--out reports/faithfulness]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from report_files import REPO, write_report

from iseg_bench import presets
from iseg_bench.adapters import FAMILIES, load_predictor
from iseg_bench.adapters.equivalence import (
    PROBABILITY_TOLERANCE,
    STATE_TOLERANCE,
    TIE_GAP,
    Agreement,
    compare_implementations,
    tolerance,
)
from iseg_bench.adapters.sam.network import TINY_SIZES, tiny_variant
from iseg_bench.adapters.sam.predictor import SAMPredictor
from iseg_bench.datasets import open_dataset

WIDTH = 320  # images are scaled down to this width (INTER_AREA), masks with nearest neighbours


def image(data_root: Path | None, index: int) -> tuple[str, np.ndarray, np.ndarray]:
    """GrabCut sample ``index`` (an embedded scene without the data), at most WIDTH pixels wide."""
    if data_root is not None and (data_root / "GrabCut").is_dir():
        ds = open_dataset("GrabCut", data_root)
    else:
        ds = open_dataset("Synthetic")
    s = ds.load(index % len(ds.ids))
    scale = min(1.0, WIDTH / s.image.shape[1])
    size = (int(s.image.shape[1] * scale), int(s.image.shape[0] * scale))
    small = s.resized(size)
    return f"{ds.name}/{s.id}", small.image, small.gt


def cases() -> list[tuple[str, str, object]]:
    """(variant, family, maker of an implementation) for every deep variant and SAM's tiny sizes."""
    out = []
    for family_name, family in FAMILIES.items():
        if family_name == "sam":
            for size in TINY_SIZES:
                variant = tiny_variant(size)
                out.append((variant.name, "sam", lambda impl, v=variant: SAMPredictor(v, weights="calibrated",
                                                                                      implementation=impl)))
            continue
        for v in family.variants:
            out.append((v.name, family_name,
                        lambda impl, n=v.name: load_predictor(n, weights="calibrated", implementation=impl)))
    return out


def fmt(x: float) -> str:
    return "equal" if x == 0 else ("**differs**" if math.isinf(x) else f"{x:.2e}")


def markdown(results: dict) -> str:
    summary, detail = [], []
    for r in results["variants"]:
        worst = ", ".join(f"{name} {fmt(v)}" for name, v in r["worst"].items())
        fork = f"forked at click {r['forked_at']} (exempt)" if r["forked_at"] else "no fork"
        summary.append(f"| {r['variant']} | {r['image']} | {r['compared_clicks']} / {r['clicks_run']} | "
                       f"{r['exempt']} | {fork} | {worst} | {'yes' if not r['failures'] else '**no**'} |")
        for c in r["clicks"]:
            values = ", ".join(f"{name} {fmt(v)}" for name, v in c["differences"].items())
            detail.append(f"| {r['variant']} | {c['click']} | {values} | {c['exempt'] or '-'} |")
    return (
        f"Both implementations of every deep variant, calibrated seeded weights, unsteered (each follows its own "
        f"predictions), {results['clicks']} clicks under the family's published protocol at its published input "
        f"sizes, on one real image each (scaled to {WIDTH} px wide). Compared at every click: the clicks and "
        f"the zoom-in / target / focus boxes (must be equal), the probabilities (max abs difference, tolerance "
        f"{PROBABILITY_TOLERANCE:g}) and every carried tensor (max abs difference over the tensor's largest "
        f"magnitude, at least 1; tolerance {STATE_TOLERANCE:g}). EMC-Click's template-order exemption: a "
        f"click where the two formulations order two top-K templates whose scores tie within {TIE_GAP:g} is "
        f"counted as exempt and the runs, which fork there, are not compared after it; any other reordering "
        f"fails. SAM's sizes run through tiny configurations with each size's layout of windowed and global "
        f"blocks.\n\n"
        f"{results['passed']} of {len(results['variants'])} variants within every tolerance; "
        f"{results['exempt']} exempt clicks in all.\n\n"
        "| variant | image | clicks compared / run | exempt clicks | fork | largest difference per output | "
        "within tolerance |\n|---|---|---|---|---|---|---|\n" + "\n".join(summary)
        + "\n\n## Every click\n\n| variant | click | compared: largest difference | exempt |\n|---|---|---|---|\n"
        + "\n".join(detail) + "\n")


def row(agreement: Agreement, name: str, sample: str, clicks_run: int, seconds: float) -> dict:
    return {"variant": name, "image": sample, "clicks_run": clicks_run,
            "compared_clicks": sum(1 for c in agreement.clicks if not c.exempt), "exempt": agreement.exempt,
            "forked_at": agreement.forked_at, "worst": agreement.worst(), "failures": agreement.failures(),
            "tolerances": {k: tolerance(k) for k in agreement.worst()}, "seconds": round(seconds, 1),
            "clicks": [{"click": c.click, "differences": c.differences, "exempt": c.exempt} for c in agreement.clicks]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=20, help="clicks per run")
    ap.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets",
                    help="folder holding GrabCut (an embedded scene without it)")
    ap.add_argument("--out", default=str(REPO / "reports" / "faithfulness"),
                    help="folder for engineered_vs_official.json/.md")
    args = ap.parse_args()
    variants = []
    for i, (name, family, make) in enumerate(cases()):
        sample, img, gt = image(args.data_root, 3 + 7 * i)
        protocol = presets()[family].replace(max_clicks=args.clicks, early_stop="never", untrained_control="own")
        start = time.perf_counter()
        agreement = compare_implementations(make, img, gt, protocol, "GrabCut", sample)
        variants.append(row(agreement, name, sample, args.clicks, time.perf_counter() - start))
        r = variants[-1]
        print(f"{name:28s} {sample:22s} compared {r['compared_clicks']}/{args.clicks} clicks, exempt {r['exempt']}: "
              + ", ".join(f"{k} {fmt(v)}" for k, v in r["worst"].items()) + ("" if not r["failures"] else "  FAILS"))
    results = {"clicks": args.clicks, "probability_tolerance": PROBABILITY_TOLERANCE,
               "state_tolerance": STATE_TOLERANCE, "tie_gap": TIE_GAP, "variants": variants,
               "passed": sum(not r["failures"] for r in variants), "exempt": sum(r["exempt"] for r in variants)}
    path = write_report(args.out, "engineered_vs_official", results, markdown(results), sys.argv)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    if results["passed"] < len(variants):
        sys.exit(1)


if __name__ == "__main__":
    main()
