"""The paper's Table 1 (parameters, GMACs, CPU time per click), every row, ours from ``bench`` results."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tabulate import tabulate

from iseg_bench.bench_results import label_of
from iseg_bench.flops import COUNTING
from iseg_bench.reporting.efficiency_tables import (
    bench_statuses,
    control_line,
    implementation_line,
    load_line,
    machine_line,
    protocol_lines,
    weights_line,
)
from iseg_bench.reporting.style import DASH, number
from iseg_bench.reporting.tables import latex_table

from . import mapping, published
from .common import index_results, phase, setting

FLAG_LIMIT = 0.05  # differences from the paper's figures above this are flagged with their reason

TABLE1_HEADERS = ["Paper row", "Ours", "Input (ours / paper)", "Params M (ours / paper)",
                  "Params with BN statistics M", "GMACs (ours / paper, 'FLOPs/G')", "Whole click ms (ours)",
                  "Network ms (ours)", "ms (paper)", "Whole click / RITM-hrnet18s (ours)",
                  "Network / RITM-hrnet18s (ours)", "ms / RITM-hrnet18s (paper)", "Differences over 5 %"]


def _difference(column: str, ours: float, paper: float, row: str, result: dict, shape: str) -> str | None:
    """A flag for one compared figure, with its reason, or None within 5 %."""
    if not paper or math.isnan(ours) or abs(ours / paper - 1) <= FLAG_LIMIT:
        return None
    reason = published.table1_reason(row, column, result["info"].get("implementation", ""), result["method"])
    if reason is None:
        reason = published.UNEXPLAINED_RATIO if column == "ratio" else "reason not established"
    return f"{column} {ours:.3g} vs {paper:.3g} ({100 * (ours / paper - 1):+.1f} %): {reason.format(input=shape)}"


def paper_table1_rows(results: Sequence[dict]) -> list[list[str]]:
    """Every row of the paper's Table 1; ours (each implementation measured) under its row."""
    index = index_results(results, "neutral")
    ref_paper = next(r.ms for r in published.TABLE1 if r.row == published.TABLE1_REFERENCE)
    reference = _reference_row(index)
    body = []
    for paper in published.TABLE1:
        paper_cells = [f"{paper.input_size}", f"{paper.params_m:g}", f"{paper.gmacs:g}", f"{paper.ms:g}",
                       number(paper.ms / ref_paper, 3)]
        ours = mapping.measured(1, paper.row)
        matches = [(index[(v, impl)], p) for v, p in ours for (m, impl) in index if m == v]
        if not ours or not matches:
            why = published.NOT_IMPLEMENTED if not ours else "not measured in these results"
            body.append([paper.row, why, f"– / {paper_cells[0]}", f"– / {paper_cells[1]}", DASH,
                         f"– / {paper_cells[2]}", DASH, DASH, paper_cells[3], DASH, DASH, paper_cells[4], DASH])
            continue
        for res, click in matches:
            body.append(_ours(paper.row, res, click, paper_cells, reference(res), paper.params_m, paper.gmacs,
                              paper.ms / ref_paper))
    mapped = mapping.declared(1)
    for (method, _impl), res in index.items():  # measured, but no row of the paper names it
        if method not in mapped:
            body += [_ours(mapping.NOT_IN_PAPER, res, click, [DASH] * 5, reference(res))
                     for click in ("first", "later")]
    return body


def _reference_row(index: dict[tuple[str, str], dict]):
    """A function giving, for a result, the later click of the variant measured against the paper's
    reference row in the same implementation (None when not measured)."""
    names = [v for v, _ in mapping.measured(1, published.TABLE1_REFERENCE)]

    def reference(res: dict) -> dict | None:
        ref = next((index[(n, res["info"].get("implementation", ""))] for n in names
                    if (n, res["info"].get("implementation", "")) in index), None)
        return phase(ref, "later") if ref else None
    return reference


def _ours(paper_row: str, res: dict, click: str, paper_cells: list[str], ref_row: dict | None,
          params_m: float = 0.0, gmacs: float = 0.0, ratio: float = 0.0) -> list[str]:
    """One row of ours under a paper row (the paper's figures, when given, decide the flags)."""
    row = phase(res, click)
    whole, network = row["images"]["median_ms"], row["network"]["median_ms"]
    whole_ratio = whole / ref_row["images"]["median_ms"] if ref_row else float("nan")
    net_ratio = network / ref_row["network"]["median_ms"] if ref_row else float("nan")
    params = row["params"] / 1e6
    shape = (f"{row['input'][0]}x{row['input'][1]}" + (f" x{row['batch']}" if row["batch"] != 1 else "")
             if row["input"] else row["parts"])
    flags = [f for f in (_difference("params", params, params_m, paper_row, res, shape),
                         _difference("gmacs", row["gmacs"], gmacs, paper_row, res, shape),
                         _difference("ratio", net_ratio, ratio, paper_row, res, shape)) if f]
    return [paper_row, f"{label_of(res)}, {click} click", f"{shape} / {paper_cells[0]}",
            f"{params:.3f} / {paper_cells[1]}", number((row["params"] + row["bn_statistics"]) / 1e6, 3),
            f"{number(row['gmacs'])} / {paper_cells[2]}", number(whole, 1), number(network, 1), paper_cells[3],
            number(whole_ratio, 3), number(net_ratio, 3), paper_cells[4], "; ".join(flags) or "none"]


def _table1_notes(results: Sequence[dict]) -> list[str]:
    index = index_results(results, "neutral")
    protocols = protocol_lines(list(index.values()))
    return [
        "Every row of the paper's Table 1. The paper's 'FLOPs/G' are multiply-accumulates (fvcore's GMACs at the "
        "paper's input sizes); GFLOPs are twice these. Its speed is per click on a 4-core 2 GHz Intel Core i5 "
        "laptop: compare times relative to RITM-hrnet18s' later click (the paper's 400x400 row), not milliseconds. "
        "Our ratio is flagged against the paper's on the network-alone time (the paper times networks at fixed "
        "input sizes); the whole click is the headline latency of iseg-bench.",
        "Ours under " + (" / ".join(sorted({setting(r) for r in index.values()}))) + " settings: "
        + " ".join(protocols),
        implementation_line(list(index.values())),
        control_line(list(index.values())),
        COUNTING,
        machine_line(results),
        load_line(results),
        weights_line(bench_statuses(results)),
    ]


def paper_table1_markdown(results: Sequence[dict]) -> str:
    table = tabulate(paper_table1_rows(results), headers=TABLE1_HEADERS, tablefmt="pipe", disable_numparse=True)
    return table + "\n\n" + "\n".join("> " + line for line in _table1_notes(results)) + "\n"


def paper_table1_latex(results: Sequence[dict]) -> str:
    return latex_table(TABLE1_HEADERS, paper_table1_rows(results), _table1_notes(results))
