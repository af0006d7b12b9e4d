"""Executors on this machine: ``inline`` (this process, in order; the only one that measures latency)
and ``process`` (a pool of local worker processes, each sample with a time limit)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..device import spread
from ..records import SampleRecord
from .interface import ExecutorOptions
from .tasks import Task, Workbench, WorkSpec, failed, overdue


class SampleTimeout(Exception):
    """Raised inside a serial sample that ran past its time limit."""


class InlineExecutor:
    """Evaluates in this process, in order (the only executor that measures latency).

    A per-sample time limit uses a real-time interval timer (SIGALRM): when it fires, the method's
    current call is interrupted at its next Python instruction and the sample is recorded as a
    method error, as the parallel executors record a hung worker's sample.
    """

    name = "inline"
    measures_latency = True

    def __init__(self, spec: WorkSpec, options: ExecutorOptions, predictors: dict | None = None) -> None:
        if options.workers > 1:
            raise ValueError("the inline executor runs one sample at a time; use the process or ray executor")
        if options.timeout is not None:
            check_serial_timeout()
        self.bench = Workbench(spec, predictors)
        self.timeout = options.timeout

    def run(self, tasks: Sequence[Task]) -> Iterator[SampleRecord]:
        for task in tasks:
            if self.timeout is None:
                yield self.bench.evaluate(task, timed=True)
                continue
            self.bench.load(task)  # loading the method and dataset is not part of the sample's limit
            try:
                with _alarm(self.timeout):
                    record = self.bench.evaluate(task, timed=True)
            except SampleTimeout:  # fired outside the method's calls (e.g. while decoding the image)
                record = failed(task, f"timed out after {self.timeout:g} s")
            yield record


def check_serial_timeout() -> None:
    """Refuse, with the reason, a serial time limit this process cannot enforce."""
    import signal
    import threading

    if not hasattr(signal, "setitimer"):
        raise ValueError("--timeout in a serial run needs SIGALRM, which this platform lacks; "
                         "use --workers 2 (the process executor enforces it)")
    if threading.current_thread() is not threading.main_thread():
        raise ValueError("--timeout in a serial run must be set from the main thread; use --workers 2")


class _alarm:
    """Raise SampleTimeout in this (main) thread after ``seconds``; disarmed on exit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def _fire(self, signum, frame):
        raise SampleTimeout(f"timed out after {self.seconds:g} s")

    def __enter__(self):
        import signal

        self.previous = signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)


# --- local process pool ---------------------------------------------------------------------------

def _worker_main(spec: WorkSpec, inbox, outbox, threads: int, parent: int) -> None:
    """A pool worker: take tasks, announce each start, return each record (as a dict).

    It exits when told to (None), or when its parent is gone (a killed run leaves no orphans). It
    ignores SIGINT: a Ctrl-C reaches every process of the terminal's group, and the parent, which
    handles it, stops the workers.
    """
    from ..environment import set_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_threads(threads)
    bench = Workbench(spec)
    while True:
        try:
            task = inbox.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if task is None:
            return
        bench.load(task)  # not part of the sample's time limit
        outbox.put(("start", task.task_id, None))
        record = bench.evaluate(task, timed=False)
        outbox.put(("done", task.task_id, asdict(record)))


@dataclass
class _Slot:
    process: Any  # a multiprocessing Process of the spawn context
    inbox: Any  # its task queue
    task: Task | None = None
    fed: float = 0.0  # when the task was handed over
    started: float | None = None  # when the worker began it (after loading method and dataset)


class ProcessExecutor:
    """N local worker processes, one sample at a time each, with a per-sample time limit. With
    ``cuda`` as the device, worker i computes on GPU i modulo the visible GPUs."""

    name = "process"
    measures_latency = False

    def __init__(self, spec: WorkSpec, options: ExecutorOptions, predictors: dict | None = None) -> None:
        self.spec, self.workers, self.timeout = spec, max(1, options.workers), options.timeout
        self.threads = options.threads or 1
        self.devices = spread(spec.device, self.workers)
        self.ctx = mp.get_context("spawn")

    def _start(self, outbox, i: int) -> _Slot:
        inbox = self.ctx.Queue()
        spec = self.spec.with_device(self.devices[i])
        proc = self.ctx.Process(target=_worker_main, args=(spec, inbox, outbox, self.threads, os.getpid()),
                                daemon=True)
        with _sigint_blocked():
            proc.start()
        return _Slot(proc, inbox)

    def run(self, tasks: Sequence[Task]) -> Iterator[SampleRecord]:
        pending = list(reversed(tasks))
        by_id = {t.task_id: t for t in tasks}
        outbox = self.ctx.Queue()
        slots = [self._start(outbox, i) for i in range(min(self.workers, len(tasks)))]
        remaining = len(tasks)
        finished = False
        try:
            for slot in slots:
                self._feed(slot, pending)
            while remaining:
                try:
                    kind, task_id, payload = outbox.get(timeout=0.2)
                except queue.Empty:
                    kind = None
                if kind == "start":
                    for slot in slots:
                        if slot.task is not None and slot.task.task_id == task_id:
                            slot.started = time.monotonic()
                elif kind == "done":
                    slot = next(s for s in slots if s.task is not None and s.task.task_id == task_id)
                    slot.task = None
                    remaining -= 1
                    self._feed(slot, pending)
                    yield SampleRecord.from_dict(payload)
                for i, slot in enumerate(slots):  # crashed or hung workers cost their sample only
                    reason = self._trouble(slot)
                    if reason and slot.task is not None:
                        task = slot.task
                        slot.process.kill()
                        slots[i] = self._start(outbox, i)
                        remaining -= 1
                        self._feed(slots[i], pending)
                        yield failed(by_id[task.task_id], reason)
            finished = True
        finally:
            _stop(slots, finished)

    def _feed(self, slot: _Slot, pending: list[Task]) -> None:
        if pending:
            slot.task = pending.pop()
            slot.fed, slot.started = time.monotonic(), None
            slot.inbox.put(slot.task)

    def _trouble(self, slot: _Slot) -> str | None:
        if slot.task is None:
            return None
        if not slot.process.is_alive():
            return f"worker process died (exit code {slot.process.exitcode}) while evaluating this sample"
        return overdue(slot.fed, slot.started, self.timeout, "worker")


def _stop(slots: list[_Slot], finished: bool) -> None:
    """Stop the pool: after a finished run each worker is told to exit; otherwise (interrupted, or the
    caller stopped reading) every worker is terminated at once, abandoning the sample it holds (not
    stored: a resumed run evaluates it), and the tasks not handed out are dropped."""
    for slot in slots:
        if slot.process.is_alive():
            if finished:
                slot.inbox.put(None)
            else:
                slot.process.terminate()
    for slot in slots:
        slot.process.join(timeout=5)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join(timeout=5)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while a worker process starts: the worker inherits the block (and
    keeps it; it also ignores SIGINT once running), so a Ctrl-C during its start-up cannot end it with
    a traceback. A Ctrl-C held back meanwhile reaches this process when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # not on Windows; workers still ignore SIGINT once started
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
