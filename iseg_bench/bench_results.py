"""Reading stored benchmark results: the phase rows every efficiency table is made of, labels, the
latency per click index. Pure functions of the JSON results ``bench`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .latency import summary

BENCH_DIR = "bench"  # results folder subfolder holding one JSON per benchmark job


def load_bench(out: Path) -> list[dict]:
    """Every stored benchmark result of a results folder."""
    folder = Path(out) / BENCH_DIR
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []



def image_latencies(result: dict, phase: str) -> list[float]:
    """Whole-click seconds on the benchmark images: click 1 for "first", every later click for "later"."""
    out: list[float] = []
    for entry in result["clicks"]:
        ks = entry["per_click_s"][:1] if phase == "first" else entry["per_click_s"][1:]
        for values in ks:
            out.extend(values)
    return out


def achieved_gflops(ph: dict) -> float:
    """A network phase's achieved rate: fvcore FLOPs (2 x MACs) over its median time (GFLOP/s)."""
    if not ph.get("flops") or not ph["latency_s"]:
        return float("nan")
    return ph["flops"]["gflops"] / float(np.median(ph["latency_s"]))


def phase_rows(result: dict) -> list[dict]:
    """One row per click phase: the whole click on images, and the network alone (if it is one)."""
    networks = {ph["phase"]: ph for ph in result["phases"]}
    peak = result["environment"].get("matmul_peak_gflops", float("nan"))
    rows = []
    for phase in ("first", "later"):
        ph = networks.get(phase)
        rate = achieved_gflops(ph) if ph else float("nan")
        rows.append({
            "method": result["method"], "label": label_of(result), "phase": phase,
            "implementation": result["info"].get("implementation", ""),
            "protocol": result["protocol"]["name"],
            "parts": ph["parts"] if ph else "not a network",
            "input": ph["input_size"] if ph else None, "batch": ph["batch"] if ph else None,
            "params": ph["params"] if ph else 0, "bn_statistics": ph.get("bn_statistics", 0) if ph else 0,
            "gmacs": ph["flops"]["gmacs"] if ph and ph["flops"] else float("nan"),
            "not_counted": sorted(ph["flops"]["not_counted"]) if ph and ph["flops"] else [],
            "network": summary(ph["latency_s"] if ph else []),
            "gflops_per_s": rate, "peak_share": rate / peak if peak else float("nan"),
            "images": summary(image_latencies(result, phase)),
        })
    return rows


def label_of(result: dict) -> str:
    from .predictor import MethodInfo

    return MethodInfo.from_dict(result["info"]).label


def click_curve(result: dict) -> list[float]:
    """Median whole-click latency (ms) per click index over every benchmarked image."""
    n = max((len(c["per_click_s"]) for c in result["clicks"]), default=0)
    curve = []
    for k in range(n):
        values = [x for c in result["clicks"] if k < len(c["per_click_s"]) for x in c["per_click_s"][k]]
        curve.append(float(np.median(values)) * 1000 if values else float("nan"))
    return curve
