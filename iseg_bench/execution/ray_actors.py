"""Ray executor: one actor per method keeps its weights loaded; results stream back as they finish.

Ray is an optional extra (``pip install 'iseg-bench[ray]'``). ``--address`` joins a running cluster
(``auto`` or ``ray://host:port``); without it a local Ray instance is started. Each actor asks for
``num_cpus`` / ``num_gpus``; an actor given GPUs computes its method on its GPU (Ray sets the GPUs it
may see, so ``cuda`` is the actor's own). A sample that exceeds the time limit (counted from when its actor
begins it, after loading the method and dataset), or whose actor dies, is recorded as a method
error and the actor is replaced.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

from ..device import DeviceError, device_type
from ..records import SampleRecord
from .interface import ExecutorOptions
from .tasks import Task, Workbench, WorkSpec, failed, overdue


class _MethodWorker:
    """The actor body: a Workbench that evaluates tasks of its method."""

    def __init__(self, spec: WorkSpec, threads: int) -> None:
        from ..environment import set_threads

        set_threads(threads)
        self.bench = Workbench(spec)

    def load(self, task: Task) -> None:
        self.bench.load(task)

    def evaluate(self, task: Task) -> dict:
        return asdict(self.bench.evaluate(task, timed=False))


@dataclass
class _Running:
    """A sample handed to an actor: ``started`` stays None until the actor has loaded its method."""

    method: str
    actor: object
    task: Task
    loaded: object  # the ref of the actor's load call
    fed: float
    started: float | None = None


class RayExecutor:
    """``workers`` Ray actors at a time, each keeping one method loaded."""

    name = "ray"
    measures_latency = False

    def __init__(self, spec: WorkSpec, options: ExecutorOptions, predictors: dict | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError("the ray executor needs Ray: pip install 'iseg-bench[ray]'") from None
        self.ray = ray
        self.workers, self.timeout = max(1, options.workers), options.timeout
        num_cpus, num_gpus, address = options.ray_cpus, options.ray_gpus, options.ray_address
        self.num_cpus, self.num_gpus = num_cpus, num_gpus
        if num_gpus <= 0 and device_type(spec.device) == "cuda":
            raise DeviceError(f"--device {spec.device} on Ray needs GPUs for the actors: pass --ray-gpus (e.g. 1)")
        self.spec = spec.with_device("cuda") if num_gpus > 0 else spec
        self.threads = options.threads or max(1, int(num_cpus))
        if not ray.is_initialized():
            if address:
                ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
            else:  # a local instance: its workers see this process's import path (run-time registered methods)
                path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
                ray.init(num_cpus=max(self.workers, int(num_cpus * self.workers)), include_dashboard=False,
                         ignore_reinit_error=True, log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path}})
        self.actor_class = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0)(_MethodWorker)

    def _actor(self):
        return self.actor_class.remote(self.spec, self.threads)

    def run(self, tasks: Sequence[Task]) -> Iterator[SampleRecord]:
        """``workers`` actors at a time; an actor whose method has no work left makes room for the
        method with the most samples still waiting."""
        ray = self.ray
        queues: dict[str, list[Task]] = {}
        for task in tasks:
            queues.setdefault(task.method, []).append(task)
        running: dict[object, _Running] = {}  # by the ref of the evaluate call
        live: list = []

        def busiest() -> str | None:
            waiting = {m: len(q) for m, q in queues.items() if q}
            return max(waiting, key=lambda m: waiting[m]) if waiting else None

        def submit(method: str, actor) -> None:
            task = queues[method].pop(0)
            loaded = actor.load.remote(task)  # an actor runs its calls in order: evaluate begins when this returns
            running[actor.evaluate.remote(task)] = _Running(method, actor, task, loaded, time.monotonic())

        def refill(method: str | None, actor) -> None:
            """Keep ``actor`` busy on its method, or replace it by one for the busiest method."""
            if method is not None and actor is not None and queues[method]:
                submit(method, actor)
                return
            if actor is not None:
                ray.kill(actor)
                live.remove(actor)
            nxt = busiest()
            if nxt is not None:
                fresh = self._actor()
                live.append(fresh)
                submit(nxt, fresh)

        for _ in range(self.workers):
            refill(None, None)
        try:
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in ready:
                    job = running.pop(ref)
                    method, actor, task = job.method, job.actor, job.task
                    try:
                        yield SampleRecord.from_dict(ray.get(ref))
                    except ray.exceptions.RayActorError as exc:
                        yield failed(task, f"Ray actor died while evaluating this sample: {str(exc).splitlines()[0]}")
                        live.remove(actor)
                        actor = None
                    except ray.exceptions.RayTaskError as exc:
                        yield failed(task, f"Ray task failed: {str(exc).splitlines()[0]}")
                    refill(method, actor)
                for ref, job in list(running.items()):
                    if job.started is None and ray.wait([job.loaded], timeout=0)[0]:
                        job.started = time.monotonic()
                    reason = overdue(job.fed, job.started, self.timeout, "Ray actor")
                    if reason:
                        running.pop(ref)
                        yield failed(job.task, reason)
                        refill(None, job.actor)
        finally:
            for actor in live:
                ray.kill(actor)
