"""A benchmark run: every method on every dataset under one protocol, resumable.

Names are checked and datasets opened before any work starts, so a typo fails in a second rather
than after an hour. Each finished sample is appended to the store at once; samples whose key is
already stored are skipped, so re-running a command resumes it and changes nothing already done.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click

from . import environment
from .adapters import METHODS, load_predictor
from .datasets import Dataset, open_dataset
from .executors import Task, WorkSpec, make_executor, registrations_for
from .load import LoadReading, combine
from .protocol import Protocol
from .records import DATA_ERROR, METHOD_ERROR, SampleRecord
from .store import ResultStore


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


def run(plan: RunPlan, progress: bool = True, echo: Callable[[str], None] = print) -> RunOutcome:
    """Evaluate the plan into ``plan.out``; raises before any work on unknown names or layouts."""
    for name in plan.methods:
        METHODS.entry(name)  # UnknownNameError with suggestions, before anything runs
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
                               "environment": environment.capture()})
    for ds in datasets:
        store.update_manifest(dataset=ds.describe())
    done = store.keys()
    outcome = RunOutcome()
    predictors, tasks = {}, []
    for method in plan.methods:
        try:
            predictor = load_predictor(method, plan.weights, plan.implementation)
            info = predictor.describe()
        except Exception as exc:  # one method that cannot start must not stop the others
            outcome.not_loaded.append(f"{method}: {type(exc).__name__}: {exc}")
            continue
        predictors[info.name] = predictor
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
                    tasks.append(Task(len(tasks), info.name, d, index, dataclasses.asdict(record)))
    if plan.executor != "inline":
        predictors.clear()  # workers load their own copies
    spec = WorkSpec(tuple(plan.methods), tuple(plan.datasets), str(plan.data_root) if plan.data_root else None,
                    protocol.to_dict(), str(plan.weights) if plan.weights else None,
                    registrations_for(plan.methods) if plan.executor != "inline" else (), plan.implementation)
    executor = make_executor(plan.executor, spec, plan.workers, plan.timeout, predictors, plan.ray_address,
                             plan.ray_cpus, plan.ray_gpus, plan.threads)
    label = f"{len(tasks)} samples ({plan.executor}{'' if plan.executor == 'inline' else f', {plan.workers} workers'})"
    with store, click.progressbar(length=len(tasks), label=label, file=sys.stderr if progress else _Null(),
                                  show_pos=True, show_eta=True) as bar:
        for record in executor.run(tasks):
            store.append(record)
            done.add(record.key)
            outcome.counts[record.status] += 1
            if record.timed:
                outcome.load = combine([outcome.load, LoadReading.from_dict(record.load)])
            if record.error:
                outcome.errors.append(f"{record.method} on {record.dataset} / {record.sample_id}: {record.error}")
            bar.update(1)
    return outcome


class _Null:
    """A file that swallows progress output."""

    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
