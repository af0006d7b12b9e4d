"""The paper's headline claim as ratios: its method's later click over the reference methods' later click."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from iseg_bench.bench_results import label_of
from iseg_bench.reporting.efficiency_tables import (
    bench_statuses,
    control_line,
    implementation_line,
    load_line,
    machine_line,
    weights_line,
)
from iseg_bench.reporting.style import number

from . import mapping, published
from .common import phase, setting


def ratio_rows(results: Sequence[dict]) -> list[dict]:
    """Each variant of the paper's method: its later click over the later click of the variants measured
    against the paper's reference rows (RITM-hrnet18s, FocalClick-SegB0), whole click and network
    alone, per implementation and protocol setting (same run)."""
    out = []
    keyed = {(r["method"], r["info"].get("implementation", ""), setting(r)): r for r in results}
    references = [v for row in published.RATIO_REFERENCES for v, _ in mapping.measured(1, row)]
    for (_method, impl, where), res in keyed.items():
        if res["info"]["family"] != published.SUBJECT_FAMILY:
            continue
        mine = phase(res, "later")
        for ref_name in references:
            ref = keyed.get((ref_name, impl, where))
            if ref is None:
                continue
            theirs = phase(ref, "later")
            out.append({"setting": where, "implementation": impl, "method": label_of(res), "reference": label_of(ref),
                         "whole_ms": mine["images"]["median_ms"], "reference_whole_ms": theirs["images"]["median_ms"],
                         "whole_ratio": mine["images"]["median_ms"] / theirs["images"]["median_ms"],
                         "network_ms": mine["network"]["median_ms"],
                         "reference_network_ms": theirs["network"]["median_ms"],
                        "network_ratio": mine["network"]["median_ms"] / theirs["network"]["median_ms"]})
    return out


def ratios_markdown(results: Sequence[dict]) -> str:
    headers = ["Setting", "Implementation", "EMC-Click later click", "Reference later click", "Whole click ms",
               "Reference whole click ms", "Whole-click ratio", "Network ms", "Reference network ms",
               "Network ratio"]
    body = [[r["setting"], r["implementation"], r["method"], r["reference"], number(r["whole_ms"], 1),
             number(r["reference_whole_ms"], 1), number(r["whole_ratio"], 3), number(r["network_ms"], 1),
             number(r["reference_network_ms"], 1), number(r["network_ratio"], 3)] for r in ratio_rows(results)]
    notes = ["Medians from one interleaved benchmark run (one fresh process per job, rounds alternating). 'published': "
             "each method under its own family's preset (flip TTA for RITM and EMC-Click, none for FocalClick); "
             "'neutral': one setting for all (no flip, each method's own input size).",
             implementation_line(results), control_line(results), machine_line(results), load_line(results),
             weights_line(bench_statuses(results))]
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True) + "\n\n"
            + "\n".join("> " + n for n in notes) + "\n")
