"""``iseg-bench run``: the accuracy run, every method on every dataset, resumable, with its progress."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..execution import EXECUTORS
from ..predictor import IMPLEMENTATIONS
from ..protocol import UNTRAINED_CONTROLS
from .exit_codes import EXIT_FAILED_SAMPLES, EXIT_INTERRUPTED, EXIT_OK, quiet_interrupts
from .options import (
    check_weights,
    data_root_option,
    device_option,
    html_options,
    html_report_options,
    out_option,
    protocol_from_option,
    protocol_option,
    split_names,
    usage_errors,
    wait_option,
    weights_option,
    with_clicker,
)
from .progress import show_progress
from .reports import render_and_print

DEFAULT_METHODS = "grabcut,watershed,disk"


@click.command()
@click.option("--methods", default=DEFAULT_METHODS, show_default=True,
              help="Comma-separated method names (see `iseg-bench methods`).")
@click.option("--datasets", default="Synthetic", show_default=True,
              help="Comma-separated datasets: NAME (under the data root), NAME=PATH, or custom:PATH.")
@protocol_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N samples of each dataset.")
@out_option
@data_root_option
@weights_option
@click.option("--executor", type=click.Choice(EXECUTORS.names()), default=None,
              help="inline (default; measures latency), process (local pool) or ray "
                   "[default: process when --workers > 1].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel workers (processes or Ray actors); parallel runs do not measure latency.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
              help="Seconds allowed per sample (loading the method and dataset is not counted); a sample over it "
                   "is recorded as a method error and the run goes on. Serial runs enforce it with SIGALRM.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch/OpenCV threads (serial: this process [default: the libraries' own]; pool workers "
                   "[default: 1]; Ray actors [default: --ray-cpus]).")
@click.option("--implementation", type=click.Choice(IMPLEMENTATIONS), default=IMPLEMENTATIONS[0],
              show_default=True, help="Deep methods: engineered, or official arithmetic (the official predictors' "
                                      "per-click work; the same outputs).")
@click.option("--untrained-control", type=click.Choice(UNTRAINED_CONTROLS), default=None,
              help="What steers untrained networks: their own predictions, or surrogate masks (the ground truth "
                   "degraded to a realistic IoU per click, for timing) [default: the protocol's, own].")
@click.option("--address", "ray_address", default=None, help="Ray cluster to join (e.g. auto, ray://host:10001).")
@click.option("--ray-cpus", type=float, default=1.0, show_default=True, help="CPUs per Ray actor.")
@click.option("--ray-gpus", type=float, default=0.0, show_default=True,
              help="GPUs per Ray actor (an actor given GPUs computes its method on them).")
@device_option
@click.option("--progress/--no-progress", default=True,
              help="Show progress on stderr: a bar on a terminal, else a line every few seconds.")
@click.option("--report/--no-report", "make_report", default=True, help="Render the report after the run.")
@click.option("--save-masks", is_flag=True,
              help="Store the mask after every click (OUT/masks, a few kB per sample), for the HTML report's "
                   "sample views; without it the report re-runs the samples it shows.")
@html_options
@click.option("--clicker", default=None,
              help="Click strategy, replacing the protocol's: robot (the reference), or the seeded jitter, uniform, "
                   "distance, boundary (`iseg-bench clickers` describes them).")
@click.option("--click-seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run every sample under seeds 0..N-1 of a seeded click strategy (robustness to the user).")
@click.option("--click-spread", type=float, default=None,
              help="jitter's noise and boundary's band, as a fraction of the error region's radius [default: 0.25].")
@click.option("--click-exponent", type=float, default=None,
              help="distance's exponent on the distance to the region's boundary [default: 1, RClicks' DT].")
@wait_option
def run(methods: str, datasets: str, protocol_spec: str, limit: int | None, out: Path, data_root: Path | None,
        weights: Path | None, executor: str | None, workers: int, timeout: float | None, threads: int | None,
        implementation: str, untrained_control: str | None, ray_address: str | None, ray_cpus: float,
        ray_gpus: float, device: str, progress: bool, make_report: bool, save_masks: bool, html: bool,
        views: str, clicker: str | None, click_seeds: int, click_spread: float | None,
        click_exponent: float | None, wait: bool) -> None:
    """Evaluate methods on datasets; records go to OUT/records, the report to OUT/report."""
    from ..runner import RunPlan

    protocol = protocol_from_option(protocol_spec)
    if untrained_control is not None:
        protocol = protocol.replace(untrained_control=untrained_control)
    protocol = with_clicker(protocol, clicker, click_spread, click_exponent)
    check_weights(weights, split_names(methods))
    executor = executor or ("process" if workers > 1 else "inline")
    if executor == "inline" and workers > 1:
        raise click.BadParameter("the inline executor runs one sample at a time; use --executor process or ray",
                                 param_hint="--workers")
    if executor == "inline" and timeout is not None:
        from ..execution.local import check_serial_timeout

        try:
            check_serial_timeout()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--timeout") from None
    if html and not make_report:
        raise click.BadParameter("--html writes a report; it cannot go with --no-report", param_hint="--html")
    html_options = html_report_options(html, views, weights, data_root, device)  # a bad --views fails before the run
    try:
        plan = RunPlan(methods=split_names(methods), datasets=split_names(datasets), protocol=protocol, out=out,
                       data_root=data_root, limit=limit, weights=weights, executor=executor, workers=workers,
                       timeout=timeout, ray_address=ray_address, ray_cpus=ray_cpus, ray_gpus=ray_gpus, threads=threads,
                       implementation=implementation, device=device, save_masks=save_masks, click_seeds=click_seeds,
                       wait=wait)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--click-seeds") from None
    click.echo(protocol.summary(), err=True)
    outcome = _execute(plan, progress)
    click.echo(f"{outcome.evaluated} samples evaluated ({outcome.failed} failed), "
               f"{outcome.counts['skipped']} already in {out}", err=True)
    for line in outcome.not_loaded:
        click.echo(f"  method not loaded: {line}", err=True)
    for line in outcome.errors[:20]:
        click.echo(f"  failed: {line}", err=True)
    if len(outcome.errors) > 20:
        click.echo(f"  ... and {len(outcome.errors) - 20} more (see the records)", err=True)
    if outcome.load.wall_s > 0:
        from ..machine_load import describe

        click.echo(f"{describe(outcome.load)}.\nLatencies from `run` (model time during the accuracy run) are for "
                   "orientation; `iseg-bench bench` is the careful timing phase (one fresh process per method, "
                   "warm-up, repeated and interleaved measurements).", err=True)
    if make_report and (outcome.evaluated or outcome.counts["skipped"]):
        render_and_print(out, html_options)
    sys.exit(EXIT_FAILED_SAMPLES if outcome.failed or outcome.not_loaded else EXIT_OK)


def _execute(plan, progress: bool):
    """Run a plan, showing its progress; usage errors name the option. An interrupted run (Ctrl-C)
    ends with one line saying how many samples it stored and that running the command again resumes
    it, and exits with EXIT_INTERRUPTED."""
    from ..runner import RunInterrupted, no_progress
    from ..runner import run as run_plan

    shown = show_progress(progress, plan.executor + ("" if plan.workers == 1 else f", {plan.workers} workers"))
    try:
        try:
            with usage_errors():
                return run_plan(plan, progress=shown or no_progress, echo=lambda m: click.echo(m, err=True))
        finally:
            if shown is not None:
                shown.close()
    except KeyboardInterrupt as exc:
        quiet_interrupts()
        stored = exc.outcome.evaluated if isinstance(exc, RunInterrupted) else 0
        click.echo(f"interrupted: {stored} sample{'' if stored == 1 else 's'} stored in this run "
                   f"(kept in {plan.out}); re-running the same command resumes the run", err=True)
        sys.exit(EXIT_INTERRUPTED)
