"""Segment Anything's cost per click phase beside EMC-Click's and FocalClick's, from `iseg-bench bench` results.

For every benchmarked method (one results folder per frame size): parameters and fvcore GMACs of the
first phase (SAM: the image encoder with the first click's decoder) and of a later click (SAM: the
prompt encoder and mask decoder alone), the whole-click latency of click 1 and of later clicks on the
benchmark images, the network-alone latency per phase, and the benchmark process's peak resident
memory. Every figure is read from the stored bench JSON; nothing is measured here.

    python benchmarks/sam_cost.py results/sam/grabcut results/sam/davis-sized --out reports/efficiency
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from report_files import write_report

from iseg_bench.bench_results import label_of, load_bench, phase_rows
from iseg_bench.machine_load import LoadReading, combine, describe


def rows_of(folder: Path) -> list[dict]:
    """One row per (method, implementation) under the published protocol."""
    out = []
    for result in load_bench(folder):
        if result["protocol"]["name"] not in (result["info"]["family"], "neutral"):
            continue
        first, later = phase_rows(result)
        frames = {c["dataset"] + (f" resized to {c['frame'][0]}x{c['frame'][1]}" if c.get("frame") else "")
                  for c in result["clicks"]}
        out.append({
            "method": label_of(result), "implementation": result["info"].get("implementation", ""),
            "protocol": result["protocol"]["name"], "images": ", ".join(sorted(frames)),
            "first_params_m": first["params"] / 1e6, "first_gmacs": first["gmacs"],
            "later_params_m": later["params"] / 1e6, "later_gmacs": later["gmacs"],
            "first_click_ms": first["images"]["median_ms"], "later_click_ms": later["images"]["median_ms"],
            "first_network_ms": first["network"]["median_ms"], "later_network_ms": later["network"]["median_ms"],
            "peak_rss_mb": result["environment"].get("peak_rss_mb"),
            "load": result.get("load", {}),
        })
    return out


def markdown(tables: dict[str, list[dict]]) -> str:
    parts = []
    for folder, rows in tables.items():
        parts.append(f"## {folder}\n\n| Method | Implementation | Images | First phase: params M / GMACs | "
                     "Later click: params M / GMACs | Click 1 ms (whole) | Later click ms (whole) | "
                     "First phase network ms | Later click network ms | Peak RSS MB |\n"
                     "|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            rss = "–" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f}"
            parts.append(f"| {r['method']} | {r['implementation'] or '–'} | {r['images']} | "
                         f"{r['first_params_m']:.3f} / {r['first_gmacs']:.2f} | "
                         f"{r['later_params_m']:.3f} / {r['later_gmacs']:.2f} | {r['first_click_ms']:.1f} | "
                         f"{r['later_click_ms']:.1f} | {r['first_network_ms']:.1f} | {r['later_network_ms']:.1f} | "
                         f"{rss} |")
        load = describe(combine(LoadReading.from_dict(r["load"]) for r in rows))
        parts.append(f"\n{load[:1].upper()}{load[1:]}.\n")
    parts.append("Medians in milliseconds on this machine's CPU; GMACs counted by fvcore (multiply-accumulates; "
                 "the paper's 'FLOPs/G'); untrained networks (every row here) are steered by surrogate masks so "
                 "their crops are a trained model's; each method under its own published protocol. Peak RSS: the "
                 "benchmark process's maximum resident memory (model, activations and images).")
    return "\n".join(parts)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", help="results folders written by iseg-bench bench")
    ap.add_argument("--out", default="reports/efficiency", help="folder for sam_cost.json/.md")
    args = ap.parse_args(argv[1:])
    tables = {str(f): rows_of(Path(f)) for f in args.folders}
    path = write_report(args.out, "sam_cost", {"tables": tables}, markdown(tables), argv)
    print(path)


if __name__ == "__main__":
    main(sys.argv)
