"""How ``run`` shows its progress on stderr: a bar on a terminal, lines in a log, or nothing."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import click

PROGRESS_INTERVAL_S = 10.0  # seconds between progress lines when stderr is not a terminal
PROGRESS_INTERVAL_ENV = "ISEG_BENCH_PROGRESS_INTERVAL"  # overrides PROGRESS_INTERVAL_S (seconds)


def progress_interval() -> float:
    """Seconds between progress lines: PROGRESS_INTERVAL_ENV when it holds a number, else the constant."""
    try:
        return max(0.0, float(os.environ[PROGRESS_INTERVAL_ENV]))
    except (KeyError, ValueError):
        return PROGRESS_INTERVAL_S


class ProgressBar:
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


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLog:
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
            when = f"done in {duration(elapsed)}"
        else:
            when = f"~{duration((total - done) / rate)} left" if rate > 0 else "time left unknown"
        pairs = [f"{method} on {dataset} {self.done[(method, dataset)]}/{n}"
                 + (" done" if self.done[(method, dataset)] >= n else "")
                 for (method, dataset), n in self.pending.items()]
        speed = f"{rate:.3g} samples/s" if elapsed > 0 else "rate not yet known"
        return (f"progress: {done}/{total} samples ({100 * done / max(total, 1):.0f} %), {speed}, {when}; "
                + ", ".join(pairs))

    def close(self) -> None:
        """Nothing to close: every line is complete."""


def show_progress(progress: bool, label: str) -> ProgressBar | ProgressLog | None:
    """How ``run`` shows progress: a bar on a terminal, lines in a log (stderr not a terminal), or nothing."""
    if not progress:
        return None
    return ProgressBar(label) if sys.stderr.isatty() else ProgressLog(label, progress_interval())
