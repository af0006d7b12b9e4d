"""Not a break: a busy machine (a process spinning on every core while the tests run), which no test may fail on.

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; the spinners stop when pytest exits."""

import atexit
import os
import subprocess
import sys

_SPIN = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"
_spinners = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(os.cpu_count() or 1)]


def _stop() -> None:
    for spinner in _spinners:
        spinner.kill()
        spinner.wait()


atexit.register(_stop)
