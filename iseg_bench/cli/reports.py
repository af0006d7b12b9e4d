"""The commands that render results stored in a results folder: the report (``report``; ``run`` and
``import-ious`` end with it too), the analogues of the paper's tables (``paper-tables``) and the
sample-by-sample comparison of two methods (``compare``)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import data_root_option, device_option, html_options, html_report_options, weights_option


@click.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@html_options
@weights_option
@data_root_option
@device_option
def report(results_dir: Path, html: bool, views: str, weights: Path | None, data_root: Path | None,
           device: str) -> None:
    """Re-render tables, plots and summary from the records stored in RESULTS_DIR (and the browsable
    HTML report with --html, which re-runs the samples it shows whose masks were not stored: with
    the run's weights and datasets, found where the run read them unless --weights and --data-root say)."""
    render_and_print(results_dir, html_report_options(html, views, weights, data_root, device))


@click.command("paper-tables")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("results"))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the tables and plots (created) [default: RESULTS_DIR/paper].")
@click.option("--dataset", default=None,
              help="Dataset of Table 2 and the trade-off plot [default: SBD, else the largest].")
def paper_tables(results_dir: Path, out: Path | None, dataset: str | None) -> None:
    """Render the analogues of the paper's Tables 1-3 and the efficiency plots from stored results
    (what cannot be rendered, and why, is said on stderr)."""
    from ..reporting.emc_paper import render_paper_tables

    written = render_paper_tables(results_dir, out or results_dir / "paper", dataset,
                                  echo=lambda m: click.echo(m, err=True))
    for path in written:
        click.echo(str(path))


@click.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("method_a")
@click.argument("method_b")
@click.option("--protocol", "protocol_ref", default=None,
              help="Preset name or hash prefix, when RESULTS_DIR holds results of several protocols.")
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True,
              help="Bootstrap resamples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table here: .md, .tex or .csv.")
def compare(results_dir: Path, method_a: str, method_b: str, protocol_ref: str | None, level: float,
            resamples: int, seed: int, out: Path | None) -> None:
    """Compare METHOD_B with METHOD_A sample by sample: NoC with bootstrap intervals, the paired
    difference, and a sign test (is the difference more than the noise of a small benchmark?)."""
    from .. import compare as cmp

    fmt = out.suffix.lstrip(".").lower() if out else "md"
    if fmt not in ("md", "tex", "csv"):
        raise click.BadParameter(f"{out}: the file name must end in .md, .tex or .csv", param_hint="--out")
    settings = cmp.CompareSettings(method_a, method_b, level, resamples, seed)
    try:
        records, protocol, methods = cmp.load(results_dir, protocol_ref)
        comparisons = cmp.compare(records, protocol, settings)
    except cmp.CompareError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.param) from None
    notes = cmp.footer(comparisons, protocol, settings, methods)
    click.echo(cmp.render(comparisons, settings, methods, notes, "md"))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(cmp.render(comparisons, settings, methods, notes, fmt))
        click.echo(f"written to {out}")


def render_and_print(results_dir: Path, html=None) -> None:
    from ..reporting.report import render
    from ..reporting.tables import noc_table_markdown

    reports = render(results_dir, html)
    for rep in reports:
        click.echo(noc_table_markdown(rep.rows, rep.protocol))
        files = [p for p in rep.files if p.parent == rep.out_dir]
        click.echo(f"\nreport written to {rep.out_dir}/ ({', '.join(p.name for p in files)})\n")
        if html is not None:
            click.echo(f"HTML report: {rep.out_dir / 'index.html'} (open it in a browser; it needs no server)\n")
