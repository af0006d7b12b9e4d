"""The ``iseg-bench`` command line.

Exit codes: 0 success; 1 ``regress`` found a change beyond tolerance; 2 bad usage (unknown method,
dataset or protocol, bad option, missing data folder); 3 the run finished and its results are
stored, but some samples failed (data or method errors, listed in the report) or a method could not
be loaded; 4 the results folder cannot be read or written; 5 ``regress`` refused a baseline made
under another protocol, dataset copy or weights; 6 another process is writing the results folder
(its writer lock names it; ``--wait`` waits for it instead); 130 interrupted (Ctrl-C): a run says how
many samples it stored, and running the same command again resumes it.

This module holds the command group ``main`` and registers the commands, which live in one module
per kind: ``run`` (the accuracy run), ``bench`` (the timing phase), ``regress`` (baselines),
``reports`` (report, paper-tables, compare), ``import_ious`` (official IoU logs), ``inventory``
(methods, clickers, weights, datasets, download). Beside them: ``options`` (shared options and
their checks), ``progress`` (how a run shows its progress) and ``exit_codes``.
"""

from __future__ import annotations

import sys

import click

from . import bench, import_ious, inventory, regress, reports, run
from .exit_codes import (
    EXIT_BUSY,
    EXIT_CODES_HELP,
    EXIT_FAILED_SAMPLES,
    EXIT_INCOMPARABLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_STORE,
    EXIT_USAGE,
    quiet_interrupts,
)
from .progress import PROGRESS_INTERVAL_ENV, PROGRESS_INTERVAL_S, ProgressBar, ProgressLog, show_progress

__all__ = ["EXIT_BUSY", "EXIT_FAILED_SAMPLES", "EXIT_INCOMPARABLE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_REGRESSION",
           "EXIT_STORE", "EXIT_USAGE", "PROGRESS_INTERVAL_ENV", "PROGRESS_INTERVAL_S", "ProgressBar", "ProgressLog",
           "show_progress", "main"]


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
        except KeyboardInterrupt:  # a run reports what it kept itself (run._execute)
            quiet_interrupts()
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, epilog=EXIT_CODES_HELP,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="iseg-bench")
def main() -> None:
    """Benchmark click-based interactive segmentation methods under one declared protocol."""


# Commands are listed by name (``iseg-bench --help``), whatever the order here.
for _command in (run.run, bench.bench, regress.regress, reports.report, reports.paper_tables, reports.compare,
                 import_ious.import_ious, inventory.list_methods, inventory.list_clickers, inventory.list_weights,
                 inventory.download, inventory.list_datasets):
    main.add_command(_command)
