"""The results folder's rules one by one: file names, the holder's description, the lock file's contents
while held and after, masks before their record, manifests that are missing, unreadable or newer (what the
mutation run of iseg_bench/store.py found untested: reports/mutation/mutation.md)."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from types import SimpleNamespace

import pytest

from iseg_bench import store as store_module
from iseg_bench.records import SampleRecord
from iseg_bench.store import (
    LOCK_FILE,
    MANIFEST_FORMAT,
    ResultStore,
    StoreBusy,
    StoreError,
    describe_holder,
    safe_name,
)


def record(sample_id: str, masks: bytes | None = None, method: str = "disk") -> SampleRecord:
    return SampleRecord(method, "weight-free:disk", "Synthetic", "fp", sample_id, "proto", clicks=[[1, 2, 1]],
                        ious=[0.5], latency_s=[0.01], phases=["first"], masks=masks)


@pytest.mark.parametrize("name, want", [
    ("ritm-hrnet18s", "ritm-hrnet18s"), ("a.b_c-1", "a.b_c-1"), ("a/b c", "a_b_c"), ("a//  b", "a_b"),
    ("..hidden..", "hidden"), ("_x_", "x"), ("...", "_"), ("", "_"), ("é", "_"), ("x/..", "x"),
])
def test_safe_names_keep_what_a_file_name_can_hold(name, want):
    assert safe_name(name) == want


def test_a_holder_is_described_by_what_it_wrote():
    assert describe_holder({}) == "another process (which has not yet written who it is)"
    full = {"pid": 12, "host": "h", "started": "2026-01-01T00:00:00+00:00", "command": "iseg-bench run"}
    assert describe_holder(full) == "pid 12 on host h since 2026-01-01T00:00:00+00:00, running: iseg-bench run"
    assert describe_holder({"pid": 7}) == "pid 7 on host ? since ?, running: ?"


def test_the_lock_file_names_the_holder_while_held_and_nobody_after(tmp_path):
    store = ResultStore(tmp_path / "res")
    lock = tmp_path / "res" / LOCK_FILE
    with store.writer_lock():
        me = json.loads(lock.read_text())
        assert me["pid"] == os.getpid() and me["started"].endswith("+00:00") and me["host"] and "command" in me
        with pytest.raises(StoreBusy) as busy, ResultStore(tmp_path / "res").writer_lock():
            pass
        assert busy.value.holder == me and str(tmp_path / "res") in str(busy.value)
    assert lock.read_text() == ""  # released: the file names nobody
    with store.writer_lock():  # and the lock can be taken again
        pass


def test_waiting_tells_once_who_holds_the_lock_then_takes_it(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    told: list[str] = []
    with open(out / LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps({"pid": 4242, "host": "elsewhere"}))
        fh.flush()
        release = threading.Timer(0.3, lambda: fcntl.flock(fh, fcntl.LOCK_UN))
        release.start()
        with ResultStore(out).writer_lock(wait=True, on_wait=told.append):
            assert json.loads((out / LOCK_FILE).read_text())["pid"] == os.getpid()
        release.join()
    assert len(told) == 1 and told[0].startswith(f"waiting: results folder {out} is being written by pid 4242 on host "
                                                 "elsewhere")


def test_a_folder_that_cannot_be_created_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot write"), ResultStore(tmp_path / "file" / "res").writer_lock():
        pass


def test_masks_are_written_before_their_record_and_where_masks_path_says(tmp_path):
    store = ResultStore(tmp_path)
    with store:
        store.append(record("a", masks=b"npz-bytes"))
        store.append(record("b"))
    a = record("a")
    assert store.masks_path(a) == tmp_path / "masks" / "disk" / "Synthetic" / f"{a.key}.npz"
    assert store.masks_path(a).read_bytes() == b"npz-bytes"
    assert not store.masks_path(record("b")).exists()
    assert [r.sample_id for r in store.load()] == ["a", "b"]
    assert store.path_for("a/b", "C D") == tmp_path / "records" / "a_b" / "C_D.jsonl"


def test_a_store_without_records_reads_empty_and_counts_no_skipped_line(tmp_path):
    store = ResultStore(tmp_path / "nothing")
    store.skipped_lines = 5
    assert store.load() == [] and store.keys() == set() and store.skipped_lines == 0


def test_the_store_reopens_its_files_after_close(tmp_path):
    store = ResultStore(tmp_path)
    with store:
        store.append(record("a"))
    assert store._handles == {}
    with store:
        store.append(record("b"))
        store.append(record("c", method="other"))
        assert len(store._handles) == 2
    assert sorted(r.sample_id for r in ResultStore(tmp_path).load()) == ["a", "b", "c"]


def test_manifests_missing_old_unreadable_or_newer(tmp_path):
    store = ResultStore(tmp_path)
    assert store.read_manifest() == {"format": MANIFEST_FORMAT, "protocols": {}, "methods": {}, "datasets": {},
                                     "runs": []}
    store.manifest_path.write_text(json.dumps({"protocols": {}, "methods": {}, "datasets": {}, "runs": []}))
    assert store.read_manifest()["format"] == 1  # written before the field existed
    store.manifest_path.write_text(json.dumps({"format": MANIFEST_FORMAT, "protocols": {"h": {}}, "methods": {},
                                               "datasets": {}, "runs": []}))
    assert store.read_manifest()["protocols"] == {"h": {}}
    store.manifest_path.write_text("{")
    with pytest.raises(StoreError, match="cannot read"):
        store.read_manifest()
    store.manifest_path.write_text(json.dumps({"format": MANIFEST_FORMAT + 1}))
    with pytest.raises(StoreError, match=f"has format {MANIFEST_FORMAT + 1}, newer than"):
        store.read_manifest()


def test_the_manifest_keys_methods_by_name_weights_and_implementation_and_keeps_every_run(tmp_path):
    store = ResultStore(tmp_path)
    store.update_manifest(method={"name": "m", "weights": "w"}, run={"n": 1})
    store.update_manifest(method={"name": "m", "weights": "w", "implementation": "official"}, run={"n": 2})
    store.update_manifest(protocol={"name": "p"}, protocol_hash="abc")
    m = store.read_manifest()
    assert set(m["methods"]) == {"m@w", "m@w#official"} and [r["n"] for r in m["runs"]] == [1, 2]
    assert m["protocols"] == {"abc": {"name": "p"}} and m["format"] == MANIFEST_FORMAT


def test_an_unwritable_manifest_is_a_store_error(tmp_path):
    store = ResultStore(tmp_path)
    store.manifest_path.mkdir()  # a folder where the file should go
    with pytest.raises(StoreError, match="cannot"):
        store.update_manifest(run={"n": 1})


class _Clock:
    """A clock that only moves when the code under test sleeps (no real waiting, no timing dependence)."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _hold_unnamed(out):
    """Another holder of the writer lock that has not written its name yet (a second open file: flock locks
    belong to the open file, so a second one in this process is refused like another process)."""
    out.mkdir(exist_ok=True)
    fh = open(out / LOCK_FILE, "w")
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


def test_a_refused_writer_polls_until_the_holder_has_written_its_name(tmp_path, monkeypatch):
    out = tmp_path / "res"
    fh = _hold_unnamed(out)
    clock = _Clock()

    def sleep(seconds: float) -> None:  # the holder writes its name while the refused writer waits
        clock.sleep(seconds)
        if len(clock.slept) == 3:
            fh.write(json.dumps({"pid": 4242, "host": "h"}))
            fh.flush()

    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=sleep))
    with fh, pytest.raises(StoreBusy) as busy, ResultStore(out).writer_lock():
        pass
    assert busy.value.holder == {"pid": 4242, "host": "h"}
    assert len(clock.slept) == 3 and all(0 < s <= 0.05 for s in clock.slept)  # short polls, not one long wait


def test_a_holder_that_never_names_itself_is_reported_unnamed_after_the_wait(tmp_path, monkeypatch):
    out = tmp_path / "res"
    clock = _Clock()
    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep))
    with _hold_unnamed(out), pytest.raises(StoreBusy, match="which has not yet written who it is") as busy, \
            ResultStore(out).writer_lock():
        pass
    assert busy.value.holder == {}
    waited = sum(clock.slept)
    assert 5.0 <= waited < 5.1  # it waited the documented 5 s for the name, then gave up


def test_the_lock_file_is_created_in_missing_folders_readable_and_writable_by_all_the_umask_allows(tmp_path):
    old = os.umask(0)
    try:
        with ResultStore(tmp_path / "a" / "b").writer_lock():
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "b" / LOCK_FILE).stat().st_mode & 0o777 == 0o666


def test_unreadable_lines_are_counted_one_each_and_the_rest_is_read(tmp_path):
    store = ResultStore(tmp_path)
    assert store.skipped_lines == 0  # nothing read yet, nothing skipped
    with store:
        store.append(record("a"))
    path = store.path_for("disk", "Synthetic")
    with open(path, "a") as fh:
        fh.write("not json\n")
        fh.write('{"method": "disk"}\n')  # JSON, but not a record
    with store:
        store.append(record("b"))
    with pytest.warns(UserWarning, match="unreadable record skipped"):
        assert [r.sample_id for r in store.load()] == ["a", "b"]
    assert store.skipped_lines == 2


def test_a_manifest_that_cannot_be_read_or_written_is_a_store_error(tmp_path):
    store = ResultStore(tmp_path)
    store.manifest_path.mkdir()  # a folder where the file should be: reading it fails (OSError)
    with pytest.raises(StoreError, match="cannot read"):
        store.read_manifest()
    (tmp_path / "file").write_text("x")
    beneath_a_file = ResultStore(tmp_path / "file")  # nothing to read, and nowhere to write
    assert beneath_a_file.read_manifest()["runs"] == []
    with pytest.raises(StoreError, match="cannot write"):
        beneath_a_file.update_manifest(run={"n": 1})


def test_the_manifest_takes_its_parts_by_name_only_and_records_no_run_unless_given(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        store.update_manifest({"name": "p"})  # type: ignore[misc]
    store.update_manifest(protocol={"name": "p"}, protocol_hash="abc")
    assert store.read_manifest()["runs"] == []
