"""The paper's Table 2 (SBD: NoC@90/95 and the time to reach them), every row, ours from ``run`` records."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from iseg_bench.reporting.efficiency_tables import weights_line
from iseg_bench.reporting.style import DASH, number
from iseg_bench.reporting.tables import latex_table
from iseg_bench.summary import ResultRow

from . import mapping, published

TABLE2_HEADERS = ["Paper row", "Ours", "Samples", "NoC@90", "Time@90 (s)", "NoC@95", "Time@95 (s)",
                  "Paper NoC@90 / Time@90 (min) / NoC@95 / Time@95 (min), SBD on a V100"]


def paper_table2_rows(results: Sequence[ResultRow]) -> list[list[str]]:
    body = []
    by_method: dict[str, list[ResultRow]] = {}
    for r in results:
        by_method.setdefault(r.method, []).append(r)
    for name, values in published.TABLE2.items():
        paper = " / ".join(f"{v:g}" for v in values)
        methods = [v for v, _ in mapping.measured(2, name)]
        if not methods:
            body.append([name, published.NOT_IMPLEMENTED, DASH, DASH, DASH, DASH, DASH, paper])
        for method in methods:
            runs = by_method.pop(method, [])
            if not runs:
                body.append([name, f"{method}: not run", DASH, DASH, DASH, DASH, DASH, paper])
            for r in runs:
                body.append([name, r.label, str(r.samples), number(r.noc.get("90")), number(r.time_s.get("90"), 1),
                             number(r.noc.get("95")), number(r.time_s.get("95"), 1), paper])
    for r in (r for extra in by_method.values() for r in extra):
        body.append([mapping.NOT_IN_PAPER, r.label, str(r.samples), number(r.noc.get("90")),
                     number(r.time_s.get("90"), 1), number(r.noc.get("95")), number(r.time_s.get("95"), 1), DASH])
    return body


def paper_table2_notes(rows: Sequence[ResultRow], protocol, dataset: str) -> list[str]:
    steered = protocol.untrained_control != "own" and any(r.status == "UNTRAINED" for r in rows)
    return [f"Every row of the paper's Table 2. Ours: dataset {dataset}; Time@t: model time (set_image + predict) "
            "summed over all samples until each reaches t (all clicks if it never does), in seconds, measured during "
            "the accuracy run on this machine's CPU (for orientation; `iseg-bench bench` is the careful timing).",
            protocol.summary() + ".",
            ("Untrained networks were steered by surrogate masks: their NoC and Time@t follow the surrogate's IoU "
             "schedule (the same for every untrained method), so Time@t compares per-click cost under a trained "
             "model's control flow, not accuracy." if steered else
             "Untrained networks (if any) followed their own predictions: their NoC and Time@t are not a trained "
             "model's."),
            weights_line([(r.label, r.status) for r in rows])]


def paper_table2_markdown(rows: Sequence[ResultRow], protocol, dataset: str) -> str:
    return (tabulate(paper_table2_rows(rows), headers=TABLE2_HEADERS, tablefmt="pipe", disable_numparse=True)
            + "\n\n" + "\n".join("> " + n for n in paper_table2_notes(rows, protocol, dataset)) + "\n")


def paper_table2_latex(rows: Sequence[ResultRow], protocol, dataset: str) -> str:
    return latex_table(TABLE2_HEADERS, paper_table2_rows(rows), paper_table2_notes(rows, protocol, dataset))
