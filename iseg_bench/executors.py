"""Where samples are evaluated: in this process, in a pool of local processes, or on Ray.

Every executor runs the same ``evaluate_task`` on tasks of one sample each and yields the finished
records in any order; the runner appends them to the store as they arrive, so the results, and a
resumed run, are identical whatever executed them. The parallel executors give each sample a time
limit and survive a worker that crashes or hangs: that sample is recorded as a method error with
the reason, the worker is replaced, the run goes on. The time limit counts the sample's evaluation
only: loading a method or dataset in a fresh worker has its own, generous limit. Latency is not measured in parallel runs
(workers share the machine): their records carry ``timed = False`` and no latencies.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

from .load import LoadMonitor
from .records import DATA_ERROR, METHOD_ERROR, SampleRecord


@dataclass(frozen=True)
class WorkSpec:
    """What a worker needs to rebuild methods and datasets on its side."""

    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    data_root: str | None
    protocol: dict
    weights: str | None = None
    registrations: tuple[tuple, ...] = ()  # (name, target, summary, options) of methods added at run time
    implementation: str | None = None  # of the methods that offer several (None: their default)


STARTUP_LIMIT_S = 300.0  # a worker that cannot load its method and dataset in this time is stuck


def registrations_for(names: Sequence[str]) -> tuple[tuple, ...]:
    """Registry entries of ``names``, so workers in fresh processes know methods added at run time."""
    from .adapters import METHODS

    entries = (METHODS.entry(n) for n in names)
    return tuple((e.name, e.target, e.summary, e.options) for e in entries)


@dataclass
class Task:
    """One sample of one method; ``record`` carries the identity (and receives the outcome)."""

    task_id: int
    method: str
    dataset: int  # index into WorkSpec.datasets
    index: int  # sample index in the dataset
    record: dict = field(default_factory=dict)


class Workbench:
    """Methods and datasets loaded on demand and kept (one per process or actor)."""

    def __init__(self, spec: WorkSpec, predictors: dict | None = None) -> None:
        from .protocol import Protocol

        from .adapters import METHODS

        for name, target, summary, options in spec.registrations:
            if name not in METHODS:
                METHODS.register(name, target, summary, options=dict(options))
        self.spec = spec
        self.protocol = Protocol.from_dict(spec.protocol)
        self.predictors = dict(predictors or {})
        self.datasets: dict[int, object] = {}

    def load(self, task: Task) -> tuple:
        """The dataset and predictor of ``task``, opened or built on first use and kept."""
        from .adapters import load_predictor
        from .datasets import open_dataset

        if task.dataset not in self.datasets:
            self.datasets[task.dataset] = open_dataset(self.spec.datasets[task.dataset], self.spec.data_root)
        if task.method not in self.predictors:
            self.predictors[task.method] = load_predictor(task.method, self.spec.weights, self.spec.implementation)
        return self.datasets[task.dataset], self.predictors[task.method]

    def evaluate(self, task: Task, timed: bool = True) -> SampleRecord:
        """Evaluate one task into its record (never raises for a bad sample or a failing method)."""
        from .datasets import SampleError
        from .evaluation import evaluate_sample

        record = SampleRecord.from_dict(task.record)
        ds, predictor = self.load(task)
        try:
            sample = ds.load(task.index)
        except SampleError as exc:
            record.status, record.error = DATA_ERROR, str(exc)
            return _finish(record)
        except Exception as exc:  # an unexpected decoder failure is still one bad sample
            record.status, record.error = DATA_ERROR, f"{type(exc).__name__}: {exc}"
            return _finish(record)
        predictor.prepare(self.protocol, ds.name)
        record.height, record.width = sample.shape
        with LoadMonitor() as monitor:
            out = evaluate_sample(predictor, sample.image, sample.gt, self.protocol)
        record.status, record.error = out.status, out.error
        record.clicks, record.ious, record.phases = out.clicks, out.ious, out.phases
        if timed:
            record.latency_s, record.setup_s, record.load = out.latency_s, out.setup_s, monitor.reading.to_dict()
        else:
            record.latency_s, record.setup_s, record.timed = [math.nan] * len(out.ious), math.nan, False
        return _finish(record)


def _finish(record: SampleRecord) -> SampleRecord:
    from datetime import datetime, timezone

    record.finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def failed(task: Task, reason: str) -> SampleRecord:
    """The record of a sample whose worker crashed or timed out."""
    record = SampleRecord.from_dict(task.record)
    record.status, record.error, record.timed = METHOD_ERROR, reason, False
    return _finish(record)


class SampleTimeout(Exception):
    """Raised inside a serial sample that ran past its time limit."""


class InlineExecutor:
    """Evaluates in this process, in order (the only executor that measures latency).

    A per-sample time limit uses a real-time interval timer (SIGALRM): when it fires, the method's
    current call is interrupted at its next Python instruction and the sample is recorded as a
    method error, as the parallel executors record a hung worker's sample.
    """

    name = "inline"

    def __init__(self, spec: WorkSpec, predictors: dict | None = None, timeout: float | None = None) -> None:
        if timeout is not None:
            check_serial_timeout()
        self.bench = Workbench(spec, predictors)
        self.timeout = timeout

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

    It exits when told to (None), or when its parent is gone (a killed run leaves no orphans).
    """
    from .environment import set_threads

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
    process: mp.Process
    inbox: object
    task: Task | None = None
    fed: float = 0.0  # when the task was handed over
    started: float | None = None  # when the worker began it (after loading method and dataset)


class ProcessExecutor:
    """N local worker processes, one sample at a time each, with a per-sample time limit."""

    name = "process"

    def __init__(self, spec: WorkSpec, workers: int = 2, timeout: float | None = None,
                 threads_per_worker: int = 1) -> None:
        self.spec, self.workers, self.timeout, self.threads = spec, max(1, workers), timeout, threads_per_worker
        self.ctx = mp.get_context("spawn")

    def _start(self, outbox) -> _Slot:
        inbox = self.ctx.Queue()
        proc = self.ctx.Process(target=_worker_main, args=(self.spec, inbox, outbox, self.threads, os.getpid()),
                                daemon=True)
        proc.start()
        return _Slot(proc, inbox)

    def run(self, tasks: Sequence[Task]) -> Iterator[SampleRecord]:
        pending = list(reversed(tasks))
        by_id = {t.task_id: t for t in tasks}
        outbox = self.ctx.Queue()
        slots = [self._start(outbox) for _ in range(min(self.workers, len(tasks)))]
        remaining = len(tasks)
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
                    if reason:
                        task = slot.task
                        slot.process.kill()
                        slots[i] = self._start(outbox)
                        remaining -= 1
                        self._feed(slots[i], pending)
                        yield failed(by_id[task.task_id], reason)
        finally:
            for slot in slots:
                if slot.process.is_alive():
                    slot.inbox.put(None)
            for slot in slots:
                slot.process.join(timeout=5)
                if slot.process.is_alive():
                    slot.process.kill()

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


def overdue(fed: float, started: float | None, timeout: float | None, what: str) -> str | None:
    """Why a sample handed over at ``fed`` and begun at ``started`` (None: still loading) must be
    stopped now, or None while it is within its limits."""
    now = time.monotonic()
    if started is None:
        if now - fed > STARTUP_LIMIT_S:
            return f"the {what} did not load the method and dataset within {STARTUP_LIMIT_S:g} s ({what} stopped)"
        return None
    if timeout is not None and now - started > timeout:
        return f"timed out after {timeout:g} s ({what} stopped)"
    return None


def make_executor(kind: str, spec: WorkSpec, workers: int, timeout: float | None, predictors: dict | None = None,
                  ray_address: str | None = None, ray_cpus: float = 1.0, ray_gpus: float = 0.0,
                  threads: int | None = None):
    """The executor called ``kind``: inline, process or ray. ``threads``: torch/OpenCV threads per
    worker process (default: 1 in the pool, the actor's CPUs on Ray); inline runs use this process's."""
    if kind == "inline":
        return InlineExecutor(spec, predictors, timeout)
    if kind == "process":
        return ProcessExecutor(spec, workers, timeout, threads or 1)
    if kind == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(spec, workers, timeout, ray_address, ray_cpus, ray_gpus, threads)
    raise ValueError(f"unknown executor {kind!r}; choose inline, process or ray")


EXECUTORS = ("inline", "process", "ray")

