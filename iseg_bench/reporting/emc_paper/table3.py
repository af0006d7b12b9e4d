"""The paper's Table 3 (NoC@85/90 on five benchmarks), every row, ours from ``run`` records."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from iseg_bench.reporting.efficiency_tables import weights_line
from iseg_bench.reporting.style import DASH, number
from iseg_bench.reporting.tables import latex_table
from iseg_bench.summary import ResultRow

from . import mapping, published

TABLE3_DATASETS = tuple(dict.fromkeys(c.split("@")[0] for c in published.TABLE3_COLUMNS))


def unlisted_notes() -> list[str]:
    """One sentence per benchmark the table cannot list (``published.TABLE3_UNLISTED``), with the reason."""
    return [f"{name} is not listed: {reason} (it records {', '.join(TABLE3_DATASETS)})."
            for name, reason in published.TABLE3_UNLISTED.items() if name not in TABLE3_DATASETS]


def paper_table3_rows(results_rows: Sequence[ResultRow]) -> tuple[list[str], list[list[str]]]:
    headers = ["Paper row", "Train data", "Ours"] + [f"{c} (ours / paper)" for c in published.TABLE3_COLUMNS]
    by_method: dict[str, dict[str, ResultRow]] = {}
    for r in results_rows:
        by_method.setdefault(r.method, {})[r.dataset] = r
    body = []

    def ours_cells(results: dict[str, ResultRow]) -> list[str]:
        """Ours in the paper's column order."""
        cells = []
        for column in published.TABLE3_COLUMNS:
            dataset, threshold = column.split("@")
            r = results.get(dataset)
            cells.append(number(r.noc.get(threshold)) if r else DASH)
        return cells

    for paper in published.TABLE3:
        values = [number(v) for v in paper.values]
        methods = [v for v, _ in mapping.measured(3, paper.row, paper.train)]
        if not methods:
            body.append([paper.row, paper.train, paper.note or published.NOT_IMPLEMENTED]
                        + [f"– / {v}" for v in values])
        for method in methods:
            results = by_method.get(method, {})
            name = next(iter(results.values())).label if results else f"{method}: not run"
            body.append([paper.row, paper.train, name] + [f"{o} / {v}" for o, v in zip(ours_cells(results), values)])
    used = mapping.declared(3)
    for method, results in by_method.items():
        if method not in used:
            body.append([mapping.NOT_IN_PAPER, DASH, next(iter(results.values())).label]
                        + [f"{o} / –" for o in ours_cells(results)])
    return headers, body


def _table3_notes(rows: Sequence[ResultRow], protocol) -> list[str]:
    run = {r.dataset for r in rows}
    listed = [d for d in TABLE3_DATASETS if d in run]
    missing = [d for d in TABLE3_DATASETS if d not in run]
    elsewhere = sorted(run - set(TABLE3_DATASETS))
    return (["Every row of the paper's Table 3 (NoC, clicks; lower is better). Ours: NoC@85/90 measured here on "
             + (", ".join(listed) or "none of its datasets")
             + (f"; not run here: {', '.join(missing)}" if missing else "") + "."]
            + ([f"Also run here, on datasets without a column in this table (their NoC is in the run's own "
                f"report): {', '.join(elsewhere)}."] if elsewhere else [])
            + unlisted_notes()
            + [protocol.summary() + ".", weights_line([(r.label, r.status) for r in rows])])


def paper_table3_markdown(rows: Sequence[ResultRow], protocol) -> str:
    headers, body = paper_table3_rows(rows)
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True) + "\n\n"
            + "\n".join("> " + n for n in _table3_notes(rows, protocol)) + "\n")


def paper_table3_latex(rows: Sequence[ResultRow], protocol) -> str:
    headers, body = paper_table3_rows(rows)
    return latex_table(headers, body, _table3_notes(rows, protocol))
