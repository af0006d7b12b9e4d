"""``iseg-bench bench``: the careful timing phase, its options parsed into a ``BenchPlan``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..protocol import UNTRAINED_CONTROLS
from .exit_codes import EXIT_FAILED_SAMPLES, EXIT_OK
from .options import check_weights, data_root_option, device_option, split_names, weights_option


@click.command()
@click.option("--methods", required=True, help="Comma-separated method names.")
@click.option("--protocol", "protocol_spec", default="published", show_default=True,
              help="Comma-separated: presets, .json files, or 'published' (each method under its own family's "
                   "published preset: ritm, focalclick, emc; neutral for the others).")
@click.option("--implementation", "implementations", default="engineered", show_default=True,
              help="Comma-separated implementations of the deep methods: engineered, official (official arithmetic).")
@click.option("--untrained-control", type=click.Choice(UNTRAINED_CONTROLS), default="gt-degraded",
              show_default=True,
              help="What steers untrained networks from click to click: surrogate masks (the ground truth degraded "
                   "to a realistic IoU, so crops and zoom-ins are a trained model's) or their own predictions.")
@click.option("--size", default="384", show_default=True,
              help="Synthetic frame (N or HxW) on which each click phase's network work is counted and timed.")
@click.option("--frame", default=None, help="Resize every benchmark image to HxW (e.g. 480x854, DAVIS-sized).")
@click.option("--rules", default=None,
              help="Dataset whose published input rules apply (e.g. DAVIS: EMC-Click 576, RITM zoom 600) "
                   "[default: each dataset's own].")
@click.option("--input-size", type=click.IntRange(min=16), default=None,
              help="Override the protocol's input size for every method (e.g. to compare at equal size).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch/OpenCV threads in every benchmark process [default: physical cores].")
@click.option("--datasets", default="Synthetic", show_default=True, help="Images for the whole-click latency.")
@data_root_option
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True, help="Images per dataset.")
@click.option("--clicks", type=click.IntRange(min=2), default=10, show_default=True, help="Robot clicks per image.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True,
              help="Untimed calls before timing each network phase (and one untimed image when > 0).")
@click.option("--repeats", type=click.IntRange(min=1), default=10, show_default=True,
              help="Timed calls per network phase and round.")
@click.option("--rounds", type=click.IntRange(min=1), default=2, show_default=True,
              help="Rounds over all jobs (interleaved), pooled.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True,
              help="Results folder; the measurements go to OUT/bench (a job measured again replaces its file).")
@weights_option
@device_option
def bench(methods: str, protocol_spec: str, implementations: str, untrained_control: str, size: str,
          frame: str | None, rules: str | None, input_size: int | None, threads: int | None, datasets: str,
          data_root: Path | None, limit: int, clicks: int, warmup: int, repeats: int, rounds: int, out: Path,
          weights: Path | None, device: str) -> None:
    """The careful timing phase: whole-click latency on images (first and later clicks, per click
    index), and each click phase's network work alone (params, fvcore FLOPs, latency, GFLOP/s), one
    fresh process per method, implementation and protocol; stored in OUT/bench."""
    from ..bench import BenchPlan, BenchPlanError, run_bench_plan

    check_weights(weights, split_names(methods))
    plan = BenchPlan(methods=split_names(methods), protocols=split_names(protocol_spec),
                     implementations=split_names(implementations),
                     untrained_control=untrained_control, size=frame_size(size, "--size"),
                     frame=frame_size(frame, "--frame") if frame else None, rules=rules, input_size=input_size,
                     threads=threads, datasets=split_names(datasets), data_root=data_root, limit=limit, clicks=clicks,
                     warmup=warmup, repeats=repeats, rounds=rounds, out=out, weights=weights, device=device)
    try:
        results, failures, table = run_bench_plan(plan, echo=lambda m: click.echo(m, err=True))
    except BenchPlanError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.param) from None
    if results:
        click.echo(table)
        click.echo(f"\nstored in {out / 'bench'}/")
    for failure in failures:
        click.echo(f"failed: {failure}", err=True)
    sys.exit(EXIT_FAILED_SAMPLES if failures else EXIT_OK)


def frame_size(value: str, param: str) -> tuple[int, int]:
    """``N`` or ``HxW`` as (H, W)."""
    try:
        parts = [int(v) for v in value.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 16:
        raise click.BadParameter(f"{value!r}: give N or HxW with sides of at least 16 px", param_hint=param)
    return parts[0], parts[1]
