"""The results store: durable appends, half-written lines, corrupt lines, duplicates, manifest."""

from __future__ import annotations

import json
import re
import warnings

import pytest

from iseg_bench.records import SampleRecord
from iseg_bench.store import ResultStore


def record(sample_id: str, ious=(0.5, 0.9)) -> SampleRecord:
    n = len(ious)
    return SampleRecord("disk", "weight-free:disk", "Synthetic", "fp", sample_id, "proto",
                        clicks=[[1, 2, 1]] * n, ious=list(ious), latency_s=[0.01] * n,
                        phases=["first"] + ["later"] * (n - 1))


def test_round_trip_keeps_float32_values_exactly(tmp_path):
    import numpy as np

    value = float(np.float32(0.9))
    with ResultStore(tmp_path) as store:
        store.append(record("a", (0.1, value)))
    (loaded,) = ResultStore(tmp_path).load()
    assert loaded.ious[1] == value and np.float32(loaded.ious[1]) >= np.float32(0.9)
    assert loaded == record("a", (0.1, value))


def test_key_is_content_addressed():
    a, b = record("a"), record("b")
    assert a.key != b.key and a.key == record("a").key
    with pytest.raises(ValueError, match="does not match"):
        SampleRecord.from_dict({**json.loads(a.to_json()), "sample_id": "b"})


def test_half_written_last_line_is_skipped_reported_once_then_cut(tmp_path):
    store = ResultStore(tmp_path)
    with store:
        store.append(record("a"))
    path = store.path_for("disk", "Synthetic")
    with open(path, "a") as fh:
        fh.write(record("b").to_json()[:40])  # a process killed mid-write
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # so that only the store's own once-per-file rule can hold repeats back
        assert [r.sample_id for r in store.load()] == ["a"] and store.skipped_lines == 1
        assert store.keys() == {record("a").key} and ResultStore(tmp_path).load() == [record("a")]
        with store:
            store.append(record("c"))
    (torn,) = [str(w.message) for w in caught]  # three reads and the cut: one warning
    assert torn.startswith(f"{path}:2: half-written last record") and "evaluated again" in torn
    assert [r.sample_id for r in store.load()] == ["a", "c"] and store.skipped_lines == 0
    assert path.read_text().count("\n") == 2


def test_a_torn_tail_cut_by_an_append_before_any_read_is_reported_with_its_line(tmp_path):
    with ResultStore(tmp_path) as store:
        store.append(record("a"))
        store.append(record("b"))
    path = store.path_for("disk", "Synthetic")
    with open(path, "a") as fh:
        fh.write(record("c").to_json()[:30])
    with pytest.warns(UserWarning, match=re.escape(f"{path}:3: half-written")), ResultStore(tmp_path) as store:
        store.append(record("c"))
    assert [r.sample_id for r in ResultStore(tmp_path).load()] == ["a", "b", "c"]


def test_corrupt_lines_are_skipped_with_a_warning(tmp_path):
    store = ResultStore(tmp_path)
    with store:
        store.append(record("a"))
    path = store.path_for("disk", "Synthetic")
    with open(path, "a") as fh:
        fh.write("{not json}\n")
    with store:
        store.append(record("b"))
    with pytest.warns(UserWarning, match="unreadable record"):
        assert [r.sample_id for r in store.load()] == ["a", "b"]


def test_duplicate_keys_count_once(tmp_path):
    with ResultStore(tmp_path) as store:
        store.append(record("a"))
        store.append(record("a", (0.2,)))
    (only,) = ResultStore(tmp_path).load()
    assert only.ious == [0.5, 0.9]  # the first record wins


def test_manifest_merges_updates(tmp_path):
    store = ResultStore(tmp_path)
    store.update_manifest(protocol={"name": "x"}, protocol_hash="h1")
    store.update_manifest(dataset={"name": "D", "fingerprint": "f1"}, run={"started": "now"})
    m = store.read_manifest()
    assert m["protocols"] == {"h1": {"name": "x"}} and m["datasets"]["f1"]["name"] == "D"
    assert len(m["runs"]) == 1
    assert not list(tmp_path.glob("*.tmp"))
