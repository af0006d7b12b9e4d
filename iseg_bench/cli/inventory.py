"""What the harness knows and where it finds it: the methods, click strategies, checkpoints and
datasets (``methods``, ``clickers``, ``weights``, ``datasets``), and fetching a dataset
(``download``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .exit_codes import EXIT_USAGE
from .options import data_root_option


@click.command("methods")
def list_methods() -> None:
    """List the registered methods."""
    from tabulate import tabulate

    from ..adapters import METHODS

    rows = [[e.name, ", ".join(METHODS.aliases_of(e.name)), e.summary, e.origin] for e in METHODS.entries()]
    click.echo(tabulate(rows, headers=["method", "alias", "description", "from"], tablefmt="simple"))
    click.echo("\nAlso: any Predictor subclass by import path, e.g. --methods my_pkg.module:MyPredictor.")


@click.command("clickers")
def list_clickers() -> None:
    """List the click strategies (the simulated users) and the protocol fields each reads."""
    from tabulate import tabulate

    from ..click_strategies import CLICKERS, STRATEGY_PARAMETERS, is_seeded

    rows = [[e.name, "yes" if is_seeded(e.name) else "no",
             ", ".join(STRATEGY_PARAMETERS.get(e.name, ())) or "–", e.summary] for e in CLICKERS.entries()]
    click.echo(tabulate(rows, headers=["clicker", "seeded", "reads", "rule"], tablefmt="simple",
                        maxcolwidths=[None, None, None, 70]))
    click.echo("\nrun --clicker NAME --click-seeds N runs every sample under N seeds; the rules and their sources "
               "are in iseg_bench/click_strategies.py and the README.")


@click.command("weights")
@click.option("--weights", type=click.Path(path_type=Path), default=None, help="An extra folder to look in.")
def list_weights(weights: Path | None) -> None:
    """Official checkpoints of the deep methods: file, source, size, and whether a file is found,
    reads and fits its variant, and is the official file (its SHA-256 equals the published one)."""
    from tabulate import tabulate

    from ..adapters import FAMILIES, VARIANTS
    from ..adapters.weights import WEIGHTS_ENV, find_weights, inspect_checkpoint, weights_dirs

    rows = []
    for name, v in VARIANTS.items():
        path = find_weights(name, v.weights, weights)
        status = inspect_checkpoint(path, v.build(), name, v.weights)[1] if path else "missing (runs UNTRAINED)"
        default = [f.name for f in FAMILIES.values() if f.default == name]
        rows.append([name + (f" ({default[0]})" if default else ""), v.weights.file_name, v.weights.size,
                     v.weights.sha256 or "not published", v.weights.source, status])
    click.echo(tabulate(rows, headers=["variant", "official file", "size", "official SHA-256", "source", "status"],
                        tablefmt="simple"))
    click.echo("\nLooked in: " + ", ".join(str(d) for d in weights_dirs(weights)) +
               f"\nA file is found as <variant>.pth or under its official name. Pass --weights FILE|DIR to "
               f"`iseg-bench run`, set {WEIGHTS_ENV}, or copy files into the last folder. Nothing is downloaded "
               "automatically. A checkpoint is called official only when its SHA-256 equals the published "
               f"official file's (published for {sum(v.weights.sha256 is not None for v in VARIANTS.values())} of "
               f"{len(VARIANTS)} variants); any other trained checkpoint is a user checkpoint (trained, origin "
               "unverified). Without a checkpoint a method runs "
               "with seeded random weights, marked UNTRAINED in every table (its accuracy is meaningless; its "
               "cost figures are valid).")


@click.command()
@click.argument("name")
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Data root to unpack into (the dataset's folder appears inside it).")
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Use this archive instead of downloading (offline machines).")
@click.option("--sha256", default=None, help="Expected SHA-256 of the archive (refused if it differs).")
def download(name: str, dest: Path, archive: Path | None, sha256: str | None) -> None:
    """Fetch a dataset archive (only when asked), verify it and unpack it safely into --to."""
    from ..datasets import DatasetError, open_dataset
    from ..datasets.download import download as fetch_and_unpack

    try:
        entries, digest = fetch_and_unpack(name, dest, archive, sha256)
    except DatasetError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"unpacked {', '.join(str(e) for e in entries)} (archive SHA-256 {digest})")
    try:
        ds = open_dataset(name, dest)
        click.echo(f"{ds.name}: {len(ds)} samples, fingerprint {ds.fingerprint}")
    except DatasetError as exc:
        click.echo(f"note: unpacked, but {exc}", err=True)


@click.command("datasets")
@data_root_option
def list_datasets(data_root: Path | None) -> None:
    """List the known datasets and whether they are found under the data root."""
    from tabulate import tabulate

    from ..datasets import DATASETS
    from ..datasets import resolve_data_root as resolve_root

    root = resolve_root(data_root)
    rows = []
    for e in DATASETS.entries():
        cls = DATASETS.get(e.name)
        if not cls.needs_path:
            where = "embedded (no files needed)"
        elif cls.path_required:
            where = "custom:PATH"
        elif root is None:
            where = "no data root set"
        else:
            where = f"found at {root / e.name}" if (root / e.name).is_dir() else f"missing: {root / e.name}"
        rows.append([e.name, e.summary, where])
    click.echo(tabulate(rows, headers=["dataset", "description", "location"], tablefmt="simple"))
    if root is None:
        click.echo("\nSet --data-root or ISEG_BENCH_DATA to the folder that holds GrabCut/, Berkeley/, ...")
