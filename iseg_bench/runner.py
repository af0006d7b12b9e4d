"""A benchmark run: every method on every dataset under one protocol, resumable.

Names are checked and datasets opened before any work starts, so a typo fails in a second rather
than after an hour. Each finished sample is appended to the store at once; samples whose key is
already stored are skipped, so re-running a command resumes it and changes nothing already done.
One run writes a folder at a time: the store's writer lock is held from reading what is done to the
last append, so a second run refuses (``StoreBusy``) or, with ``wait``, starts after the first one and
skips what it stored.
Progress is reported through a callback (``Progress``), so the library prints nothing itself. An
interrupted run (Ctrl-C) raises ``RunInterrupted`` with what it stored: each record is stored whole
or not at all, and running the plan again resumes it.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import environment
from .adapters import METHODS, load_predictor
from .datasets import Dataset, open_dataset
from .device import resolve_device
from .execution import EXECUTORS, ExecutorOptions, make_executor
from .execution.tasks import Task, WorkSpec, registrations_for
from .machine_load import LoadReading, combine
from .protocol import Protocol
from .records import DATA_ERROR, METHOD_ERROR, SampleRecord
from .store import ResultStore


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    """What to run. ``limit`` keeps the first N samples of each dataset."""

    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    protocol: Protocol
    out: Path
    data_root: Path | None = None
    limit: int | None = None
    weights: Path | None = None  # checkpoint file or folder for the deep methods
    executor: str = "inline"  # inline (measures latency), process, or ray
    workers: int = 1
    timeout: float | None = None  # per sample, parallel executors only
    ray_address: str | None = None
    ray_cpus: float = 1.0
    ray_gpus: float = 0.0
    threads: int | None = None  # torch/OpenCV threads (None: the libraries' defaults serially, 1 per pool worker)
    implementation: str | None = None  # deep methods: engineered (default) or official arithmetic
    device: str = "cpu"  # cpu, cuda, cuda:N or auto (methods that cannot use it compute on the CPU)
    save_masks: bool = False  # store the mask after each click (OUT/masks, ``masks.py``)
    click_seeds: int = 1  # a seeded clicker runs every sample under seeds 0 .. click_seeds - 1
    wait: bool = False  # another process writing ``out``: wait for it to end (else StoreBusy)

    def __post_init__(self) -> None:
        if self.click_seeds < 1:
            raise ValueError(f"click_seeds must be at least 1, got {self.click_seeds}")
        if self.click_seeds > 1 and not self.protocol.seeded:
            raise ValueError(f"the {self.protocol.clicker} clicker draws nothing: every seed would give the same "
                             "clicks; choose a seeded clicker (jitter, uniform, distance, boundary)")

    def executor_options(self) -> ExecutorOptions:
        return ExecutorOptions(self.workers, self.timeout, self.threads, self.ray_address, self.ray_cpus,
                               self.ray_gpus)


# The samples a run evaluates, by (method, dataset) name as in its records, in the plan's order; pairs
# whose samples are all stored already are left out.
Pending = dict[tuple[str, str], int]

# Progress of a run: called with the samples to evaluate and no record before any is evaluated, then
# with each record once it is stored; the command line draws a bar or logs lines, the library prints nothing.
Progress = Callable[[Pending, SampleRecord | None], None]


def no_progress(pending: Pending, record: SampleRecord | None) -> None:
    """A Progress that reports nothing."""


@dataclass
class RunOutcome:
    counts: Counter = field(default_factory=Counter)  # new records by status, plus "skipped"
    errors: list[str] = field(default_factory=list)  # one line per failed sample
    not_loaded: list[str] = field(default_factory=list)  # methods that could not be instantiated
    load: LoadReading = field(default_factory=LoadReading)  # machine load over the samples timed in this run

    @property
    def evaluated(self) -> int:
        return sum(n for status, n in self.counts.items() if status != "skipped")

    @property
    def failed(self) -> int:
        return self.counts[DATA_ERROR] + self.counts[METHOD_ERROR]


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C, SIGINT). ``outcome`` counts what it stored before it stopped:
    those records are kept, and running the same plan again resumes after them."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(f"run interrupted after storing {outcome.evaluated} samples")
        self.outcome = outcome


class _HoldInterrupt:
    """Hold a Ctrl-C back while a record is stored and counted, and raise it after: an interrupted
    run then stores each record whole or not at all and counts exactly what it stored. Only in the
    main thread, and only while SIGINT raises KeyboardInterrupt (Python's default handler)."""

    def __enter__(self) -> _HoldInterrupt:
        self.held, self.previous = False, None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame) -> None:
        self.held = True

    def __exit__(self, kind, value, traceback) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            if self.held and kind is None:
                raise KeyboardInterrupt


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_datasets(specs: tuple[str, ...], data_root: Path | None) -> list[Dataset]:
    return [open_dataset(spec, data_root) for spec in specs]


def run(plan: RunPlan, progress: Progress = no_progress, echo: Callable[[str], None] = print) -> RunOutcome:
    """Evaluate the plan into ``plan.out``; raises before any work on unknown names, layouts or devices,
    ``StoreBusy`` when another process writes ``plan.out`` (unless ``plan.wait``: ``echo`` says so once
    and the run waits for it), and ``RunInterrupted`` (a KeyboardInterrupt) with what was stored when
    interrupted."""
    outcome = RunOutcome()
    try:
        _run(plan, progress, echo, outcome)
    except RunInterrupted:
        raise
    except KeyboardInterrupt:
        raise RunInterrupted(outcome) from None
    return outcome


def _run(plan: RunPlan, progress: Progress, echo: Callable[[str], None], outcome: RunOutcome) -> None:
    for name in plan.methods:
        METHODS.entry(name)  # UnknownNameError with suggestions, before anything runs
    EXECUTORS.entry(plan.executor)
    device = resolve_device(plan.device)  # DeviceError naming the device
    datasets = open_datasets(plan.datasets, plan.data_root)
    if plan.threads is not None and plan.executor == "inline":
        environment.set_threads(plan.threads)
    store = ResultStore(plan.out)
    with store.writer_lock(plan.wait, echo):
        _evaluate(plan, store, datasets, device, progress, echo, outcome)


def _evaluate(plan: RunPlan, store: ResultStore, datasets: list[Dataset], device: str, progress: Progress,
              echo: Callable[[str], None], outcome: RunOutcome) -> None:
    """Under the writer lock: record the run in the manifest, skip what is stored, evaluate the rest."""
    protocol = plan.protocol
    store.update_manifest(protocol=protocol.to_dict(), protocol_hash=protocol.hash,
                          run={"started": _now(), "argv": sys.argv, "methods": list(plan.methods),
                               "datasets": [d.name for d in datasets], "protocol": protocol.hash,
                               "limit": plan.limit, "executor": plan.executor, "workers": plan.workers,
                               "threads": plan.threads, "implementation": plan.implementation,
                               "device": device, "save_masks": plan.save_masks, "click_seeds": plan.click_seeds,
                               "environment": environment.capture()})
    for ds in datasets:
        store.update_manifest(dataset=ds.describe())
    done = store.keys()
    predictors: dict[str, object] = {}
    tasks: list[Task] = []
    for method in plan.methods:
        key = METHODS.canonical(method)  # how workers load it again
        try:
            predictor = load_predictor(method, plan.weights, plan.implementation, device)
            info = predictor.describe()
        except Exception as exc:  # one method that cannot start must not stop the others
            outcome.not_loaded.append(f"{method}: {type(exc).__name__}: {exc}")
            continue
        predictors[key] = predictor
        store.update_manifest(method=info.to_dict())
        if info.trained is False:
            echo(f"note: {info.name} runs with UNTRAINED weights: its accuracy is meaningless "
                 f"(efficiency figures stay valid). {info.notes}")
        for d, ds in enumerate(datasets):
            ids = ds.ids[: plan.limit] if plan.limit else ds.ids
            for seed in range(plan.click_seeds):
                for index, sid in enumerate(ids):
                    record = SampleRecord(info.name, info.weights, ds.name, ds.fingerprint, sid, protocol.hash,
                                          info.implementation, seed=seed)
                    if record.key in done:
                        outcome.counts["skipped"] += 1
                    else:
                        tasks.append(Task(len(tasks), key, d, index, dataclasses.asdict(record)))
    registrations, families = registrations_for(list(predictors))
    spec = WorkSpec(tuple(plan.methods), tuple(plan.datasets), str(plan.data_root) if plan.data_root else None,
                    protocol.to_dict(), str(plan.weights) if plan.weights else None, registrations,
                    plan.implementation, families, device, plan.save_masks)
    executor = make_executor(plan.executor, spec, plan.executor_options(), predictors)
    if not executor.measures_latency:
        predictors.clear()  # workers load their own copies
    pending: Pending = dict(Counter((t.record["method"], t.record["dataset"]) for t in tasks))
    progress(pending, None)
    records = executor.run(tasks)
    try:
        with store:
            for record in records:
                with _HoldInterrupt():
                    store.append(record)
                    done.add(record.key)
                    outcome.counts[record.status] += 1
                    if record.timed:
                        outcome.load = combine([outcome.load, LoadReading.from_dict(record.load)])
                    if record.error:
                        outcome.errors.append(f"{record.method} on {record.dataset} / {record.sample_id}: "
                                              f"{record.error}")
                progress(pending, record)
    finally:  # interrupted or failed: the executor stops its workers now
        close = getattr(records, "close", None)
        if close is not None:
            close()
