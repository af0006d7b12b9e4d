"""Executors (inline, process pool, Ray), faults (crash, hang, SIGKILL) and safe archive extraction."""

from __future__ import annotations

import io
import json
import math
import random
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from iseg_bench.cli import main
from iseg_bench.datasets import DatasetError
from iseg_bench.datasets.download import safe_extract
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.metrics import noc
from iseg_bench.protocol import Protocol
from iseg_bench.store import ResultStore


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ious_by_key(out: Path) -> dict[str, list[float]]:
    return {r.key: r.ious for r in ResultStore(out).load()}


def test_process_pool_gives_the_inline_results_bit_for_bit(tmp_path):
    inline, pool = tmp_path / "inline", tmp_path / "pool"
    assert invoke("run", "--methods", "watershed,disk", "--limit", "6", "--out", str(inline)).exit_code == 0
    r = invoke("run", "--methods", "watershed,disk", "--limit", "6", "--out", str(pool), "--workers", "2")
    assert r.exit_code == 0, r.output
    assert ious_by_key(inline) == ious_by_key(pool)
    records = ResultStore(pool).load()
    assert all(not rec.timed and all(math.isnan(x) for x in rec.latency_s) for rec in records)
    assert "Times not measured" in (pool / "report" / "table3.md").read_text()
    summary = json.loads((pool / "report" / "summary.json").read_text())["results"]
    assert all(math.isnan(row["spc_s"]) for row in summary)


def test_resuming_with_another_executor_changes_nothing(tmp_path):
    reference, mixed = tmp_path / "reference", tmp_path / "mixed"
    invoke("run", "--methods", "watershed", "--limit", "6", "--out", str(reference))
    invoke("run", "--methods", "watershed", "--limit", "3", "--out", str(mixed), "--workers", "2")
    r = invoke("run", "--methods", "watershed", "--limit", "6", "--out", str(mixed))
    assert "3 already in" in r.output
    assert ious_by_key(reference) == ious_by_key(mixed)


@pytest.mark.parametrize("method, target, expected", [
    ("crashes", "helpers:CrashesOnTrigger", "worker process died (exit code 13)"),
    ("hangs", "helpers:HangsOnTrigger", "timed out after 3 s"),
])
def test_a_crashing_or_hanging_worker_costs_one_sample(tmp_path, register_method, method, target, expected):
    register_method(method, target)
    out = tmp_path / "res"
    r = invoke("run", "--methods", method, "--limit", "4", "--out", str(out), "--workers", "2", "--timeout", "3")
    assert r.exit_code == 3
    records = {rec.sample_id: rec for rec in ResultStore(out).load()}
    assert len(records) == 4
    assert expected in records["synth-001"].error and records["synth-001"].status == "method-error"
    assert all(rec.status == "ok" for sid, rec in records.items() if sid != "synth-001")


def test_a_serial_run_enforces_the_time_limit_too(tmp_path, register_method):
    register_method("hangs", "helpers:HangsOnTrigger")
    out = tmp_path / "res"
    started = time.monotonic()
    r = invoke("run", "--methods", "hangs", "--limit", "3", "--out", str(out), "--timeout", "2")
    assert r.exit_code == 3 and time.monotonic() - started < 60
    records = {rec.sample_id: rec for rec in ResultStore(out).load()}
    assert records["synth-001"].status == "method-error" and "timed out after 2 s" in records["synth-001"].error
    assert records["synth-000"].status == records["synth-002"].status == "ok"
    assert records["synth-000"].timed  # a serial run still measures latency


@pytest.mark.parametrize("executor", ["inline", "process", "ray"])
def test_loading_a_method_does_not_count_against_the_sample_time_limit(tmp_path, register_method, executor):
    if executor == "ray":
        pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'iseg-bench[ray]'")
    register_method("slow-to-load", "helpers:SlowToLoad")  # 4 s to build, 3 s allowed per sample
    out = tmp_path / "res"
    workers = ["--workers", "2"] if executor != "inline" else []
    r = invoke("run", "--methods", "slow-to-load", "--limit", "3", "--out", str(out), "--executor", executor,
               *workers, "--timeout", "3")
    assert r.exit_code == 0, r.output
    assert [rec.status for rec in ResultStore(out).load()] == ["ok"] * 3


def _run_cmd(out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "watershed,disk", "--limit", "12",
            "--out", str(out), "--no-report", "--no-progress", *extra]


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path, extra):
    out = tmp_path / "res"
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen(_run_cmd(out, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run(_run_cmd(out, extra), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = [line for p in (out / "records").rglob("*.jsonl") for line in p.read_text().splitlines()]
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == 24  # every sample once, none twice
    reference = tmp_path / "reference"
    subprocess.run(_run_cmd(reference, []), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert ious_by_key(out) == ious_by_key(reference)


TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("executor", ["inline", "process", "ray"])
def test_ctrl_c_keeps_every_stored_sample_says_so_once_and_resumes(tmp_path, executor):
    """Ctrl-C in a terminal reaches the whole process group (the run and its workers): the run ends
    with exit code 130 and one line saying how many samples it stored, no worker traceback, every
    stored record intact, no process left; the same command then resumes after them."""
    import os
    import re

    if executor == "ray":
        pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'iseg-bench[ray]'")
    out, limit = tmp_path / "res", 10
    command = [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "helpers:SlowClicks", "--limit",
               str(limit), "--out", str(out), "--no-report", "--executor", executor,
               *(["--workers", "2"] if executor != "inline" else [])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    records = out / "records" / "slow-clicks" / "Synthetic.jsonl"
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, as a terminal's foreground job
    deadline = time.time() + 120
    while time.time() < deadline and not (records.exists() and records.read_text().count("\n") >= 1):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    said = re.findall(r"^interrupted: (\d+) samples? stored in this run .*re-running the same command resumes",
                      stderr, re.M)
    assert len(said) == 1 and stderr.count("interrupted") == 1, stderr
    lines = records.read_text().splitlines(keepends=True)
    kept = [json.loads(line) for line in lines]  # every line whole
    assert all(line.endswith("\n") for line in lines) and 1 <= len(kept) == int(said[0]) < limit
    while time.time() < deadline:  # the workers are gone with the run
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the interrupted run are still alive")
    resumed = subprocess.run(command, capture_output=True, text=True, env=dict(env, ISEG_TEST_CLICK_S="0"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{limit - len(kept)} samples evaluated (0 failed), {len(kept)} already in" in resumed.stderr
    keys = [r.key for r in ResultStore(out).load()]
    assert len(keys) == len(set(keys)) == limit and {r["key"] for r in kept} <= set(keys)


def test_ray_executor_matches_inline(tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'iseg-bench[ray]'")
    inline, ray_out = tmp_path / "inline", tmp_path / "ray"
    invoke("run", "--methods", "watershed,disk", "--limit", "4", "--out", str(inline))
    r = invoke("run", "--methods", "watershed,disk", "--limit", "4", "--out", str(ray_out), "--executor", "ray",
               "--workers", "2")
    assert r.exit_code == 0, r.output
    assert ious_by_key(inline) == ious_by_key(ray_out)


@pytest.mark.parametrize("method, target, expected", [
    ("crashes", "helpers:CrashesOnTrigger", "Ray actor died"),
    ("hangs", "helpers:HangsOnTrigger", "timed out after 3 s"),
])
def test_ray_survives_crashing_and_hanging_actors(tmp_path, register_method, method, target, expected):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'iseg-bench[ray]'")
    register_method(method, target)
    out = tmp_path / "res"
    r = invoke("run", "--methods", method, "--limit", "3", "--out", str(out), "--executor", "ray", "--workers", "2",
               "--timeout", "3")
    assert r.exit_code == 3, r.output
    records = {rec.sample_id: rec for rec in ResultStore(out).load()}
    assert len(records) == 3 and expected in records["synth-001"].error
    assert records["synth-000"].status == records["synth-002"].status == "ok"


# --- archives -----------------------------------------------------------------------------------

def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_safe_extract_unpacks_a_clean_archive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"GrabCut/data_GT/x.jpg": b"1", "GrabCut/boundary_GT/x.bmp": b"2"})
    entries = safe_extract(archive, tmp_path / "root")
    assert entries == [tmp_path / "root" / "GrabCut"]
    assert (tmp_path / "root" / "GrabCut" / "data_GT" / "x.jpg").read_bytes() == b"1"
    assert not list((tmp_path / "root").glob(".unpacking-*"))


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "ok/../../evil.txt", "C:/evil.txt", "bad\nname.txt"])
def test_path_traversal_and_hostile_names_are_refused_before_writing(tmp_path, name):
    archive = make_zip(tmp_path / "a.zip", {"fine.txt": b"1", name: b"x"})
    with pytest.raises(DatasetError, match="refusing to unpack"):
        safe_extract(archive, tmp_path / "root")
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "root" / "fine.txt").exists()  # nothing is written when one member is bad


def test_tar_links_are_refused(tmp_path):
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tf:
        link = tarfile.TarInfo("data/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        body = tarfile.TarInfo("data/file.txt")
        body.size = 1
        tf.addfile(body, io.BytesIO(b"1"))
    with pytest.raises(DatasetError, match="link or special file"):
        safe_extract(archive, tmp_path / "root")


def test_download_command_checks_the_checksum(tmp_path):
    archive = make_zip(tmp_path / "Berkeley.zip", {"Berkeley/images/a.jpg": b"1", "Berkeley/masks/a.png": b"2"})
    r = CliRunner().invoke(main, ["download", "Berkeley", "--to", str(tmp_path / "root"), "--archive", str(archive),
                                  "--sha256", "0" * 64])
    assert r.exit_code == 2 and "does not match" in r.output and not (tmp_path / "root" / "Berkeley").exists()
    r = CliRunner().invoke(main, ["download", "Berkeley", "--to", str(tmp_path / "root"), "--archive", str(archive)])
    assert r.exit_code == 0 and (tmp_path / "root" / "Berkeley" / "masks" / "a.png").exists()


def test_hostile_file_names_in_a_dataset_are_handled(tmp_path):
    import cv2

    root = tmp_path / "weird"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    names = ["new\nline", "ünïcödé", "a" * 200, "spaces and ;$(rm -rf)"]
    for n in names:
        img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
        mask = np.zeros((20, 30), np.uint8)
        mask[5:15, 5:20] = 255
        cv2.imwrite(str(root / "images" / f"{n}.png"), img)
        cv2.imwrite(str(root / "masks" / f"{n}.png"), mask)
    out = tmp_path / "res"
    r = invoke("run", "--methods", "disk", "--datasets", f"custom:{root}", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(rec.sample_id for rec in ResultStore(out).load()) == sorted(names)


# --- fuzzing the clicker and metrics through the loop ----------------------------------------------

class RandomMasks:
    """A method that answers random masks (seeded), to drive the loop through odd states."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self):
        pass

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, clicks, prev_mask):
        return (self.rng.random(self.shape) < self.rng.random()).astype(np.float32)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["random", "empty", "full", "one", "void"]))
@example(seed=0, kind="void")
@example(seed=1, kind="one")
def test_fuzz_loop_invariants(seed, kind):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 24)), int(rng.integers(1, 24))
    gt = {"random": rng.integers(-1, 2, (h, w)), "empty": np.zeros((h, w)), "full": np.ones((h, w)),
          "one": np.zeros((h, w)), "void": -np.ones((h, w))}[kind].astype(np.int32)
    if kind == "one":
        gt[h // 2, w // 2] = 1
    protocol = Protocol(max_clicks=8, early_stop="never")
    out = evaluate_sample(RandomMasks(seed), np.zeros((h, w, 3), np.uint8), gt, protocol)
    has_union_always = (gt == 1).any()
    for v in out.ious:
        assert (0.0 <= v <= 1.0) if has_union_always else (math.isnan(v) or 0.0 <= v <= 1.0)
    assert 1 <= noc(out.ious, 0.9, 8) <= 8
    for y, x, _ in out.clicks:
        assert 0 <= y < h and 0 <= x < w
