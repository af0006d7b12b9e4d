"""A benchmark run: every method on every dataset under one protocol, resumable.

Names are checked and datasets opened before any work starts, so a typo fails in a second rather
than after an hour. Each finished sample is appended to the store at once; samples whose key is
already stored are skipped, so re-running a command resumes it and changes nothing already done.
Progress is reported through a callback (``Progress``), so the library prints nothing itself.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import environment
from .adapters import METHODS, load_predictor
from .datasets import Dataset, open_dataset
from .device import resolve_device
from .executors import EXECUTORS, ExecutorOptions, make_executor
from .load import LoadReading, combine
from .protocol import Protocol
from .records import DATA_ERROR, METHOD_ERROR, SampleRecord
from .store import ResultStore
from .work import Task, WorkSpec, registrations_for


@dataclass(frozen=True)
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

    def executor_options(self) -> ExecutorOptions:
        return ExecutorOptions(self.workers, self.timeout, self.threads, self.ray_address, self.ray_cpus,
                               self.ray_gpus)


# Progress of a run: called with the number of samples to evaluate (before any), then once per
# finished record; the command line draws a bar, the library prints nothing.
Progress = Callable[[int, SampleRecord | None], None]


def no_progress(total: int, record: SampleRecord | None) -> None:
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_datasets(specs: tuple[str, ...], data_root: Path | None) -> list[Dataset]:
    return [open_dataset(spec, data_root) for spec in specs]


def run(plan: RunPlan, progress: Progress = no_progress, echo: Callable[[str], None] = print) -> RunOutcome:
    """Evaluate the plan into ``plan.out``; raises before any work on unknown names, layouts or devices."""
    for name in plan.methods:
        METHODS.entry(name)  # UnknownNameError with suggestions, before anything runs
    EXECUTORS.entry(plan.executor)
    device = resolve_device(plan.device)  # DeviceError naming the device
    datasets = open_datasets(plan.datasets, plan.data_root)
    if plan.threads is not None and plan.executor == "inline":
        environment.set_threads(plan.threads)
    store = ResultStore(plan.out)
    protocol = plan.protocol
    store.update_manifest(protocol=protocol.to_dict(), protocol_hash=protocol.hash,
                          run={"started": _now(), "argv": sys.argv, "methods": list(plan.methods),
                               "datasets": [d.name for d in datasets], "protocol": protocol.hash,
                               "limit": plan.limit, "executor": plan.executor, "workers": plan.workers,
                               "threads": plan.threads, "implementation": plan.implementation,
                               "device": device, "save_masks": plan.save_masks,
                               "environment": environment.capture()})
    for ds in datasets:
        store.update_manifest(dataset=ds.describe())
    done = store.keys()
    outcome = RunOutcome()
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
            for index, sid in enumerate(ids):
                record = SampleRecord(info.name, info.weights, ds.name, ds.fingerprint, sid, protocol.hash,
                                      info.implementation)
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
    progress(len(tasks), None)
    with store:
        for record in executor.run(tasks):
            store.append(record)
            done.add(record.key)
            outcome.counts[record.status] += 1
            if record.timed:
                outcome.load = combine([outcome.load, LoadReading.from_dict(record.load)])
            if record.error:
                outcome.errors.append(f"{record.method} on {record.dataset} / {record.sample_id}: {record.error}")
            progress(len(tasks), record)
    return outcome
