"""What every executor is given (``ExecutorOptions``) and what it offers (``Executor``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..records import SampleRecord
from .tasks import Task


@dataclass(frozen=True)
class ExecutorOptions:
    """How the samples are spread: workers, a per-sample time limit, threads per worker (None: 1 in
    the pool, the actor's CPUs on Ray; inline runs use this process's), and Ray's cluster and
    per-actor resources."""

    workers: int = 1
    timeout: float | None = None
    threads: int | None = None
    ray_address: str | None = None
    ray_cpus: float = 1.0
    ray_gpus: float = 0.0


class Executor(Protocol):
    """What every executor offers (``EXECUTORS`` maps names to implementations)."""

    name: str
    measures_latency: bool

    def run(self, tasks: Sequence[Task]) -> Iterator[SampleRecord]: ...
