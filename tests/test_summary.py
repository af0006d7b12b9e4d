"""summary.py's counting rules on hand-made records whose every number is worked out below: NoC, NoF and
their spread, mIoU@k with carried-forward samples, method and data errors, times, seeds, untimed runs,
grouping by protocol and method (what the mutation run of iseg_bench/summary.py found untested:
reports/mutation/mutation.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from iseg_bench.predictor import MethodInfo
from iseg_bench.protocol import Protocol
from iseg_bench.records import DATA_ERROR, FIRST, LATER, METHOD_ERROR, OK, SampleRecord, method_key
from iseg_bench.summary import (
    effective_trace,
    sample_noc,
    scored_trace,
    summarize,
    summarize_group,
    thr_key,
)

P = Protocol(max_clicks=3, iou_thresholds=(0.5, 0.9))
LOAD = {"wall_s": 1.0, "own_cpu_s": 0.5, "foreign_cpu_s": 0.25, "steal_s": 0.0, "cpu_total_s": 2.0, "loadavg_1m": 0.5}


def record(sample: str, ious, latency, status: str = OK, **kw) -> SampleRecord:
    phases = [FIRST, *[LATER] * (len(latency) - 1)] if latency else []
    base = dict(method="m", weights="w", dataset="D", fingerprint="f", sample_id=sample, protocol=P.hash,
                status=status, ious=[float(np.float32(i)) for i in ious], latency_s=list(latency), phases=phases,
                load=dict(LOAD) if latency else {})
    base.update(kw)
    return SampleRecord(**base)


# s1 stops early at 0.95 (carried forward); s2's method fails at its third click (IoU 0 from there);
# s3 could not be loaded (a data error, excluded); s4 never reaches 0.5 and runs all three clicks
RECORDS = [
    record("s1", [0.4, 0.95], [0.3, 0.1]),
    record("s2", [0.6, 0.7], [0.5, 0.25], status=METHOD_ERROR, error="boom"),
    record("s3", [], [], status=DATA_ERROR, device="cuda:1"),
    record("s4", [0.2, 0.3, 0.4], [0.9, 0.2, 0.2]),
]


def test_thresholds_become_column_suffixes():
    assert [thr_key(t) for t in (0.85, 0.9, 0.875, 1.0, 0.5)] == ["85", "90", "87.5", "100", "50"]


def test_a_method_error_scores_zero_from_the_failing_click_and_an_ok_trace_stays_as_it_is():
    assert scored_trace([0.6, 0.7], METHOD_ERROR, 4).tolist() == pytest.approx([0.6, 0.7, 0.0, 0.0])
    assert scored_trace([0.6, 0.7], OK, 4).tolist() == pytest.approx([0.6, 0.7])
    assert scored_trace([], DATA_ERROR, 4).size == 0  # only a method error is scored past its last click
    assert effective_trace(RECORDS[1], 3).dtype == np.float32 and len(effective_trace(RECORDS[1], 3)) == 3
    assert sample_noc(RECORDS[1], P) == {0.5: 1, 0.9: 3}
    assert sample_noc(RECORDS[0], P) == {0.5: 2, 0.9: 2}
    assert sample_noc(RECORDS[3], P) == {0.5: 3, 0.9: 3}


def test_every_number_of_a_row():
    info = MethodInfo(name="m", family="f", weights="w", trained=False)
    row = summarize_group(RECORDS, P, info)
    assert (row.method, row.label, row.status, row.weights, row.dataset, row.fingerprint, row.protocol) == (
        "m", "m (untrained)", "UNTRAINED", "w", "D", "f", P.hash)
    assert (row.samples, row.data_errors, row.method_errors, row.seeds) == (3, 1, 1, 1)
    # NoC per sample: 0.5 -> 2, 1, 3; 0.9 -> 2, 3, 3
    assert row.noc == pytest.approx({"50": 2.0, "90": 8 / 3})
    assert row.nof == {"50": 1, "90": 2}
    assert row.noc_std == pytest.approx({"50": math.sqrt(2 / 3), "90": math.sqrt(2 / 9)})
    # carried forward: s1 [0.4, 0.95, 0.95], s2 [0.6, 0.7, 0], s4 [0.2, 0.3, 0.4]
    assert row.miou == pytest.approx([0.4, 1.95 / 3, 1.35 / 3], rel=1e-6)
    assert row.spc_s == pytest.approx(2.45 / 7)
    # medians of the first clicks (0.3, 0.5, 0.9) and of the later ones (0.1, 0.25, 0.2, 0.2), each apart
    assert row.first_click_s == pytest.approx(0.5) and row.later_click_s == pytest.approx(0.2)
    # model time until the threshold, from the stored IoUs: s1 0.4 / 0.4, s2 0.5 / 0.75 (never), s4 1.3 / 1.3
    assert row.time_s == pytest.approx({"50": 2.2, "90": 2.45})
    assert row.clicks == 7 and row.carried_forward == 1  # s1 only: s2 stopped by its error, not early
    assert row.timed is True and row.device == "cpu, cuda:1"
    assert row.load["wall_s"] == pytest.approx(3.0) and row.load["own_cpu_s"] == pytest.approx(1.5)
    assert row.to_dict()["noc"] == row.noc


def test_a_row_without_a_description_is_labelled_by_its_method():
    row = summarize_group(RECORDS, P, None)
    assert (row.label, row.status) == ("m", "unknown")


def test_several_seeds_average_nof_and_time_per_seed():
    seeded = [record("s1", [0.4, 0.95], [0.3, 0.1], seed=1), record("s1", [0.3, 0.4, 0.45], [0.2, 0.2, 0.2], seed=2),
              record("s4", [0.2, 0.3, 0.4], [0.2, 0.2, 0.2], seed=1), record("s4", [0.6], [0.1], seed=2)]
    row = summarize_group(seeded, P, None)
    assert (row.seeds, row.samples) == (2, 2)
    # NoC@0.5: 2, 3, 3, 1 -> mean 2.25 over every run; NoF@0.5: 2 failures over 2 seeds -> 1 per seed
    assert row.noc["50"] == pytest.approx(2.25) and row.nof == {"50": 1.0, "90": 1.5}
    # time@0.5: 0.4 + 0.6 + 0.6 + 0.1 = 1.7 over 2 seeds
    assert row.time_s["50"] == pytest.approx(0.85)


def test_a_group_of_data_errors_only_is_a_row_of_no_samples():
    row = summarize_group([record("s3", [], [], status=DATA_ERROR), record("s5", [], [], status=DATA_ERROR)], P, None)
    assert (row.samples, row.data_errors, row.method_errors, row.seeds, row.clicks) == (0, 2, 0, 1, 0)
    assert row.nof == {"50": 0, "90": 0} and all(math.isnan(v) for v in row.noc.values())
    assert np.isnan(row.miou).all() and len(row.miou) == 3


def test_an_untimed_run_reports_no_times():
    untimed = [record("s1", [0.4, 0.95], [float("nan")] * 2, timed=False, load={}),
               record("s4", [0.2, 0.3, 0.4], [0.2, 0.2, 0.2])]
    row = summarize_group(untimed, P, None)
    assert row.timed is False
    assert math.isnan(row.spc_s) and math.isnan(row.first_click_s) and math.isnan(row.later_click_s)
    assert all(math.isnan(v) for v in row.time_s.values()) and set(row.time_s) == {"50", "90"}
    assert row.load["wall_s"] == 0.0  # no timed sample: no load reading
    assert row.noc["50"] == pytest.approx(2.5)  # accuracy still counts


def test_rows_group_by_method_weights_implementation_dataset_and_fingerprint_under_one_protocol():
    other = Protocol(max_clicks=4)
    records = [*RECORDS,
               record("s1", [0.9], [0.1], weights="w2"),
               record("s1", [0.9], [0.1], implementation="official"),
               record("s1", [0.9], [0.1], dataset="E"),
               record("s1", [0.9], [0.1], fingerprint="g"),
               record("s1", [0.9], [0.1], method="n"),
               record("s9", [0.9], [0.1], protocol=other.hash)]
    infos = {method_key("m", "w"): MethodInfo(name="m", family="f", weights="w", trained=True, origin="official"),
             method_key("m", "w", "official"): MethodInfo(name="m", family="f", weights="w", trained=True,
                                                          implementation="official")}
    rows = summarize(records, P, infos)
    keys = [(r.method, r.weights, r.implementation, r.dataset, r.fingerprint) for r in rows]
    assert keys == [("m", "w", "", "D", "f"), ("m", "w2", "", "D", "f"), ("m", "w", "official", "D", "f"),
                    ("m", "w", "", "E", "f"), ("m", "w", "", "D", "g"), ("n", "w", "", "D", "f")]  # first seen
    assert rows[0].samples == 3 and rows[0].status == "official weights"
    assert rows[2].label == "m [official arithmetic]" and rows[1].status == "unknown"
    assert [r.samples for r in summarize(records, other)] == [1]  # only that protocol's records
    assert summarize([], P) == []


def test_carried_forward_counts_the_ok_samples_that_stopped_early():
    records = [record("a", [0.95], [0.1]), record("b", [0.3, 0.96], [0.1, 0.1]),  # stopped early: carried
               record("c", [0.2, 0.3, 0.4], [0.1] * 3),  # ran every click
               record("d", [0.2], [0.1], status=METHOD_ERROR),  # stopped by its error: scored 0, not carried
               record("e", [], [], status=DATA_ERROR)]
    assert summarize_group(records, P, None).carried_forward == 2
