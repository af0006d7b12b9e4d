"""Peak memory of a long run must not grow with the number of samples.

Runs ``iseg-bench run`` in a child process and samples its resident set size (RSS) every 0.1 s,
together with the number of records written so far. Reports RSS after 10 % / 25 % / 50 % / 75 % /
100 % of the samples and the growth over the second half of the run (MB per 100 samples).

    python benchmarks/memory_growth.py --methods emc-hrnet18s --datasets GrabCut,Berkeley \
        --data-root ../shared/datasets
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil


def count_records(out: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in (out / "records").rglob("*.jsonl")) if (out / "records").exists() else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="emc-hrnet18s")
    ap.add_argument("--datasets", default="Synthetic")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--protocol", default="neutral-curves", help="neutral-curves: every sample runs 20 clicks")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "res"
        cmd = [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", args.methods, "--datasets", args.datasets,
               "--protocol", args.protocol, "--out", str(out), "--no-report", "--no-progress"]
        if args.data_root:
            cmd += ["--data-root", args.data_root]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        child = psutil.Process(proc.pid)
        trace = []  # (records, rss MB)
        start = time.time()
        while proc.poll() is None:
            try:
                rss = child.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                break
            trace.append((count_records(out), rss))
            time.sleep(0.1)
        total = count_records(out)
    elapsed = time.time() - start
    records = np.array([t[0] for t in trace])
    rss = np.array([t[1] for t in trace])
    print(f"{args.methods} on {args.datasets}: {total} samples in {elapsed:.0f} s, exit code {proc.returncode}")
    peak_so_far = np.maximum.accumulate(rss)
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        idx = np.searchsorted(records, max(1, int(frac * total)))
        idx = min(idx, len(rss) - 1)
        print(f"  after {int(frac * 100):3d} % of the samples ({records[idx]:4d}): RSS {rss[idx]:7.1f} MB, "
              f"peak so far {peak_so_far[idx]:7.1f} MB")
    half = records >= total / 2
    if half.sum() > 2 and np.ptp(records[half]) > 0:
        slope = np.polyfit(records[half], rss[half], 1)[0] * 100
        print(f"  growth over the second half: {slope:+.2f} MB per 100 samples (peak {rss.max():.1f} MB)")


if __name__ == "__main__":
    main()
