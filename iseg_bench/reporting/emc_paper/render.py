"""Write the paper's Tables 1-3 (Markdown and LaTeX), the ratios, the efficiency tables, the plots and
an index, from a results folder. Every row of the paper is listed, matching or not; a difference
over 5 % is flagged with its reason where one is established; protocol, implementation, control
flow, machine and weights status are printed under every table. What cannot be written, and why, is
said through ``echo`` (one line each) and in the index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from iseg_bench.summary import ResultRow

from .ratios import ratio_rows, ratios_markdown
from .table1 import paper_table1_latex, paper_table1_markdown
from .table2 import paper_table2_latex, paper_table2_markdown
from .table3 import paper_table3_latex, paper_table3_markdown, unlisted_notes


def _pick_dataset(rows: Sequence[ResultRow], wanted: str | None) -> str | None:
    names = list(dict.fromkeys(r.dataset for r in rows))
    if wanted:
        return wanted if wanted in names else None
    if "SBD" in names:
        return "SBD"
    return max(names, key=lambda n: max(r.samples for r in rows if r.dataset == n), default=None)


def _quiet(message: str) -> None:
    """Say nothing (the default ``echo``)."""


def render_paper_tables(results_dir: Path, out: Path, dataset: str | None = None,
                        echo: Callable[[str], None] = _quiet) -> list[Path]:
    """Write Tables 1-3 (Markdown and LaTeX), the ratios, the efficiency tables, the plots and an index;
    ``echo`` gets one line for each table or plot not written (and for what Table 3 cannot list)."""
    from iseg_bench.bench_results import load_bench
    from iseg_bench.folder_summary import build_reports
    from iseg_bench.reporting.efficiency_tables import checks_markdown, efficiency_markdown, implementations_markdown
    from iseg_bench.reporting.plots import has_time, plot_accuracy_time, plot_latency_per_click
    from iseg_bench.store import StoreError

    written: list[Path] = []
    missing: list[str] = []  # one line per table or plot not written, with the reason

    def write(name: str, text: str) -> None:
        (out / name).write_text(text)
        written.append(out / name)

    def not_written(message: str) -> None:
        missing.append(message)
        echo(message)

    bench = load_bench(results_dir)
    try:
        reports = build_reports(results_dir)
    except StoreError:
        reports = []
    if not bench and not reports:
        raise StoreError(f"nothing to render in {results_dir}: run `iseg-bench bench` and/or `iseg-bench run` first")
    out.mkdir(parents=True, exist_ok=True)
    index = ["# Paper tables, regenerated from stored results", "",
             f"Rendered by `iseg-bench paper-tables {results_dir} --out {out}`.", ""]
    if bench:
        write("table1.md", paper_table1_markdown(bench))
        write("table1.tex", paper_table1_latex(bench))
        write("ratios.md", ratios_markdown(bench))
        write("ratios.json", json.dumps(ratio_rows(bench), indent=1) + "\n")
        write("efficiency.md", efficiency_markdown(bench) + "\n")
        write("implementations.md", implementations_markdown(bench))
        write("checks.md", checks_markdown(bench))
        written.append(plot_latency_per_click(bench, out / "latency_per_click.png"))
        index += ["- `table1.md` / `.tex`: every row of the paper's Table 1: parameters, GMACs, CPU time per click "
                  "(whole click and network alone), relative to RITM-hrnet18s, differences over 5 % flagged",
                  "- `ratios.md` / `.json`: EMC-Click's later click over RITM-hrnet18s' and FocalClick-SegFormer-B0's",
                  "- `efficiency.md`: every measured job: whole-click latency on images, network phases with "
                  "GFLOP/s against the matmul peak",
                  "- `implementations.md`: the engineered implementation against the official arithmetic, click by "
                  "click",
                  "- `checks.md`: the efficiency targets checked on these results (engineered at least as fast as "
                  "official; network phases at 40 % of the matmul peak)",
                  "- `latency_per_click.png`: whole-click time per click index"]
    else:
        not_written(f"Table 1 not written (nor the ratios, efficiency tables and latency plot): {results_dir} holds "
                    f"no `iseg-bench bench` results (in its bench/ folder); `iseg-bench bench --methods METHODS "
                    f"--out {results_dir}` makes them.")
    if reports:
        rep = max(reports, key=lambda r: len(r.rows))
        chosen = _pick_dataset(rep.rows, dataset)
        if chosen:
            rows = [r for r in rep.rows if r.dataset == chosen]
            write("table2.md", paper_table2_markdown(rows, rep.protocol, chosen))
            write("table2.tex", paper_table2_latex(rows, rep.protocol, chosen))
            index.append(f"- `table2.md` / `.tex`: every row of the paper's Table 2; ours: NoC@90/95 and the model "
                         f"time to reach them on {chosen}")
            if any(has_time(r) for r in rows):
                written.append(plot_accuracy_time(rows, rep.protocol, chosen, out / "accuracy_time.png"))
                index.append("- `accuracy_time.png`: NoC@90 against time to 90 % IoU, one point per method")
            else:
                not_written(f"accuracy_time.png not written: the results on {chosen} were not timed (a parallel "
                            "run, --workers > 1, does not measure latency); for times, run `iseg-bench run` "
                            "serially (no --workers) into a fresh --out folder (samples already stored are not "
                            "evaluated again); `iseg-bench bench` measures the careful per-click latency of Table 1.")
        else:
            have = ", ".join(dict.fromkeys(r.dataset for r in rep.rows))
            not_written(f"Table 2 not written (nor the accuracy-time plot): no results on {dataset} in {results_dir} "
                        f"(it has {have}); pick one with --dataset.")
        write("table3.md", paper_table3_markdown(rep.rows, rep.protocol))
        write("table3.tex", paper_table3_latex(rep.rows, rep.protocol))
        index.append("- `table3.md` / `.tex`: every row of the paper's Table 3; ours: NoC@85/90 where run")
        for note in unlisted_notes():
            not_written(f"Table 3: {note}")
    else:
        not_written(f"Tables 2 and 3 not written (nor the accuracy-time plot): {results_dir} holds no `iseg-bench "
                    f"run` records; `iseg-bench run --methods METHODS --datasets DATASETS --out {results_dir}` "
                    "makes them.")
    if missing:
        index += ["", "Not written, or not listed:", ""] + [f"- {m}" for m in missing]
    write("index.md", "\n".join(index) + "\n")
    return written
