"""Comparison tables in Markdown, LaTeX and CSV, from summary rows.

``table3`` is laid out like the EMC-Click paper's Table 3 (methods x datasets, NoC@85 / NoC@90,
plus NoF); ``detail`` has one row per method and dataset with every metric and its unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import pandas as pd
from tabulate import tabulate

from ..machine_load import LoadReading, is_busy
from ..metric_catalog import CATALOG, CLICK, SCALAR, THRESHOLD, Metric, of_shape
from ..protocol import Protocol
from ..summary import COUNTING_RULES, ResultRow, thr_key
from .style import DASH, number


def noc_table_thresholds(protocol: Protocol) -> list[float]:
    """The two thresholds of the paper's Table 3 (0.85, 0.90) when measured, else the lowest two."""
    wanted = [t for t in (0.85, 0.90) if t in protocol.iou_thresholds]
    return wanted if len(wanted) == 2 else list(protocol.iou_thresholds[:2])


def _ordered(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def noc_table_grid(rows: Sequence[ResultRow], protocol: Protocol) -> tuple[list[str], list[str], list[list[str]]]:
    """(dataset names, sub-column names, body rows) of the Table 3 layout."""
    thresholds = noc_table_thresholds(protocol)
    datasets = _ordered([r.dataset for r in rows])
    labels = _ordered([r.label for r in rows])
    sub = [f"NoC@{thr_key(t)}" for t in thresholds] + [f"NoF@{thr_key(thresholds[-1])}"]
    by_key = {(r.label, r.dataset): r for r in rows}
    body = []
    for label in labels:
        line = [label]
        for ds in datasets:
            r = by_key.get((label, ds))
            if r is None:
                line += [DASH] * len(sub)
                continue
            line += [number(r.noc[thr_key(t)]) for t in thresholds] + [number(r.nof[thr_key(thresholds[-1])])]
        body.append(line)
    return datasets, sub, body


def noc_table_markdown(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    datasets, sub, body = noc_table_grid(rows, protocol)
    headers = ["Method"] + [f"{ds} {s}" for ds in datasets for s in sub]
    table = tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True,
                     colalign=("left",) + ("right",) * (len(headers) - 1))
    return table + "\n\n" + _footer(rows, protocol, markdown=True)


def noc_table_latex(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    datasets, sub, body = noc_table_grid(rows, protocol)
    n = len(sub)
    lines = [r"\begin{tabular}{l" + ("|" + "c" * n) * len(datasets) + "}", r"\toprule",
             " & ".join(["Method"] + [rf"\multicolumn{{{n}}}{{c}}{{{_tex(ds)}}}" for ds in datasets]) + r" \\",
             " & ".join([""] + [_tex(s) for _ in datasets for s in sub]) + r" \\", r"\midrule"]
    lines += [" & ".join(_tex(c) for c in line) + r" \\" for line in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n% " + _footer(rows, protocol, markdown=False).replace("\n", "\n% ") + "\n"


def _tex(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        text = text.replace(a, b)
    return _en_dash(text)


def _en_dash(text: object) -> str:
    """The en dash of 'no value' cells, as LaTeX writes it."""
    return str(text).replace("–", "--")


def latex_table(headers: Sequence[str], body: Sequence[Sequence[str]], notes: Sequence[str]) -> str:
    """A booktabs table, the notes under it as LaTeX comments (tabulate escapes the cells itself)."""
    return (tabulate([[_en_dash(c) for c in line] for line in body], headers=[_en_dash(h) for h in headers],
                     tablefmt="latex_booktabs", disable_numparse=True)
            + "\n% " + "\n% ".join(notes) + "\n")


def _shown(metric: Metric, value) -> str:
    """A value as the tables show it: scaled to the shown unit, ``metric.digits`` decimals."""
    return number(value if metric.scale == 1 else metric.scale * value, metric.digits)


def _table_cells(metric: Metric, row: ResultRow, thresholds: Sequence[float], ks: Sequence[str]) -> list[str]:
    value = row.value(metric)
    if metric.shape == THRESHOLD:
        return [_shown(metric, value[thr_key(t)]) for t in thresholds]
    if metric.shape == CLICK:
        return [_shown(metric, value[int(k) - 1] if len(value) >= int(k) else None) for k in ks]
    return [_shown(metric, value)]


def detail_records(rows: Sequence[ResultRow], protocol: Protocol) -> tuple[list[str], list[list[str]]]:
    """Every declared metric shown in tables (``metric_catalog.CATALOG``): per threshold, at clicks 1,
    5, 10 and the last, or once."""
    thresholds = protocol.iou_thresholds
    keys = [thr_key(t) for t in thresholds]
    ks = _ordered([str(k) for k in (1, 5, 10, protocol.max_clicks) if k <= protocol.max_clicks])
    shown = [m for m in CATALOG if m.in_table]
    headers = ["Method", "Dataset", "Samples"]
    for m in shown:
        headers += m.headers(keys if m.shape == THRESHOLD else ks)
    headers.append("Errors (data/method)")
    body = []
    for r in rows:
        cells = [r.label, r.dataset, str(r.samples)]
        for m in shown:
            cells += _table_cells(m, r, thresholds, ks)
        body.append(cells + [f"{r.data_errors}/{r.method_errors}"])
    return headers, body


def detail_markdown(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    headers, body = detail_records(rows, protocol)
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True,
                     colalign=("left", "left") + ("right",) * (len(headers) - 2))
            + "\n\n" + _footer(rows, protocol, markdown=True))


def detail_latex(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    headers, body = detail_records(rows, protocol)
    return latex_table(headers, body, _footer(rows, protocol, markdown=False).split("\n"))


def results_frame(rows: Sequence[ResultRow], protocol: Protocol) -> pd.DataFrame:
    """Every declared metric as one flat, unit-named column per row (the CSV export)."""
    records = []
    for r in rows:
        rec: dict[str, object] = {
               "method": r.method, "label": r.label, "weights_status": r.status, "weights": r.weights,
               "dataset": r.dataset, "dataset_fingerprint": r.fingerprint, "protocol": protocol.name,
               "protocol_hash": r.protocol, "samples": r.samples, "data_errors": r.data_errors,
               "method_errors": r.method_errors, "clicks_run": r.clicks,
               "early_stopped_samples": r.carried_forward}
        for t in protocol.iou_thresholds:
            k = thr_key(t)
            rec.update((m.column.format(t=k), r.value(m)[k]) for m in of_shape(THRESHOLD))
        for m in of_shape(CLICK):
            rec.update((m.column.format(k=click), v) for click, v in enumerate(r.value(m), 1))
        rec.update((m.column, r.value(m)) for m in of_shape(SCALAR))
        records.append(rec)
    return pd.DataFrame.from_records(records)


REFERENCE_WIDTHS = (13, 11, 9, 9, 9, 9, 9, 7, 9)


def reference_text(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    """The fixed-width table of the reference ``evaluate_model.py`` logs (as written by ``save_results``
    in RITM's scripts/evaluate_model.py and ``get_results_table`` in isegm/inference/utils.py).

    Same header, widths and number formats, so tools that parse those logs read ours; the first
    column holds the method. SPC and Time are model time (the reference's include data loading).
    """
    n = protocol.max_clicks
    labels = ("BRS Type", "Dataset", "NoC@80%", "NoC@85%", "NoC@90%", f">={n}@85%", f">={n}@90%", "SPC,s", "Time")
    header = "|" + "|".join(f"{t:^{w}}" for t, w in zip(labels, REFERENCE_WIDTHS)) + "|"
    rule = "-" * len(header)
    out = [f"# {protocol.summary()}", "# SPC,s and Time: model time only (set_image + predict)."]
    for label in _ordered([r.label for r in rows]):
        out += [f"Eval results for model: {label}", rule, header, rule]
        for r in (r for r in rows if r.label == label):
            noc = [f"{r.noc[k]:^9.2f}" if k in r.noc else f"{'?':^9}" for k in ("80", "85", "90")]
            nof = [f"{r.nof[k]:^9}" if k in r.nof else f"{'?':^9}" for k in ("85", "90")]
            timed = r.clicks and not math.isnan(r.spc_s)
            total = str(timedelta(seconds=int(r.spc_s * r.clicks))) if timed else "?"
            spc = f"{r.spc_s:^7.3f}" if timed else f"{'?':^7}"
            out.append(f"|{r.label:^13}|{r.dataset:^11}|" + "|".join(noc + nof) + f"|{spc}|{total:^9}|")
        out.append(rule)
    return "\n".join(out) + "\n"


def _footer(rows: Sequence[ResultRow], protocol: Protocol, markdown: bool) -> str:
    return "\n".join(f"{'> ' if markdown else ''}{line}" for line in footer_lines(rows, protocol))


def footer_lines(rows: Sequence[ResultRow], protocol: Protocol) -> list[str]:
    """The notes every table carries: protocol, counting rules, weights status, failures, timing,
    devices, machine load and dataset fingerprints."""
    lines = [protocol.summary() + ".", COUNTING_RULES]
    statuses = _ordered([f"{r.label}: {r.status}" for r in rows])
    lines.append("Weights: " + "; ".join(statuses) + ".")
    if any(r.status == "UNTRAINED" for r in rows):
        lines.append("UNTRAINED methods run with random weights: their accuracy is meaningless.")
    errors = [f"{r.label} on {r.dataset}: {r.data_errors} data / {r.method_errors} method errors"
              for r in rows if r.data_errors or r.method_errors]
    if errors:
        lines.append("Failed samples: " + "; ".join(errors) + ".")
    untimed = _ordered([f"{r.label} on {r.dataset}" for r in rows if not r.timed])
    if untimed:
        lines.append("Times not measured for " + "; ".join(untimed) + ": those samples ran in a parallel executor "
                     "(workers share the machine) or were imported from a log without times; use a serial run or "
                     "`iseg-bench bench` for latency.")
    if any(r.device != "cpu" for r in rows):  # CPU-only tables keep their wording
        lines.append("Computed on: " + "; ".join(_ordered([f"{r.label}: {r.device}" for r in rows]))
                     + " (times on different devices are not comparable).")
    busy = [f"{r.label} on {r.dataset}" for r in rows if r.timed and is_busy(LoadReading.from_dict(r.load))]
    if busy:
        lines.append("WARNING: times of " + "; ".join(busy) + " were measured while other processes loaded the "
                     "machine (see summary.json 'load'): they are unreliable; re-measure on a quiet machine.")
    fps = _ordered([f"{r.dataset} {r.fingerprint}" for r in rows])
    lines.append("Dataset fingerprints: " + ", ".join(fps) + ".")
    return lines
