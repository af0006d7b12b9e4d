"""The efficiency table and the analogues of the EMC-Click paper's Tables 1-3, from stored results.

Table 1 (parameters, FLOPs, CPU latency per click phase) comes from ``iseg-bench bench`` results;
Table 2 (NoC@90/95 with the model time to reach them) and Table 3 (NoC@85/90 on the five
benchmarks) from ``iseg-bench run`` records. Our numbers are printed beside the paper's, with the
protocol, the machine and the weights status of every method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from . import published
from .bench import click_curve, label_of, phase_rows
from .flops import COUNTING
from .predictor import MethodInfo
from .protocol import Protocol
from .summary import ResultRow, thr_key
from .tables import DASH, latex_table

TABLE3_DATASETS = ("GrabCut", "Berkeley", "SBD", "DAVIS", "PascalVOC")


def _num(value: float | None, digits: int = 2) -> str:
    return DASH if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _latency(stats: dict) -> str:
    if not stats["n"]:
        return DASH
    return f"{stats['median_ms']:.1f} [{stats['p10_ms']:.1f}, {stats['p90_ms']:.1f}]"


def machine_line(results: Sequence[dict]) -> str:
    if not results:
        return ""
    env = results[0]["environment"]
    return (f"Machine: {env['cpu']}, {env['physical_cores']} physical / {env['logical_cores']} logical cores, "
            f"{env['memory_gb']} GB; torch {env['packages'].get('torch', '?')} with {env['torch_threads']} "
            f"threads (interop {env['torch_interop_threads']}), OpenCV threads {env['opencv_threads']}.")


def weights_line(statuses: Sequence[tuple[str, str]]) -> str:
    """``Weights: name: status; ...`` with statuses as MethodInfo.status words."""
    return "Weights: " + "; ".join(f"{name}: {status}" for name, status in dict(statuses).items()) + "."


def _bench_status(results: Sequence[dict]) -> list[tuple[str, str]]:
    return [(r["method"], MethodInfo.from_dict(r["info"]).status) for r in results]


# --- efficiency table (what `iseg-bench bench` prints) -------------------------------------------

def efficiency_markdown(results: Sequence[dict]) -> str:
    headers = ["Method", "Phase", "What runs", "Network input (HxW, batch)", "Params (M)", "GMACs", "GFLOPs",
               "Network alone, ms median [p10, p90]", "On images, ms median [p10, p90]"]
    body = []
    for res in results:
        for row in phase_rows(res):
            shape = f"{row['input'][0]}x{row['input'][1]}, {row['batch']}" if row["input"] else DASH
            body.append([row["label"], row["phase"], row["parts"], shape,
                         _num(row["params"] / 1e6, 3) if row["params"] else DASH, _num(row["gmacs"]),
                         _num(2 * row["gmacs"]), _latency(row["network"]), _latency(row["images"])])
    return "\n\n".join([tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True),
                        "\n".join("> " + line for line in _efficiency_footer(results))])


def _efficiency_footer(results: Sequence[dict]) -> list[str]:
    if not results:
        return []
    spec = results[0]["spec"]
    protocol = Protocol.from_dict(results[0]["protocol"])
    images = "; ".join(f"{c['dataset']} ({c['samples']} images, {spec['clicks']} robot clicks each, fingerprint "
                       f"{c['fingerprint']})" for c in results[0]["clicks"]) or "none"
    uncounted = sorted({op for res in results for row in phase_rows(res) for op in row["not_counted"]})
    return [
        f"Network alone: each phase on a {spec['height']}x{spec['width']} frame resized as the protocol says "
        f"(click 1 = first phase; later = every later click), {spec['warmup']} warm-up calls, "
        f"{spec['repeats']} timed calls per round, {results[0]['rounds']} round(s), one process per method.",
        f"On images: the predictor driven by the robot user on {images}; model time only (set_image + predict; "
        "click 1 includes set_image).",
        protocol.summary() + ".",
        COUNTING,
        "Not counted (no multiply-adds, or not modelled): " + (", ".join(uncounted) or "nothing") + ".",
        machine_line(results),
        weights_line(_bench_status(results)),
    ]


# --- Table 1 ------------------------------------------------------------------------------------

def table1_rows(results: Sequence[dict]) -> list[list[str]]:
    rows = [row for res in results for row in phase_rows(res) if row["input"] is not None]
    ref = next((r for r in rows if (r["method"], r["phase"]) == ("ritm-hrnet18s", "later")), None)
    ref_ms = ref["network"]["median_ms"] if ref else float("nan")
    ref_paper = published.TABLE1[("ritm-hrnet18s", "later")].ms

    def flagged(ours: float, paper: float | None, digits: int) -> str:
        text = _num(ours, digits)
        return text + (" *" if paper and abs(ours / paper - 1) > 0.05 else "")

    body = []
    for row in rows:
        paper = published.TABLE1.get((row["method"], row["phase"]))
        ms = row["network"]["median_ms"]
        body.append([
            row["label"], row["phase"], f"{row['input'][0]}x{row['input'][1]}",
            flagged(row["params"] / 1e6, paper.params_m if paper else None, 3), _num(paper.params_m) if paper else DASH,
            flagged(row["gmacs"], paper.gmacs if paper else None, 2), _num(paper.gmacs) if paper else DASH,
            _num(ms, 1), _num(paper.ms, 0) if paper else DASH,
            _num(ms / ref_ms, 3), _num(paper.ms / ref_paper, 3) if paper else DASH,
            paper.row if paper else DASH,
        ])
    return body


TABLE1_HEADERS = ["Method", "Click phase", "Input", "Params M (ours)", "Params M (paper)", "GMACs (ours)",
                  "GMACs (paper, 'FLOPs/G')", "CPU ms/click (ours, median)", "CPU ms/click (paper)",
                  "Time / RITM-hrnet18s (ours)", "Time / RITM-hrnet18s (paper)", "Paper row"]

TABLE1_NOTES = (
    "The paper's 'FLOPs/G' equal fvcore's multiply-accumulate counts (GMACs) at the paper's input sizes; "
    "GFLOPs would be twice these. '*' marks a difference over 5 % from the paper in params or GMACs. "
    "The paper's latency is a 4-core 2 GHz Intel Core i5 laptop, ours this machine: compare the ratios to "
    "RITM-hrnet18s' click (network alone at 400x400), not milliseconds. MaskCorrection 'Params 0.11 / 0.22 M' count BatchNorm running statistics; trainable "
    "parameters are 0.102 M (C64) and 0.220 M (C96 on HRNet-32; 0.208 M on HRNet-18, 0.245 M on SegB3, "
    "whose projection layer is wider). FirstClick rows are base network + correction network."
)


def table1_markdown(results: Sequence[dict]) -> str:
    table = tabulate(table1_rows(results), headers=TABLE1_HEADERS, tablefmt="pipe", disable_numparse=True)
    lines = [TABLE1_NOTES, COUNTING] + _efficiency_footer(results)[2:3] + [machine_line(results)]
    lines.append(weights_line(_bench_status(results)))
    return table + "\n\n" + "\n".join("> " + line for line in lines) + "\n"


def table1_latex(results: Sequence[dict]) -> str:
    return latex_table(TABLE1_HEADERS, table1_rows(results), [TABLE1_NOTES, machine_line(results)])


# --- Table 2 ------------------------------------------------------------------------------------

TABLE2_HEADERS = ["Method", "Samples", "NoC@90", "Time@90 (s)", "NoC@95", "Time@95 (s)",
                  "Paper NoC@90 / Time@90 (min) / NoC@95 / Time@95 (min), SBD on a V100"]


def table2_rows(rows: Sequence[ResultRow]) -> list[list[str]]:
    body = []
    for r in rows:
        paper = published.TABLE2.get(r.method)
        body.append([r.label, str(r.samples), _num(r.noc.get("90")), _num(r.time_s.get("90"), 1),
                     _num(r.noc.get("95")), _num(r.time_s.get("95"), 1),
                     " / ".join(str(v) for v in paper) if paper else DASH])
    return body


def table2_notes(rows: Sequence[ResultRow], protocol: Protocol, dataset: str) -> list[str]:
    return [f"Dataset {dataset}. Time@t: model time (set_image + predict) summed over all samples until each "
            "reaches t (all clicks if it never does), in seconds, measured during the accuracy run on this "
            "machine's CPU.", protocol.summary() + ".",
            weights_line([(r.method, r.status) for r in rows])]


def table2_markdown(rows: Sequence[ResultRow], protocol: Protocol, dataset: str) -> str:
    return (tabulate(table2_rows(rows), headers=TABLE2_HEADERS, tablefmt="pipe", disable_numparse=True)
            + "\n\n" + "\n".join("> " + n for n in table2_notes(rows, protocol, dataset)) + "\n")


def table2_latex(rows: Sequence[ResultRow], protocol: Protocol, dataset: str) -> str:
    return latex_table(TABLE2_HEADERS, table2_rows(rows), table2_notes(rows, protocol, dataset))


# --- Table 3 ------------------------------------------------------------------------------------

def table3_rows(rows: Sequence[ResultRow]) -> tuple[list[str], list[list[str]]]:
    headers = ["Method"]
    for ds in TABLE3_DATASETS:
        headers += [f"{ds} NoC@85", f"{ds} NoC@90"]
    headers.append("Paper (C+L): " + ", ".join(published.TABLE3_COLUMNS))
    by = {(r.label, r.dataset): r for r in rows}
    body = []
    for label in dict.fromkeys(r.label for r in rows):
        method = next(r.method for r in rows if r.label == label)
        line = [label]
        for ds in TABLE3_DATASETS:
            r = by.get((label, ds))
            line += [_num(r.noc.get("85")) if r else DASH, _num(r.noc.get("90")) if r else DASH]
        paper = published.TABLE3.get(method)
        line.append(" / ".join(f"{v:.2f}" for v in paper) if paper else DASH)
        body.append(line)
    return headers, body


def table3_markdown(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    headers, body = table3_rows(rows)
    notes = [protocol.summary() + ".", "A dash: no stored result for that dataset (run it with --datasets).",
             weights_line([(r.method, r.status) for r in rows])]
    return (tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True) + "\n\n"
            + "\n".join("> " + n for n in notes) + "\n")


def table3_latex(rows: Sequence[ResultRow], protocol: Protocol) -> str:
    headers, body = table3_rows(rows)
    return latex_table(headers, body, [protocol.summary()])


# --- plots --------------------------------------------------------------------------------------

def _styles(n: int):
    """Distinct (colour, marker, line style) triples for up to 20+ series."""
    import matplotlib.pyplot as plt

    colours = plt.get_cmap("tab20").colors
    markers = "osD^vP*Xh<>"
    return [(colours[i % 20], markers[i % len(markers)], "-" if i < 10 else "--") for i in range(n)]


def plot_latency_per_click(results: Sequence[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    from .plots import _caption

    fig, ax = plt.subplots(figsize=(11, 6))
    for res, (colour, marker, style) in zip(results, _styles(len(results))):
        curve = click_curve(res)
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, color=colour, marker=marker, linestyle=style, markersize=4,
                    label=label_of(res))
    ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("click index")
    ax.set_ylabel("model time per click (ms, median over images, log scale)")
    datasets = ", ".join(c["dataset"] for c in results[0]["clicks"]) if results else ""
    ax.set_title(f"CPU latency per click — {datasets} images, {results[0]['environment']['torch_threads']} threads"
                 if results else "CPU latency per click")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    if results:
        _caption(fig, Protocol.from_dict(results[0]["protocol"]), machine_line(results))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_accuracy_time(rows: Sequence[ResultRow], protocol: Protocol, dataset: str, path: Path,
                       threshold: float = 0.90) -> Path:
    import matplotlib.pyplot as plt

    from .plots import _caption

    key = thr_key(threshold)
    fig, ax = plt.subplots(figsize=(11, 6))
    for r, (colour, marker, _) in zip(rows, _styles(len(rows))):
        if r.samples and key in r.time_s and not math.isnan(r.time_s[key]):
            hollow = r.status == "UNTRAINED"
            ax.scatter(r.time_s[key] / r.samples, r.noc[key], s=55, marker=marker, label=r.label,
                       facecolors="none" if hollow else colour, edgecolors=colour, linewidths=1.5)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title="hollow: untrained", title_fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(f"model time to reach IoU {threshold:g} (s per sample, log scale)")
    ax.set_ylabel(f"NoC@{key} (clicks, lower is better)")
    ax.set_title(f"Accuracy against time — {dataset}")
    ax.grid(True, which="both", alpha=0.3)
    _caption(fig, protocol, "time: set_image + predict, measured during the accuracy run")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- writing everything ---------------------------------------------------------------------------

def _pick_dataset(rows: Sequence[ResultRow], wanted: str | None) -> str | None:
    names = list(dict.fromkeys(r.dataset for r in rows))
    if wanted:
        return wanted if wanted in names else None
    if "SBD" in names:
        return "SBD"
    return max(names, key=lambda n: max(r.samples for r in rows if r.dataset == n), default=None)


def render_paper_tables(results_dir: Path, out: Path, dataset: str | None = None) -> list[Path]:
    """Write Tables 1-3 (Markdown and LaTeX), the latency and trade-off plots, and an index."""
    from .bench import load_bench
    from .report import build_reports
    from .store import StoreError

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        (out / name).write_text(text)
        written.append(out / name)

    bench = load_bench(results_dir)
    index = ["# Paper tables, regenerated from stored results", "",
             f"Rendered by `iseg-bench paper-tables {results_dir} --out {out}`.", ""]
    if bench:
        write("table1.md", table1_markdown(bench))
        write("table1.tex", table1_latex(bench))
        write("efficiency.md", efficiency_markdown(bench) + "\n")
        written.append(plot_latency_per_click(bench, out / "latency_per_click.png"))
        index += ["- `table1.md` / `.tex`: parameters, GMACs and CPU latency per click phase, beside the paper's Table 1",
                  "- `efficiency.md`: every measured phase with p10/p90 and the on-image latency",
                  "- `latency_per_click.png`: model time per click index"]
    try:
        reports = build_reports(results_dir)
    except StoreError:
        reports = []
    if reports:
        rep = max(reports, key=lambda r: len(r.rows))
        chosen = _pick_dataset(rep.rows, dataset)
        if chosen:
            rows = [r for r in rep.rows if r.dataset == chosen]
            write("table2.md", table2_markdown(rows, rep.protocol, chosen))
            write("table2.tex", table2_latex(rows, rep.protocol, chosen))
            written.append(plot_accuracy_time(rows, rep.protocol, chosen, out / "accuracy_time.png"))
            index += [f"- `table2.md` / `.tex`: NoC@90/95 and the model time to reach them on {chosen}",
                      "- `accuracy_time.png`: NoC@90 against time to 90 % IoU, one point per method"]
        write("table3.md", table3_markdown(rep.rows, rep.protocol))
        write("table3.tex", table3_latex(rep.rows, rep.protocol))
        index.append("- `table3.md` / `.tex`: NoC@85/90 on GrabCut, Berkeley, SBD, DAVIS and PascalVOC")
    if not written:
        raise StoreError(f"nothing to render in {results_dir}: run `iseg-bench bench` and/or `iseg-bench run` first")
    write("README.md", "\n".join(index) + "\n")
    return written
