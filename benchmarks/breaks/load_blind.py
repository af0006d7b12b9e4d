"""Deliberate break: the load monitor reports no foreign load.

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; it patches at import, no file changes."""

import iseg_bench.machine_load as l

_exit = l.LoadMonitor.__exit__
def __exit__(self, *exc):
    _exit(self, *exc)
    self.reading = l.LoadReading(self.reading.wall_s, self.reading.own_cpu_s, 0.0, self.reading.steal_s,
                                 self.reading.cpu_total_s, self.reading.loadavg_1m)
l.LoadMonitor.__exit__ = __exit__
