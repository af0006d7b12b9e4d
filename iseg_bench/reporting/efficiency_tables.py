"""The efficiency tables ``iseg-bench bench`` prints, from stored benchmark results.

Two tables with one definition each: the headline is the whole click (the predictor's ``predict``,
plus ``set_image`` on click 1) on real images, first and later clicks apart; the second is each
click phase's network work alone (FLOPs, latency, achieved GFLOP/s beside the machine's matmul
peak). Under them: what was measured and how (boundaries, implementation, control flow, protocol,
counting convention, machine and its load during the measurement, weights status).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tabulate import tabulate

from .. import steering
from ..bench_results import label_of, phase_rows
from ..flops import COUNTING
from ..machine_load import LoadReading, describe, is_busy
from ..predictor import IMPLEMENTATION_NOTES, MethodInfo
from ..protocol import Protocol
from .style import DASH, number

NETWORK_BOUNDARY = (
    "Network alone: the calls a click makes into the networks, recorded from the predictor itself on a "
    "synthetic {size} frame (a disc object on noise; the robot clicking on surrogate masks, so crops and "
    "zoom-ins are a trained model's) and replayed: from network-resolution tensors (image in [0, 1] or "
    "normalised, previous mask, clicks; both flip halves) to logits at the network's input resolution. "
    "Geometry (crop, resize, flip, paste back) and post-processing are outside; work an implementation "
    "keeps per image or per crop is counted at the click that computes it (click 1 here). The later "
    "phase is click {later}.")
WHOLE_CLICK = (
    "Whole click (the headline): the predictor's predict call, plus set_image on click 1: everything between "
    "receiving the clicks and returning the full-resolution probabilities (pre-processing, flip TTA, networks, "
    "post-processing, crops pasted back, resizing), on {images}, after one untimed image; first = click 1, "
    "later = clicks 2-{clicks}.")


def latency(stats: dict) -> str:
    if not stats["n"]:
        return DASH
    return f"{stats['median_ms']:.1f} [{stats['p10_ms']:.1f}, {stats['p90_ms']:.1f}]"


def machine_line(results: Sequence[dict]) -> str:
    if not results:
        return ""
    env = results[0]["environment"]
    rates = env.get("matmul_gflops")
    peak_text = (f"; fp32 matrix-product peak {rates['peak']:.0f} GFLOP/s with these threads (2048^2 products: "
                 f"torch.mm {rates['torch_mm']:.0f}, oneDNN 1x1 convolution {rates['conv1x1_onednn']:.0f})"
                 if rates else "")
    return (f"Machine: {env['cpu']}, {env['physical_cores']} physical / {env['logical_cores']} logical cores, "
            f"{env['memory_gb']} GB; torch {env['packages'].get('torch', '?')} with {env['torch_threads']} "
            f"threads (interop {env['torch_interop_threads']}), OpenCV threads {env['opencv_threads']}{peak_text}.")


def weights_line(statuses: Sequence[tuple[str, str]]) -> str:
    """``Weights: name: status; ...`` with statuses as MethodInfo.status words."""
    return "Weights: " + "; ".join(f"{name}: {status}" for name, status in dict(statuses).items()) + "."


def bench_statuses(results: Sequence[dict]) -> list[tuple[str, str]]:
    return [(r["method"], MethodInfo.from_dict(r["info"]).status) for r in results]


def load_line(results: Sequence[dict]) -> str:
    """The machine's load over every measurement, and each busy one named."""
    from ..machine_load import combine

    readings = {label_of(r): LoadReading.from_dict(r.get("load")) for r in results}
    busy = [name for name, reading in readings.items() if is_busy(reading)]
    text = describe(combine(readings.values()))
    if busy:
        text += ". Busy during: " + ", ".join(busy)
    return text[0].upper() + text[1:] + "."


def implementation_line(results: Sequence[dict]) -> str:
    used = sorted({r["info"].get("implementation") for r in results} - {"", None})
    return "Implementation: " + "; ".join(f"{name} = {IMPLEMENTATION_NOTES[name]}" for name in used) + (
        " (rows marked [official arithmetic] use the official one)." if len(used) > 1 else ".")


def control_line(results: Sequence[dict]) -> str:
    """How the untrained networks' control flow was steered on the benchmark images."""
    steered = sorted({label_of(r) for r in results for c in r["clicks"] if c.get("steered")})
    if not steered:
        return "Control flow: every method followed its own predictions."
    targets = ", ".join(f"{steering.target_iou(k):.3f}" for k in range(1, 6))
    return (f"Control flow: untrained networks ({', '.join(steered)}) were steered by surrogate masks "
            f"('{steering.GT_DEGRADED}': the ground truth degraded to IoU {targets}, ... after clicks 1-5), so "
            "their zoom-ins, crops and fed-back masks are a trained model's while their networks run in full; "
            "the other methods followed their own predictions.")


def protocol_lines(results: Sequence[dict]) -> list[str]:
    protocols = {r["protocol_hash"]: Protocol.from_dict(r["protocol"]) for r in results}
    return [p.summary() + "." for p in protocols.values()]


def images_text(result: dict) -> str:
    parts = []
    for c in result["clicks"]:
        size = f"resized to {c['frame'][0]}x{c['frame'][1]}" if c.get("frame") else "at native size"
        rules = f", {c['rules']} input rules" if c.get("rules") and c["rules"] != c["dataset"] else ""
        parts.append(f"{c['dataset']} x{c['samples']} {size}{rules}")
    return "; ".join(parts) or DASH


def click_latency_rows(results: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    headers = ["Method", "Protocol", "Images", "Control flow", "First click, ms median [p10, p90]",
               "Later clicks, ms median [p10, p90]", "Later / first"]
    body = []
    for res in results:
        first, later = (row["images"] for row in phase_rows(res))
        steered = any(c.get("steered") for c in res["clicks"])
        ratio = later["median_ms"] / first["median_ms"] if first["n"] and later["n"] else float("nan")
        body.append([label_of(res), res["protocol"]["name"], images_text(res),
                     "surrogate masks" if steered else "own predictions", latency(first), latency(later),
                     number(ratio, 3)])
    return headers, body


def network_rows(results: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    headers = ["Method", "Protocol", "Phase", "What runs", "Input (HxW, batch)", "Params (M)", "GMACs", "GFLOPs",
               "ms median [p10, p90]", "GFLOP/s", "% of matmul peak"]
    body = []
    for res in results:
        for row in phase_rows(res):
            if row["input"] is None:
                continue
            body.append([label_of(res), row["protocol"], row["phase"], row["parts"],
                         f"{row['input'][0]}x{row['input'][1]}, {row['batch']}", number(row["params"] / 1e6, 3),
                         number(row["gmacs"]), number(2 * row["gmacs"]), latency(row["network"]),
                         number(row["gflops_per_s"], 1), number(100 * row["peak_share"], 1)])
    return headers, body


def later_click(results: Sequence[dict]) -> str:
    clicks = {ph.get("click") for r in results for ph in r["phases"] if ph["phase"] == "later"}
    return "/".join(str(c) for c in sorted(clicks - {None})) or DASH


def footer(results: Sequence[dict]) -> list[str]:
    if not results:
        return []
    spec = results[0]["spec"]
    uncounted = sorted({op for res in results for row in phase_rows(res) for op in row["not_counted"]})
    return [
        WHOLE_CLICK.format(images=images_text(results[0]), clicks=spec["clicks"]),
        NETWORK_BOUNDARY.format(size=f"{spec['height']}x{spec['width']}", later=later_click(results))
        + f" {spec['warmup']} warm-up calls, {spec['repeats']} timed calls per round, {results[0]['rounds']} "
          "round(s) interleaved over all jobs, one fresh process per job.",
        implementation_line(results),
        control_line(results),
        *protocol_lines(results),
        COUNTING,
        "Not counted (no multiply-adds, or not modelled): " + (", ".join(uncounted) or "nothing") + ".",
        "GFLOP/s: fvcore FLOPs (2 x GMACs) over the phase's median time; % of peak: against the higher of the "
        "two fp32 matrix-product rates measured in the same process (see Machine).",
        machine_line(results),
        load_line(results),
        weights_line(bench_statuses(results)),
    ]


def implementation_rows(results: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    """Engineered against official arithmetic, per method and protocol: the same click's medians and
    their ratio (below 1: the engineered implementation is faster)."""
    headers = ["Method", "Protocol", "Measure", "Engineered ms", "Official ms", "Engineered / official"]
    by_key = {(r["method"], r["protocol_hash"], r["info"].get("implementation")): r for r in results}
    body = []
    for (method, protocol, impl), eng in by_key.items():
        off = by_key.get((method, protocol, "official"))
        if impl != "engineered" or off is None:
            continue
        for mine, theirs in zip(phase_rows(eng), phase_rows(off)):
            for measure, key in (("whole click", "images"), ("network alone", "network")):
                a, b = mine[key]["median_ms"], theirs[key]["median_ms"]
                body.append([MethodInfo.from_dict(eng["info"]).label, eng["protocol"]["name"],
                             f"{mine['phase']} click, {measure}", number(a, 1), number(b, 1), number(a / b, 3)])
    return headers, body


def implementations_markdown(results: Sequence[dict]) -> str:
    """Is the engineered implementation at least as fast as the official arithmetic, click by click?"""
    headers, body = implementation_rows(results)
    notes = [implementation_line(results), control_line(results), machine_line(results), load_line(results)]
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True) + "\n\n"
            + "\n".join("> " + n for n in notes) + "\n")


PEAK_SHARE_TARGET = 0.40


def checks_markdown(results: Sequence[dict]) -> str:
    """The efficiency targets, checked on these results: the engineered implementation at least as fast
    as the official arithmetic at every click, and every network phase at 40 % of the matmul peak."""
    headers, body = implementation_rows(results)
    slower = [row for row in body if row[-1] != DASH and float(row[-1]) > 1.0]
    phases = [(label_of(r), r["protocol"]["name"], row) for r in results for row in phase_rows(r)
              if row["input"] is not None and not math.isnan(row["peak_share"])]
    low = [(name, protocol, row) for name, protocol, row in phases if row["peak_share"] < PEAK_SHARE_TARGET]
    lines = [f"- Engineered at least as fast as official arithmetic: {len(body) - len(slower)} of {len(body)} "
             "comparisons (method, protocol, click phase, whole click or network alone)."]
    lines += [f"  - slower: {row[0]} [{row[1]}] {row[2]}: {row[3]} ms vs {row[4]} ms (x{row[5]})" for row in slower]
    lines.append(f"- Network phases at {100 * PEAK_SHARE_TARGET:g} % of the fp32 matrix-product peak or more: "
                 f"{len(phases) - len(low)} of {len(phases)}.")
    lines += [f"  - below: {name} [{protocol}] {row['phase']} ({row['parts']}): "
              f"{number(row['gflops_per_s'], 1)} GFLOP/s, {number(100 * row['peak_share'], 1)} %"
              for name, protocol, row in low]
    notes = [machine_line(results), load_line(results)]
    return "\n".join(lines) + "\n\n" + "\n".join("> " + n for n in notes) + "\n"


def efficiency_markdown(results: Sequence[dict]) -> str:
    """Both tables and their notes, as ``iseg-bench bench`` prints them."""
    parts = []
    for title, (headers, body) in (("Click latency (the whole predict call, on images)", click_latency_rows(results)),
                                   ("Network alone, per click phase", network_rows(results))):
        if body:
            parts.append(f"**{title}**\n\n" + tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True))
    parts.append("\n".join("> " + line for line in footer(results)))
    return "\n\n".join(parts)
