"""The options several commands share, and the checks that turn option values into what the library
takes: a value the library refuses (an unknown name, a dataset that cannot be read, an absent
device, a protocol that does not fit) is a usage error naming the option."""

from __future__ import annotations

from pathlib import Path

import click

from .. import presets  # every preset, the method families' included
from ..protocol import ProtocolError, resolve_protocol
from ..registry import UnknownNameError
from .exit_codes import EXIT_BUSY

data_root_option = click.option(
    "--data-root", type=click.Path(file_okay=False, path_type=Path), default=None, envvar="ISEG_BENCH_DATA",
    show_envvar=True, help="Folder holding the dataset folders.")
weights_option = click.option(
    "--weights", type=click.Path(path_type=Path), default=None,
    help="Checkpoint file (one deep method) or folder of checkpoints (see `iseg-bench weights`), or 'calibrated' "
         "(seeded weights with decisive, click-dependent masks, for regression tests; untrained).")
protocol_option = click.option(
    "--protocol", "protocol_spec", default="neutral", show_default=True,
    help=f"Preset ({', '.join(presets())}) or a protocol .json file.")
device_option = click.option(
    "--device", default="cpu", show_default=True,
    help="Where the deep methods compute: cpu, cuda, cuda:N or auto (a GPU when there is one); weight-free "
         "methods compute on the CPU.")


def html_options(command):
    """``--html`` and ``--views``: the browsable report and how many samples get their own page."""
    command = click.option("--views", default="12", show_default=True,
                           help="With --html: per dataset, the N worst samples of each method and the N where "
                                "methods disagree most get their own page, or 'all'.")(command)
    return click.option("--html", is_flag=True,
                        help="Also write the browsable report: REPORT/index.html with tables, figures, sample "
                             "galleries and per-sample views (opens from disk).")(command)


out_option = click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True,
    help="Results folder (created; re-running resumes it).")
wait_option = click.option(
    "--wait", is_flag=True,
    help="If another process is writing OUT, wait for it to end, then go on, skipping what it stored "
         f"[default: stop with exit code {EXIT_BUSY}].")


def protocol_from_option(spec: str):
    try:
        return resolve_protocol(spec)
    except ProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="--protocol") from None


def with_clicker(protocol, clicker: str | None, spread: float | None, exponent: float | None):
    """The protocol with the click strategy and parameters the options give (usage error if they do not fit)."""
    try:
        return protocol.with_clicker(clicker, spread, exponent)
    except ProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="--clicker") from None


def usage_errors():
    """Unknown names, unusable datasets and absent devices become usage errors naming the option."""
    import contextlib

    from ..datasets import DatasetError
    from ..device import DeviceError

    @contextlib.contextmanager
    def translate():
        try:
            yield
        except UnknownNameError as exc:
            raise click.BadParameter(str(exc), param_hint="--methods") from None
        except DatasetError as exc:
            raise click.BadParameter(str(exc), param_hint="--datasets") from None
        except DeviceError as exc:
            raise click.BadParameter(str(exc), param_hint="--device") from None
    return translate()


def check_weights(weights: Path | None, methods: tuple[str, ...]) -> None:
    """``--weights FILE`` names one checkpoint, so it can only serve one deep method; ``calibrated``
    (generated weights) serves any number."""
    from ..adapters import weight_users
    from ..adapters.calibration import requested_seed

    if weights is None or requested_seed(weights) is not None:
        return
    if not weights.exists():
        raise click.BadParameter(f"{weights} does not exist", param_hint="--weights")
    try:
        users = weight_users(methods)
    except UnknownNameError as exc:
        raise click.BadParameter(str(exc), param_hint="--methods") from None
    if weights.is_file() and len(users) > 1:
        raise click.BadParameter(
            f"{weights} is one checkpoint file but {len(users)} methods load weights ({', '.join(users)}); "
            "a file fits one network: give a folder of checkpoints (<variant>.pth or official names) instead",
            param_hint="--weights")


def split_names(value: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items:
        raise click.BadParameter("give at least one name")
    return items


def html_report_options(html: bool, views: str, weights: Path | None, data_root: Path | None, device: str):
    """The HTML report's options, or None without --html."""
    if not html:
        return None
    from ..reporting.html import HtmlOptions

    if views.strip().lower() == "all":
        count = None
    elif views.strip().isdigit() and int(views) > 0:
        count = int(views)
    else:
        raise click.BadParameter(f"{views!r} is neither a positive number nor 'all'", param_hint="--views")
    return HtmlOptions(count, weights, data_root, device)
