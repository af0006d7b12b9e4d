"""``iseg-bench regress``: re-run a baseline's experiment and fail on any change beyond tolerance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .exit_codes import EXIT_INCOMPARABLE, EXIT_REGRESSION
from .options import data_root_option, device_option, protocol_from_option, protocol_option, split_names, usage_errors


@click.command()
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Baseline JSON (reports/baselines/<name>.json).")
@click.option("--tolerance", default=None, help="Allowed change, e.g. noc=0.05,nof=1,miou=0.005 [default: none].")
@click.option("--update", is_flag=True, help="Rewrite the baseline from the current results, on purpose.")
@click.option("--methods", default=None,
              help="Check only these of the baseline's methods [default: all]; with --update: the methods of a new "
                   "baseline.")
@click.option("--datasets", default=None,
              help="Check only these of the baseline's datasets [default: all]; with --update: the datasets of a new "
                   "baseline.")
@protocol_option
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Check only the first N samples of each dataset, click by click (their aggregates are not "
                   "compared); with --update: the sample limit of a new baseline.")
@click.option("--weights", default=None,
              help="Checkpoint file or folder for the deep methods, or 'calibrated' (seeded weights with decisive "
                   "masks, which a baseline re-creates itself) [default: the baseline's].")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results folder to reuse and keep [default: a temporary one, fresh run].")
@data_root_option
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Parallel workers.")
@device_option
@click.option("--click-seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --update on a new baseline under a seeded clicker: the seeds (a baseline keeps its own).")
def regress(baseline: Path, tolerance: str | None, update: bool, methods: str | None, datasets: str | None,
            protocol_spec: str, limit: int | None, weights: str | None, results: Path | None,
            data_root: Path | None, workers: int, device: str, click_seeds: int) -> None:
    """Re-run a baseline's methods, datasets and protocol and fail on any change beyond tolerance, naming
    each changed sample and the first click that moved."""
    from ..regress import (
        BaselineError,
        IncomparableError,
        RegressionPlan,
        Tolerance,
        changes_table,
        run_regression,
        sample_changes_table,
    )

    try:
        tol = Tolerance.parse(tolerance)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tolerance") from None
    plan = RegressionPlan(baseline=baseline, tolerance=tol, update=update,
                          methods=split_names(methods) if methods else (),
                          datasets=split_names(datasets) if datasets else (),
                          protocol=protocol_from_option(protocol_spec), limit=limit, results=results,
                          data_root=data_root, workers=workers, device=device, click_seeds=click_seeds,
                          weights=weights)
    try:
        with usage_errors():
            outcome = run_regression(plan)
    except IncomparableError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INCOMPARABLE)
    except BaselineError as exc:
        raise click.BadParameter(str(exc), param_hint="--baseline") from None
    except ValueError as exc:  # the run plan's own check (seeds for a clicker that draws nothing)
        raise click.BadParameter(str(exc), param_hint="--click-seeds") from None
    for line in outcome.not_loaded:
        click.echo(f"method not loaded: {line}", err=True)
    protocol = outcome.protocol
    if outcome.verdict == "written":
        click.echo(f"baseline {baseline} written: {outcome.rows} method/dataset results under {protocol.summary()}")
    elif outcome.verdict == "regression":
        click.echo(f"REGRESSION against {baseline} ({protocol.summary()}):")
        if outcome.changes:
            click.echo(changes_table(outcome.changes))
        if outcome.samples:
            click.echo(f"\n{len(outcome.samples)} samples changed; each at its first changed click:")
            click.echo(sample_changes_table(outcome.samples))
        for item in outcome.missing:
            click.echo(f"missing result: {item}")
        sys.exit(EXIT_REGRESSION)
    else:
        traced = f"the clicks and IoUs of {outcome.traced} samples" if outcome.traced else ""
        what = " and ".join(x for x in (f"{outcome.compared} method/dataset results" if outcome.compared else "",
                                         traced) if x)
        click.echo(f"no change beyond tolerance ({tol}) in "
                   f"{what} against {baseline}")
