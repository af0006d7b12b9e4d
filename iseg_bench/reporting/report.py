"""Render a results folder: tables (Markdown, LaTeX, CSV), summary JSON and plots, per protocol.

Everything is recomputed from the stored records, so a report can be re-rendered at any time,
from any mix of runs, without running a model.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..folder_summary import Report, build_reports
from ..metric_catalog import units
from ..records import method_key
from ..store import ResultStore, StoreError
from ..summary import COUNTING_RULES
from . import plots, robustness_tables, tables


def write_report(report: Report, manifest: dict) -> list[Path]:
    out = report.out_dir
    out.mkdir(parents=True, exist_ok=True)
    rows, protocol = report.rows, report.protocol
    texts = {
        "table3.md": tables.noc_table_markdown(rows, protocol),
        "table3.tex": tables.noc_table_latex(rows, protocol),
        "results.md": tables.detail_markdown(rows, protocol),
        "results.tex": tables.detail_latex(rows, protocol),
        "results_reference_format.txt": tables.reference_text(rows, protocol),
    }
    files = []
    for name, text in texts.items():
        (out / name).write_text(text)
        files.append(out / name)
    tables.results_frame(rows, protocol).to_csv(out / "results.csv", index=False)
    files.append(out / "results.csv")
    samples = report.samples.sort_values(["method", "weights", "dataset", "sample_id"])
    samples.to_csv(out / "per_sample.csv", index=False)  # lists (ious, clicks, latency_s) as text
    files.append(out / "per_sample.csv")
    summary = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "protocol": {**protocol.to_dict(), "hash": protocol.hash, "summary": protocol.summary()},
        "counting_rules": COUNTING_RULES,
        "units": units(),
        "results": [r.to_dict() for r in rows],
        "methods": {key: manifest.get("methods", {}).get(key)
                    for key in dict.fromkeys(method_key(r.method, r.weights, r.implementation) for r in rows)},
        "datasets": {r.fingerprint: manifest.get("datasets", {}).get(r.fingerprint) for r in rows},
        "environment": (manifest.get("runs") or [{}])[-1].get("environment"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=True))
    files.append(out / "summary.json")
    files += plots.plot_miou_curves(rows, protocol, out)
    files.append(plots.plot_noc_bars(rows, protocol, out))
    if protocol.seeded and report.samples.seed.nunique() > 1:  # robustness over click seeds
        for name, render_table in (("robustness.md", robustness_tables.robustness_markdown),
                                   ("robustness.tex", robustness_tables.robustness_latex)):
            (out / name).write_text(render_table(report.samples, protocol))
            files.append(out / name)
        robustness_tables.per_sample_spread(report.samples, protocol).to_csv(out / "robustness_per_sample.csv",
                                                                            index=False)
        files.append(out / "robustness_per_sample.csv")
    report.files = files
    return files


def render(results_dir: str | Path, html=None) -> list[Report]:
    """Build and write every report of ``results_dir``, with the browsable pages when ``html`` (an
    ``html.HtmlOptions``) is given (StoreError, naming the folder, when it cannot be written: a
    read-only results folder is a store problem, not a regression)."""
    manifest = ResultStore(results_dir).read_manifest()
    reports = build_reports(results_dir)
    for rep in reports:
        try:
            write_report(rep, manifest)
            if html is not None:
                from .html import write_html

                rep.files += write_html(rep, manifest, html)
        except OSError as exc:
            raise StoreError(f"cannot write the report into {rep.out_dir}: {exc}") from None
    if html is not None and len(reports) > 1:
        from .html import write_index_of_reports

        write_index_of_reports(Path(results_dir) / "report", reports)
    _write_strategies(Path(results_dir) / "report", reports)
    return reports


def _write_strategies(root: Path, reports: list[Report]) -> None:
    """``strategies[-N].{md,tex,png}`` in ``root`` for every group of protocols that differ only in the
    click strategy (NoC under each strategy side by side)."""
    families = robustness_tables.strategy_families([r.protocol for r in reports])
    if not families:
        return
    frame = pd.concat([r.samples for r in reports], ignore_index=True)
    for i, family in enumerate(families):
        stem = "strategies" if len(families) == 1 else f"strategies-{i + 1}"
        try:
            (root / f"{stem}.md").write_text(robustness_tables.strategies_markdown(frame, family))
            (root / f"{stem}.tex").write_text(robustness_tables.strategies_latex(frame, family))
            robustness_tables.plot_strategies(frame, family, root / f"{stem}.png")
        except OSError as exc:
            raise StoreError(f"cannot write the report into {root}: {exc}") from None
