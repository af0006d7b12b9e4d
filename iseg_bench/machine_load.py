"""How busy the machine was while something was timed.

A latency measured while other processes compete for the cores (or while the hypervisor steals
them) is not the method's latency. ``LoadMonitor`` reads the system's CPU counters and this
process's own CPU time around a timed region; the difference is other processes' CPU use. Readings
add up (sums of seconds), so a run's load is the sum over its samples, and ``is_busy`` flags it.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

import psutil

BUSY_FOREIGN_CORES = 0.25  # other processes using a quarter of a core on average
BUSY_STEAL_SHARE = 0.05  # the hypervisor taking 5 % of the CPU time
MIN_JUDGED_WALL_S = 2.0  # the system's counters tick every 10 ms: shorter regions are not judged


@dataclass(frozen=True)
class LoadReading:
    """CPU use during a timed region, in seconds (``foreign`` = other processes, summed over cores)."""

    wall_s: float = 0.0
    own_cpu_s: float = 0.0
    foreign_cpu_s: float = 0.0
    steal_s: float = 0.0
    cpu_total_s: float = 0.0  # every core's time (busy, idle and stolen) during the region
    loadavg_1m: float = float("nan")  # the 1-minute load average at the end

    @property
    def foreign_cores(self) -> float:
        """Other processes' CPU use, in cores, averaged over the region."""
        return self.foreign_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def steal_share(self) -> float:
        return self.steal_s / self.cpu_total_s if self.cpu_total_s > 0 else 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> LoadReading:
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})


def combine(readings) -> LoadReading:
    """One reading for several regions (sums; the last load average)."""
    readings = [r for r in readings if r.wall_s > 0]
    if not readings:
        return LoadReading()
    sums = {f: sum(getattr(r, f) for r in readings)
            for f in ("wall_s", "own_cpu_s", "foreign_cpu_s", "steal_s", "cpu_total_s")}
    return LoadReading(**sums, loadavg_1m=readings[-1].loadavg_1m)


def is_busy(reading: LoadReading) -> bool:
    """Other processes or the hypervisor took enough CPU to distort latencies (regions of at least
    ``MIN_JUDGED_WALL_S`` in all; shorter ones are within the counters' resolution)."""
    if reading.wall_s < MIN_JUDGED_WALL_S:
        return False
    return reading.foreign_cores > BUSY_FOREIGN_CORES or reading.steal_share > BUSY_STEAL_SHARE


def describe(reading: LoadReading) -> str:
    """One line: other processes' load and steal, and whether that makes latencies unreliable."""
    if reading.wall_s <= 0:
        return "machine load: not recorded"
    if reading.wall_s < MIN_JUDGED_WALL_S:
        return (f"machine load: not judged ({reading.wall_s:.2f} s of timed work, below the "
                f"{MIN_JUDGED_WALL_S:g} s the system's CPU counters resolve)")
    text = (f"machine load while timing: other processes used {reading.foreign_cores:.2f} cores on average, "
            f"hypervisor steal {100 * reading.steal_share:.1f} %, 1-min load average {reading.loadavg_1m:.2f}")
    if is_busy(reading):
        return (f"WARNING: the machine was busy ({text}; limits {BUSY_FOREIGN_CORES:g} cores, "
                f"{100 * BUSY_STEAL_SHARE:g} % steal): latencies are unreliable, re-measure on a quiet machine")
    return f"{text}: quiet (limits {BUSY_FOREIGN_CORES:g} cores, {100 * BUSY_STEAL_SHARE:g} % steal)"


def _system_seconds() -> tuple[float, float, float]:
    """(busy, steal, total) CPU seconds of all cores since boot."""
    t = psutil.cpu_times()
    steal = getattr(t, "steal", 0.0)
    idle = t.idle + getattr(t, "iowait", 0.0)
    busy = t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
    return busy, steal, busy + idle + steal


class LoadMonitor:
    """``with LoadMonitor() as m: ...`` then ``m.reading``: the load during the block."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.reading = LoadReading()

    def _own(self) -> float:
        """This process's CPU time (all threads, exact) and its finished children's."""
        t = self.process.cpu_times()
        return time.process_time() + t.children_user + t.children_system

    def __enter__(self) -> LoadMonitor:
        self.start = (time.perf_counter(), self._own(), *_system_seconds())
        return self

    def __exit__(self, *exc) -> None:
        wall0, own0, busy0, steal0, total0 = self.start
        wall, own = time.perf_counter() - wall0, self._own() - own0
        busy, steal, total = (now - before for now, before in zip(_system_seconds(), (busy0, steal0, total0)))
        self.reading = LoadReading(wall, own, max(0.0, busy - own), steal, total,
                                   os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
