"""One writer per results folder, with real processes: a second writer is refused (or waits with
--wait), readers take no lock, a lock left by a killed process blocks nobody, and a torn last line
is reported once and its sample evaluated again.

No test relies on timing: where two processes must overlap, the test holds the lock itself; where
two runs start at once, whatever the interleaving, every sample must be stored exactly once."""

from __future__ import annotations

import json
import os
import pickle
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import EXIT_BUSY, EXIT_OK, main
from iseg_bench.store import LOCK_FILE, ResultStore, StoreBusy

TESTS = Path(__file__).resolve().parent
TIMEOUT_S = 300  # generous: only a hung process reaches it


def run_cmd(out: Path, *extra: str, limit: int = 12) -> list[str]:
    return [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "disk,watershed", "--limit", str(limit),
            "--out", str(out), "--no-report", "--no-progress", *extra]


def raw_keys(out: Path) -> list[str]:
    """Every stored line's key, duplicates included (not through the deduplicating reader)."""
    return [json.loads(line)["key"] for path in (out / "records").rglob("*.jsonl")
            for line in path.read_text().splitlines()]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_second_writer_is_refused_naming_the_folder_and_the_holder(tmp_path):
    import numpy as np

    out, log = tmp_path / "res", tmp_path / "log.pkl"
    log.write_bytes(pickle.dumps([np.full(20, 0.5, np.float32)] * 30))  # 20 clicks each, one per Synthetic sample
    with ResultStore(out).writer_lock():
        proc = subprocess.run(run_cmd(out, limit=2), capture_output=True, text=True, timeout=TIMEOUT_S)
        imported = invoke("import-ious", str(log), "--method", "x-log", "--dataset", "Synthetic", "--protocol",
                          "neutral", "--out", str(out))
    assert proc.returncode == EXIT_BUSY, proc.stderr
    (said,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert said.startswith(f"error: results folder {out} is being written by pid {os.getpid()} on host "
                           f"{socket.gethostname()} since ")
    assert f"running: {shlex.join(sys.argv)}. " in said  # this test's own command
    assert said.endswith("One writer per results folder: wait for it to end, or add --wait to go on after it, or "
                         "use another folder.")
    assert not (out / "records").exists() and not (out / "manifest.json").exists()  # nothing written
    assert imported.exit_code == EXIT_BUSY and f"results folder {out} is being written" in imported.output
    assert (out / LOCK_FILE).read_text() == ""  # released: the file names nobody
    with ResultStore(out).writer_lock():  # and the lock is free again
        pass


def test_readers_take_no_lock(tmp_path):
    from iseg_bench import load_results

    out = tmp_path / "res"
    assert invoke("run", "--methods", "disk,watershed", "--limit", "3", "--out", str(out), "--no-progress",
                  "--no-report").exit_code == EXIT_OK
    with ResultStore(out).writer_lock():
        assert invoke("report", str(out)).exit_code == EXIT_OK
        assert invoke("compare", str(out), "disk", "watershed").exit_code == EXIT_OK
        assert len(load_results(out)) == 6
        with pytest.raises(StoreBusy):  # while a writer is refused
            with ResultStore(out).writer_lock():
                pass


def test_a_holder_that_has_not_written_its_name_is_reported_unnamed(tmp_path, monkeypatch):
    """A holder names itself just after locking; one that never does is still refused, said unnamed."""
    import fcntl

    from iseg_bench import store

    monkeypatch.setattr(store, "HOLDER_NAME_WAIT_S", 0.05)
    out = tmp_path / "res"
    out.mkdir()
    with open(out / LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # locked, nothing written
        with pytest.raises(StoreBusy, match="which has not yet written who it is") as busy:
            with ResultStore(out).writer_lock():
                pass
    assert busy.value.holder == {} and busy.value.root == out


def _kill_after(proc: subprocess.Popen, seconds: float) -> threading.Timer:
    """A guard: a process still running after ``seconds`` is killed (the test then fails, not hangs)."""
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    return timer


def test_wait_waits_for_the_holder_then_skips_what_it_stored(tmp_path):
    reference, out = tmp_path / "reference", tmp_path / "res"
    subprocess.run(run_cmd(reference), check=True, capture_output=True, timeout=TIMEOUT_S)
    with ResultStore(out).writer_lock():
        proc = subprocess.Popen(run_cmd(out, "--wait"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        guard = _kill_after(proc, TIMEOUT_S)
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # until it says it waits (or ends, and the assertion below fails)
            lines.append(line)
            if line.startswith("waiting:"):
                break
        assert lines and lines[-1].startswith(f"waiting: results folder {out} is being written by pid {os.getpid()}")
        shutil.copytree(reference / "records", out / "records")  # meanwhile the holder stores every sample
        shutil.copy(reference / "manifest.json", out / "manifest.json")
    rest = proc.stderr.read()
    proc.wait()
    guard.cancel()
    assert proc.returncode == EXIT_OK, rest
    assert "waiting:" not in rest  # said once
    assert "0 samples evaluated (0 failed), 24 already in" in rest
    keys = raw_keys(out)
    assert len(keys) == len(set(keys)) == 24


@pytest.mark.parametrize("extra", [[], ["--wait"], ["--workers", "2"], ["--executor", "ray", "--workers", "2"]],
                         ids=["refuse", "wait", "pool", "ray"])
def test_two_runs_at_once_store_every_sample_exactly_once(tmp_path, extra):
    """Whatever the interleaving, and wherever the samples run: only the run process writes, once."""
    if "ray" in extra:
        pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'iseg-bench[ray]'")
    out = tmp_path / "res"
    procs = [subprocess.Popen(run_cmd(out, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=TIMEOUT_S), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    if "--wait" in extra:
        assert codes == [EXIT_OK, EXIT_OK], results
    else:  # whichever starts second is refused, unless the first had already finished
        assert codes in ([EXIT_OK, EXIT_OK], [EXIT_OK, EXIT_BUSY]), results
    for code, stderr in results:
        if code == EXIT_BUSY:
            assert f"error: results folder {out} is being written by pid " in stderr and "--wait" in stderr
    keys = raw_keys(out)
    assert len(keys) == len(set(keys)) == 24  # every sample once, none twice


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    out = tmp_path / "res"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from iseg_bench.store import ResultStore\n"
                               "with ResultStore(sys.argv[1]).writer_lock():\n"
                               "    print('held', flush=True); time.sleep(600)", str(out)],
        stdout=subprocess.PIPE, text=True)
    guard = _kill_after(holder, TIMEOUT_S)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    refused = subprocess.run(run_cmd(out, limit=2), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert refused.returncode == EXIT_BUSY and f"pid {holder.pid}" in refused.stderr
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    guard.cancel()
    assert json.loads((out / LOCK_FILE).read_text())["pid"] == holder.pid  # the dead holder's file is still there
    proc = subprocess.run(run_cmd(out, limit=2), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert len(set(raw_keys(out))) == len(raw_keys(out)) == 4


def test_pool_workers_do_not_hold_the_lock_of_a_killed_run(tmp_path):
    """Only the parent holds the lock: SIGKILL it while its workers still evaluate, and the folder is
    writable at once (a worker that had inherited the lock would keep it until it exits)."""
    out = tmp_path / "res"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "helpers:SlowClicks", "--limit", "10",
               "--out", str(out), "--no-report", "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    records = out / "records" / "slow-clicks" / "Synthetic.jsonl"
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not (records.exists() and records.read_text().count("\n") >= 1):
            assert time.monotonic() < deadline and proc.poll() is None, "the run stored nothing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # the parent only; its workers are still running samples
        proc.wait()
        with ResultStore(out).writer_lock():
            pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_torn_last_line_is_reported_once_and_its_sample_evaluated_again(tmp_path):
    out = tmp_path / "res"
    command = [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "disk", "--limit", "4", "--out", str(out),
               "--no-progress"]  # with the report: the store is read several times
    subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S)
    path = out / "records" / "disk" / "Synthetic.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:50])  # power lost while the 4th record was appended
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stderr.count("half-written") == 1, proc.stderr
    assert f"{path}:4: half-written last record" in proc.stderr and "evaluated again" in proc.stderr
    assert "1 samples evaluated (0 failed), 3 already in" in proc.stderr
    stored = path.read_text().splitlines(keepends=True)
    assert stored[:3] == lines[:3] and json.loads(stored[3])["key"] == json.loads(lines[3])["key"]  # whole again
    assert len(raw_keys(out)) == len(set(raw_keys(out))) == 4
