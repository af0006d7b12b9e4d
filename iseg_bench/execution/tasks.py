"""The work of one sample, wherever it runs: what a worker needs (``WorkSpec``), one sample of one
method (``Task``), and the methods and datasets a worker keeps loaded while it evaluates tasks into
records (``Workbench``). The executors (``local.py``, ``ray_actors.py``) only decide where and
when this work runs.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..machine_load import LoadMonitor
from ..records import DATA_ERROR, METHOD_ERROR, SampleRecord


@dataclass(frozen=True)
class WorkSpec:
    """What a worker needs to rebuild methods and datasets on its side."""

    methods: tuple[str, ...]
    datasets: tuple[str, ...]
    data_root: str | None
    protocol: dict
    weights: str | None = None
    registrations: tuple[tuple, ...] = ()  # (name, target, summary, options) of the methods, for fresh processes
    implementation: str | None = None  # of the methods that offer several (None: their default)
    families: tuple = ()  # the methods' family declarations (plain data), for families registered at run time
    device: str = "cpu"  # where the methods compute (a worker may be given its own: ``with_device``)
    save_masks: bool = False  # records carry the mask after each click (``masks.encode``) to the store

    def with_device(self, device: str) -> WorkSpec:
        return dataclasses.replace(self, device=device)


STARTUP_LIMIT_S = 300.0  # a worker that cannot load its method and dataset in this time is stuck


def registrations_for(names: Sequence[str]) -> tuple[tuple, tuple]:
    """Registry entries of ``names`` and their families' declarations, so that workers in fresh
    processes know methods and families added at run time (or named by import path)."""
    from ..adapters import FAMILIES, METHODS, VARIANTS

    entries = [METHODS.entry(n) for n in names]
    variants = [dict(e.options).get("variant") for e in entries]
    families = {VARIANTS[v].family for v in variants if v in VARIANTS}
    return (tuple((e.name, e.target, e.summary, e.options) for e in entries),
            tuple(FAMILIES[f] for f in sorted(families)))


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
        from ..adapters import FAMILIES, METHODS, register_family
        from ..protocol import Protocol

        for family in spec.families:
            if family.name not in FAMILIES:
                register_family(family, "run time")
        for name, target, summary, options in spec.registrations:
            if name not in METHODS:
                METHODS.register(name, target, summary, options=dict(options), origin="run time")
        self.spec = spec
        self.protocol = Protocol.from_dict(spec.protocol)
        self.predictors = dict(predictors or {})
        self.devices = {name: p.describe().device for name, p in self.predictors.items()}
        self.datasets: dict[int, object] = {}

    def load(self, task: Task) -> tuple:
        """The dataset and predictor of ``task``, opened or built on first use and kept."""
        from ..adapters import load_predictor
        from ..datasets import open_dataset

        if task.dataset not in self.datasets:
            self.datasets[task.dataset] = open_dataset(self.spec.datasets[task.dataset], self.spec.data_root)
        if task.method not in self.predictors:
            predictor = load_predictor(task.method, self.spec.weights, self.spec.implementation, self.spec.device)
            self.predictors[task.method], self.devices[task.method] = predictor, predictor.describe().device
        return self.datasets[task.dataset], self.predictors[task.method]

    def evaluate(self, task: Task, timed: bool = True) -> SampleRecord:
        """Evaluate one task into its record (never raises for a bad sample or a failing method)."""
        from ..datasets import SampleError
        from ..evaluation import evaluate_sample
        from ..masks import encode as encode_masks

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
            out = evaluate_sample(predictor, sample.image, sample.gt, self.protocol, keep_masks=self.spec.save_masks,
                                  rng=sample_rng(self.protocol, record))
        if out.masks:
            record.masks = encode_masks(out.masks)
        record.status, record.error, record.device = out.status, out.error, self.devices[task.method]
        record.clicks, record.ious, record.phases = out.clicks, out.ious, out.phases
        record.per_click = out.per_click
        if timed:
            record.latency_s, record.setup_s, record.load = out.latency_s, out.setup_s, monitor.reading.to_dict()
        else:
            record.latency_s, record.setup_s, record.timed = [math.nan] * len(out.ious), math.nan, False
        return _finish(record)


def sample_rng(protocol, record: SampleRecord):
    """The click generator of ``record``'s sample under its seed (None for the robot)."""
    from ..click_strategies import click_rng

    return click_rng(record.seed, record.dataset, record.sample_id) if protocol.seeded else None


def _finish(record: SampleRecord) -> SampleRecord:
    from datetime import datetime, timezone

    record.finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def failed(task: Task, reason: str) -> SampleRecord:
    """The record of a sample whose worker crashed or timed out."""
    record = SampleRecord.from_dict(task.record)
    record.status, record.error, record.timed = METHOD_ERROR, reason, False
    return _finish(record)




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
