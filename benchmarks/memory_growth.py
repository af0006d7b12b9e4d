"""Peak memory of a long run must not grow with the number of samples.

Runs ``iseg-bench run`` in a child process and samples its resident set size (RSS) every 0.1 s,
together with the number of records written so far. Reports RSS after 10 % / 25 % / 50 % / 75 % /
100 % of the samples and the growth over the second half of the run (MB per 100 samples).

    python benchmarks/memory_growth.py --methods emc-hrnet18s --datasets GrabCut,Berkeley \
        --data-root ../shared/datasets [--out reports/efficiency]
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
from report_files import REPO, write_report

SAMPLE_EVERY_S = 0.1


def count_records(out: Path) -> int:
    """Records written so far: one JSON line per finished sample."""
    return (sum(p.read_bytes().count(b"\n") for p in (out / "records").rglob("*.jsonl"))
            if (out / "records").exists() else 0)


def checkpoints(records: np.ndarray, rss: np.ndarray, total: int) -> list[dict]:
    """RSS and peak RSS so far at the first trace point after 10/25/50/75/100 % of the samples."""
    peak_so_far = np.maximum.accumulate(rss)
    out = []
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        idx = np.searchsorted(records, max(1, int(frac * total)))
        idx = min(idx, len(rss) - 1)
        out.append({"pct_of_samples": int(frac * 100), "samples": int(records[idx]), "rss_mb": float(rss[idx]),
                    "peak_so_far_mb": float(peak_so_far[idx])})
    return out


def second_half_slope(records: np.ndarray, rss: np.ndarray, total: int) -> float | None:
    """Least-squares RSS growth over the second half of the run, in MB per 100 samples (None: too few points)."""
    half = records >= total / 2
    if half.sum() > 2 and np.ptp(records[half]) > 0:
        return float(np.polyfit(records[half], rss[half], 1)[0] * 100)
    return None


def markdown(r: dict) -> str:
    """The results as a short Markdown section; every number names its unit."""
    rows = "\n".join(f"| {c['pct_of_samples']} % | {c['samples']} | {c['rss_mb']:.1f} | {c['peak_so_far_mb']:.1f} |"
                      for c in r["checkpoints"])
    slope = ("not computed (fewer than 3 trace points in the second half)" if r["slope_mb_per_100_samples"] is None
             else f"{r['slope_mb_per_100_samples']:+.2f} MB per 100 samples")
    return (f"`{r['methods']}` on `{r['datasets']}`, protocol `{r['protocol']}`: {r['samples']} samples in "
            f"{r['elapsed_s']:.0f} s, exit code {r['exit_code']}; RSS sampled every {SAMPLE_EVERY_S} s "
            f"({r['trace_points']} trace points).\n\n"
            f"| after | samples written | RSS (MB) | peak RSS so far (MB) |\n|---|---|---|---|\n{rows}\n\n"
            f"Growth over the second half: {slope}; peak RSS {r['peak_rss_mb']:.1f} MB.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="emc-hrnet18s")
    ap.add_argument("--datasets", default="Synthetic")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--protocol", default="neutral-curves", help="neutral-curves: every sample runs 20 clicks")
    ap.add_argument("--out", default=str(REPO / "reports" / "efficiency"), help="folder for memory_growth.json/.md")
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
            time.sleep(SAMPLE_EVERY_S)
        total = count_records(out)
    elapsed = time.time() - start
    records = np.array([t[0] for t in trace])
    rss = np.array([t[1] for t in trace])
    results = {
        "methods": args.methods, "datasets": args.datasets, "protocol": args.protocol, "data_root": args.data_root,
        "samples": total, "elapsed_s": elapsed, "exit_code": proc.returncode, "trace_points": len(trace),
        "checkpoints": checkpoints(records, rss, total), "peak_rss_mb": float(rss.max()),
        "slope_mb_per_100_samples": second_half_slope(records, rss, total),
    }
    print(f"{args.methods} on {args.datasets}: {total} samples in {elapsed:.0f} s, exit code {proc.returncode}")
    for c in results["checkpoints"]:
        print(f"  after {c['pct_of_samples']:3d} % of the samples ({c['samples']:4d}): RSS {c['rss_mb']:7.1f} MB, "
              f"peak so far {c['peak_so_far_mb']:7.1f} MB")
    if results["slope_mb_per_100_samples"] is not None:
        print(f"  growth over the second half: {results['slope_mb_per_100_samples']:+.2f} MB per 100 samples "
              f"(peak {results['peak_rss_mb']:.1f} MB)")
    path = write_report(args.out, "memory_growth", results, markdown(results), sys.argv)
    print(f"wrote {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
