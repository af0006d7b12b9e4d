"""Machine load while timing: other processes' CPU use is measured, recorded and flagged."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.machine_load import LoadMonitor, LoadReading, combine, describe, is_busy
from iseg_bench.store import ResultStore

SPIN = [sys.executable, "-c", "import time\nend = time.time() + 60\nwhile time.time() < end: pass"]


def test_another_process_spinning_is_seen_as_foreign_load():
    """What the spinner burns while the monitor watches is counted as foreign, whatever else the machine
    runs (the machine need not be idle: the spinner's own CPU time, read from the kernel, is the floor)."""
    spinner = subprocess.Popen(SPIN)
    try:
        spin = psutil.Process(spinner.pid)
        time.sleep(0.3)  # let it start
        before = sum(spin.cpu_times()[:2])
        with LoadMonitor() as monitor:
            time.sleep(2.5)
        spun = sum(spin.cpu_times()[:2]) - before
    finally:
        spinner.kill()
        spinner.wait()
    reading = monitor.reading
    assert spun > 0.5  # it ran: at least a fifth of a core even on a saturated machine
    assert reading.foreign_cpu_s >= 0.9 * spun  # the counters tick every 10 ms: allow a little rounding
    assert reading.own_cpu_s < 0.3 and is_busy(reading)
    assert describe(reading).startswith("WARNING: the machine was busy")


def test_readings_add_up_and_the_limits_decide():
    quiet = LoadReading(wall_s=2.0, own_cpu_s=1.9, foreign_cpu_s=0.1, steal_s=0.0, cpu_total_s=4.0, loadavg_1m=1.0)
    stolen = LoadReading(wall_s=3.0, own_cpu_s=3.0, foreign_cpu_s=0.0, steal_s=1.2, cpu_total_s=6.0, loadavg_1m=1.2)
    assert not is_busy(quiet) and "quiet" in describe(quiet)
    short = LoadReading(wall_s=0.5, own_cpu_s=0.1, foreign_cpu_s=0.4, cpu_total_s=1.0)
    assert not is_busy(short) and "not judged" in describe(short)
    assert is_busy(stolen) and stolen.steal_share == pytest.approx(0.2)
    both = combine([quiet, stolen, LoadReading()])
    assert both.wall_s == 5.0 and both.foreign_cpu_s == 0.1 and both.steal_s == 1.2 and both.loadavg_1m == 1.2
    assert LoadReading.from_dict(both.to_dict()) == both
    assert describe(LoadReading()) == "machine load: not recorded"


def test_a_run_on_a_busy_machine_says_so_in_its_tables(tmp_path):
    out = tmp_path / "res"
    spinner = subprocess.Popen(SPIN)
    try:
        time.sleep(0.3)
        r = CliRunner().invoke(main, ["run", "--methods", "grabcut", "--limit", "8", "--out", str(out),
                                      "--threads", "1"])
    finally:
        spinner.kill()
        spinner.wait()
    assert r.exit_code == 0, r.output
    assert "WARNING: the machine was busy" in r.output and "for orientation" in r.output
    records = list(ResultStore(out).load())
    assert all(rec.load["wall_s"] > 0 for rec in records)
    table = (out / "report" / "results.md").read_text()
    assert "WARNING: times of grabcut on Synthetic were measured while other processes loaded the machine" in table
