"""Where samples are evaluated: in this process, in a pool of local processes, or on Ray.

Executors are interchangeable implementations of one interface, registered by name in
``EXECUTORS``: built from the work spec, the ``ExecutorOptions`` and (inline only) predictors
already loaded, their ``run(tasks)`` evaluates tasks of one sample each (``tasks.Workbench``) and
yields the finished records in any order; the runner appends them to the store as they arrive, so
the results, and a resumed run, are identical whatever executed them. The parallel executors give
each sample a time limit and survive a worker that crashes or hangs: that sample is recorded as a
method error with the reason, the worker is replaced, the run goes on. The time limit counts the
sample's evaluation only: loading a method or dataset in a fresh worker has its own, generous
limit. Latency is not measured in parallel runs (workers share the machine): their records carry
``timed = False`` and no latencies. Ctrl-C is the parent's to handle: pool workers ignore SIGINT, and
an interrupted ``run`` stops its workers at once (the samples they held are not stored, so a resumed
run evaluates them).
"""

from __future__ import annotations

from ..registry import Registry
from .interface import Executor, ExecutorOptions
from .tasks import WorkSpec

__all__ = ["EXECUTORS", "Executor", "ExecutorOptions", "make_executor"]

EXECUTORS: Registry[type] = Registry("executor")
EXECUTORS.register("inline", "iseg_bench.execution.local:InlineExecutor",
                   "this process, one sample at a time; measures latency")
EXECUTORS.register("process", "iseg_bench.execution.local:ProcessExecutor", "a pool of local worker processes")
EXECUTORS.register("ray", "iseg_bench.execution.ray_actors:RayExecutor",
                   "Ray actors, one method each (pip install 'iseg-bench[ray]')")


def make_executor(kind: str, spec: WorkSpec, options: ExecutorOptions, predictors: dict | None = None) -> Executor:
    """The executor registered as ``kind`` (``EXECUTORS``), ready to run tasks."""
    return EXECUTORS.get(kind)(spec, options, predictors)
