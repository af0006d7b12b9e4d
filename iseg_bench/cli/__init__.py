"""The ``iseg-bench`` command line.

Exit codes: 0 success; 1 ``regress`` found a change beyond tolerance; 2 bad usage (unknown method,
dataset or protocol, bad option, missing data folder); 3 the run finished and its results are
stored, but some samples failed (data or method errors, listed in the report) or a method could not
be loaded; 4 the results folder cannot be read or written; 5 ``regress`` refused a baseline made
under another protocol, dataset copy or weights; 6 another process is writing the results folder
(its writer lock names it; ``--wait`` waits for it instead); 130 interrupted (Ctrl-C): a run says how
many samples it stored, and running the same command again resumes it.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import presets  # every preset, the method families' included
from ..execution import EXECUTORS
from ..predictor import IMPLEMENTATIONS
from ..protocol import UNTRAINED_CONTROLS, ProtocolError, resolve_protocol
from ..registry import UnknownNameError

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_FAILED_SAMPLES, EXIT_STORE, EXIT_INCOMPARABLE = 0, 1, 2, 3, 4, 5
EXIT_BUSY = 6  # another process holds the results folder's writer lock
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C
DEFAULT_METHODS = "grabcut,watershed,disk"


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


def _protocol(spec: str):
    try:
        return resolve_protocol(spec)
    except ProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="--protocol") from None


def _with_clicker(protocol, clicker: str | None, spread: float | None, exponent: float | None):
    """The protocol with the click strategy and parameters the options give (usage error if they do not fit)."""
    try:
        return protocol.with_clicker(clicker, spread, exponent)
    except ProtocolError as exc:
        raise click.BadParameter(str(exc), param_hint="--clicker") from None


def _usage_errors():
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


PROGRESS_INTERVAL_S = 10.0  # seconds between progress lines when stderr is not a terminal
PROGRESS_INTERVAL_ENV = "ISEG_BENCH_PROGRESS_INTERVAL"  # overrides PROGRESS_INTERVAL_S (seconds)


def _progress_interval() -> float:
    """Seconds between progress lines: PROGRESS_INTERVAL_ENV when it holds a number, else the constant."""
    try:
        return max(0.0, float(os.environ[PROGRESS_INTERVAL_ENV]))
    except (KeyError, ValueError):
        return PROGRESS_INTERVAL_S


class _ProgressBar:
    """A ``runner.Progress`` drawing a bar on stderr (opened when the run says how many samples)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None  # click's progress bar, once the total is known

    def __call__(self, pending: dict[tuple[str, str], int], record) -> None:
        if self.bar is None:
            total = sum(pending.values())
            self.bar = click.progressbar(length=total, label=f"{total} samples ({self.label})", file=sys.stderr,
                                         show_pos=True, show_eta=True)
            self.bar.__enter__()
        if record is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _ProgressLog:
    """A ``runner.Progress`` for a stderr that is not a terminal (CI logs, ``2> log``), where a bar
    shows nothing: a line when the run starts, then one every ``interval`` seconds (checked as
    samples finish) and one when the last sample is stored, with the rate, the time left and each
    method and dataset's count."""

    def __init__(self, label: str, interval: float, clock: Callable[[], float] = time.monotonic,
                 write: Callable[[str], None] | None = None) -> None:
        self.label, self.interval, self.clock = label, interval, clock
        self.write = write or (lambda line: click.echo(line, err=True))
        self.pending: dict[tuple[str, str], int] = {}
        self.done: Counter = Counter()
        self.started = self.last = 0.0
        self.opened = False

    def __call__(self, pending: dict[tuple[str, str], int], record) -> None:
        now = self.clock()
        if not self.opened:
            self.pending, self.started, self.last, self.opened = dict(pending), now, now, True
            self.write(f"progress: {sum(self.pending.values())} samples to evaluate ({self.label})")
        if record is None:
            return
        self.done[(record.method, record.dataset)] += 1
        if sum(self.done.values()) >= sum(self.pending.values()) or now - self.last >= self.interval:
            self.last = now
            self.write(self.line(now))

    def line(self, now: float) -> str:
        """``progress: 40/90 samples (44 %), 3.1 samples/s, ~16 s left; grabcut on Synthetic 30/30 done, ...``"""
        total, done = sum(self.pending.values()), sum(self.done.values())
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else float("inf")
        if done >= total:
            when = f"done in {_duration(elapsed)}"
        else:
            when = f"~{_duration((total - done) / rate)} left" if rate > 0 else "time left unknown"
        pairs = [f"{method} on {dataset} {self.done[(method, dataset)]}/{n}"
                 + (" done" if self.done[(method, dataset)] >= n else "")
                 for (method, dataset), n in self.pending.items()]
        speed = f"{rate:.3g} samples/s" if elapsed > 0 else "rate not yet known"
        return (f"progress: {done}/{total} samples ({100 * done / max(total, 1):.0f} %), {speed}, {when}; "
                + ", ".join(pairs))

    def close(self) -> None:
        """Nothing to close: every line is complete."""


def _show_progress(progress: bool, label: str) -> _ProgressBar | _ProgressLog | None:
    """How ``run`` shows progress: a bar on a terminal, lines in a log (stderr not a terminal), or nothing."""
    if not progress:
        return None
    return _ProgressBar(label) if sys.stderr.isatty() else _ProgressLog(label, _progress_interval())


def _execute(plan, progress: bool):
    """Run a plan, showing its progress; usage errors name the option. An interrupted run (Ctrl-C)
    ends with one line saying how many samples it stored and that running the command again resumes
    it, and exits with EXIT_INTERRUPTED."""
    from ..runner import RunInterrupted, no_progress
    from ..runner import run as run_plan

    shown = _show_progress(progress, plan.executor + ("" if plan.workers == 1 else f", {plan.workers} workers"))
    try:
        try:
            with _usage_errors():
                return run_plan(plan, progress=shown or no_progress, echo=lambda m: click.echo(m, err=True))
        finally:
            if shown is not None:
                shown.close()
    except KeyboardInterrupt as exc:
        _quiet_interrupts()
        stored = exc.outcome.evaluated if isinstance(exc, RunInterrupted) else 0
        click.echo(f"interrupted: {stored} sample{'' if stored == 1 else 's'} stored in this run "
                   f"(kept in {plan.out}); re-running the same command resumes the run", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _quiet_interrupts() -> None:
    """Ignore further Ctrl-C while the command reports an interruption and exits."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _check_weights(weights: Path | None, methods: tuple[str, ...]) -> None:
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


def _split(value: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    if not items:
        raise click.BadParameter("give at least one name")
    return items


class _Commands(click.Group):
    """The command group: a results folder that cannot be read or written ends any command with
    EXIT_STORE and the store's own message (which names the file); one that another process is
    writing, with EXIT_BUSY and the message naming it."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole first sentence, wrapped (click cuts it to the terminal's width)."""
        commands = {name: self.get_command(ctx, name) for name in self.list_commands(ctx)}
        rows = [(name, cmd.get_short_help_str(limit=300)) for name, cmd in commands.items() if cmd is not None]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        from ..store import StoreBusy, StoreError

        try:
            return super().invoke(ctx)
        except StoreBusy as exc:
            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            can_wait = command is not None and any(p.name == "wait" for p in command.params)
            click.echo(f"error: {exc}. One writer per results folder: wait for it to end"
                       f"{', or add --wait to go on after it' if can_wait else ''}, or use another folder.", err=True)
            sys.exit(EXIT_BUSY)
        except StoreError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_STORE)
        except KeyboardInterrupt:  # a run reports what it kept itself (_execute)
            _quiet_interrupts()
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


EXIT_CODES_HELP = ("Exit codes: 0 success; 1 regress found a change beyond tolerance; 2 bad usage (unknown name, "
                   "bad option, missing data folder, absent device); 3 results stored but some samples failed or a "
                   "method could not be loaded; 4 the results folder cannot be read or written; 5 regress refused a "
                   "baseline of another experiment; 6 another process is writing the results folder (run --wait waits "
                   "for it); 130 interrupted (Ctrl-C; re-running a run resumes it).")


@click.group(cls=_Commands, epilog=EXIT_CODES_HELP,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="iseg-bench")
def main() -> None:
    """Benchmark click-based interactive segmentation methods under one declared protocol."""


@main.command()
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

    protocol = _protocol(protocol_spec)
    if untrained_control is not None:
        protocol = protocol.replace(untrained_control=untrained_control)
    protocol = _with_clicker(protocol, clicker, click_spread, click_exponent)
    _check_weights(weights, _split(methods))
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
    html_options = _html_options(html, views, weights, data_root, device)  # a bad --views fails before the run
    try:
        plan = RunPlan(_split(methods), _split(datasets), protocol, out, data_root, limit, weights, executor, workers,
                       timeout, ray_address, ray_cpus, ray_gpus, threads, implementation, device, save_masks,
                       click_seeds, wait)
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
        from ..load import describe

        click.echo(f"{describe(outcome.load)}.\nLatencies from `run` (model time during the accuracy run) are for "
                   "orientation; `iseg-bench bench` is the careful timing phase (one fresh process per method, "
                   "warm-up, repeated and interleaved measurements).", err=True)
    if make_report and (outcome.evaluated or outcome.counts["skipped"]):
        _render(out, html_options)
    sys.exit(EXIT_FAILED_SAMPLES if outcome.failed or outcome.not_loaded else EXIT_OK)


@main.command()
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
    _render(results_dir, _html_options(html, views, weights, data_root, device))


def _html_options(html: bool, views: str, weights: Path | None, data_root: Path | None, device: str):
    """The HTML report's options, or None without --html."""
    if not html:
        return None
    from ..html import HtmlOptions

    if views.strip().lower() == "all":
        count = None
    elif views.strip().isdigit() and int(views) > 0:
        count = int(views)
    else:
        raise click.BadParameter(f"{views!r} is neither a positive number nor 'all'", param_hint="--views")
    return HtmlOptions(count, weights, data_root, device)


def _render(results_dir: Path, html=None) -> None:
    from ..report import render

    reports = render(results_dir, html)
    for rep in reports:
        click.echo(rep.markdown)
        files = [p for p in rep.files if p.parent == rep.out_dir]
        click.echo(f"\nreport written to {rep.out_dir}/ ({', '.join(p.name for p in files)})\n")
        if html is not None:
            click.echo(f"HTML report: {rep.out_dir / 'index.html'} (open it in a browser; it needs no server)\n")


def _size(value: str, param: str) -> tuple[int, int]:
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


@main.command()
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

    _check_weights(weights, _split(methods))
    plan = BenchPlan(_split(methods), _split(protocol_spec), _split(implementations), untrained_control,
                     _size(size, "--size"), _size(frame, "--frame") if frame else None, rules, input_size, threads,
                     _split(datasets), data_root, limit, clicks, warmup, repeats, rounds, out, weights, device)
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


@main.command()
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
    plan = RegressionPlan(baseline, tol, update, _split(methods) if methods else (),
                          _split(datasets) if datasets else (), _protocol(protocol_spec), limit, results, data_root,
                          workers, device, click_seeds, weights)
    try:
        with _usage_errors():
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
        click.echo(f"no change beyond tolerance (noc ±{tol.noc:g}, nof ±{tol.nof}, miou ±{tol.miou:g}) in "
                   f"{what} against {baseline}")


@main.command("paper-tables")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("results"))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the tables and plots (created) [default: RESULTS_DIR/paper].")
@click.option("--dataset", default=None,
              help="Dataset of Table 2 and the trade-off plot [default: SBD, else the largest].")
def paper_tables(results_dir: Path, out: Path | None, dataset: str | None) -> None:
    """Render the analogues of the paper's Tables 1-3 and the efficiency plots from stored results
    (what cannot be rendered, and why, is said on stderr)."""
    from ..paper import render_paper_tables

    written = render_paper_tables(results_dir, out or results_dir / "paper", dataset,
                                  echo=lambda m: click.echo(m, err=True))
    for path in written:
        click.echo(str(path))


@main.command()
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


@main.command("import-ious")
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
    protocol = _protocol(protocol_spec)
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
    _render(out)


@main.command("methods")
def list_methods() -> None:
    """List the registered methods."""
    from tabulate import tabulate

    from ..adapters import METHODS

    rows = [[e.name, ", ".join(METHODS.aliases_of(e.name)), e.summary, e.origin] for e in METHODS.entries()]
    click.echo(tabulate(rows, headers=["method", "alias", "description", "from"], tablefmt="simple"))
    click.echo("\nAlso: any Predictor subclass by import path, e.g. --methods my_pkg.module:MyPredictor.")


@main.command("clickers")
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


@main.command("weights")
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


@main.command()
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


@main.command("datasets")
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

