"""``iseg-bench import-ious``: an official evaluation script's per-sample IoU log, imported into a
results folder beside the runs made here."""

from __future__ import annotations

from pathlib import Path

import click

from .. import presets  # every preset, the method families' included
from .options import data_root_option, out_option, protocol_from_option, wait_option
from .reports import render_and_print


@click.command("import-ious")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--method", required=True,
              help="Name for the imported run, e.g. ritm-hrnet18s-official (not a registered method's name).")
@click.option("--dataset", "dataset_spec", required=True, help="The dataset the log was made on (NAME or NAME=PATH).")
@data_root_option
@click.option("--protocol", "protocol_spec", required=True,
              help=f"The protocol the log was made with: a preset ({', '.join(presets())}) or a .json file.")
@click.option("--world-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Ranks of a distributed evaluation whose gathered log is in rank-major order.")
@out_option
@wait_option
def import_ious(log: Path, method: str, dataset_spec: str, data_root: Path | None, protocol_spec: str,
                world_size: int, out: Path, wait: bool) -> None:
    """Import an official evaluation script's per-sample IoU log (--save-ious / --iou-analysis pickle)
    into a results folder, beside runs made here (report, compare and regress then use it)."""
    from ..adapters import METHODS
    from ..datasets import DatasetError, open_dataset
    from ..iou_logs import IouLogError, import_log

    if method in METHODS:
        raise click.BadParameter(f"{method!r} is a registered method; name the imported run apart from runs made "
                                 f"here, e.g. {method}-official", param_hint="--method")
    protocol = protocol_from_option(protocol_spec)
    try:
        dataset = open_dataset(dataset_spec, data_root)
    except DatasetError as exc:
        raise click.BadParameter(str(exc), param_hint="--dataset") from None
    try:
        added, present = import_log(log, method, dataset, protocol, out, world_size, wait,
                                    on_wait=lambda m: click.echo(m, err=True))
    except IouLogError as exc:
        raise click.BadParameter(str(exc), param_hint="LOG") from None
    click.echo(f"{added} samples of {method} on {dataset.name} imported into {out} ({present} already there) "
               f"under {protocol.summary()}; clicks and times are not in the log")
    render_and_print(out)
