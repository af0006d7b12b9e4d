"""Importing the official scripts' per-sample IoU logs: round trip, order, and refusals."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.datasets import open_dataset
from iseg_bench.folder_summary import build_reports
from iseg_bench.iou_logs import rank_major_order
from iseg_bench.store import ResultStore


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """watershed on the whole embedded set, and its IoU traces in dataset order (as --save-ious writes them)."""
    out = tmp_path_factory.mktemp("own") / "res"
    assert invoke("run", "--methods", "watershed", "--out", str(out), "--no-progress", "--no-report").exit_code == 0
    by_id = {r.sample_id: np.asarray(r.ious, np.float32) for r in ResultStore(out).load()}
    return out, [by_id[sid] for sid in open_dataset("Synthetic").ids]


def dump(path, data):
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    return str(path)


def rows_by_label(out):
    (report,) = build_reports(out)
    return {r.label: r for r in report.rows}


@pytest.mark.parametrize("fmt", ["save-ious", "iou-analysis"])
def test_an_imported_log_reproduces_the_run_it_came_from(own_run, tmp_path, fmt):
    out, traces = own_run
    data = traces if fmt == "save-ious" else {"dataset_name": "Synthetic", "model_name": "ws_NoBRS", "all_ious": traces}
    log, name = dump(tmp_path / "ws.pickle", data), f"ws-{fmt}"  # each log its own name: one weights id per name
    r = invoke("import-ious", log, "--method", name, "--dataset", "Synthetic", "--protocol", "neutral",
               "--out", str(out))
    assert r.exit_code == 0, r.output
    assert f"30 samples of {name} on Synthetic imported" in r.output and f"{name} (imported)" in r.output
    rows = rows_by_label(out)
    own, imported = rows["watershed"], rows[f"{name} (imported)"]
    assert (own.noc, own.nof, own.miou) == (imported.noc, imported.nof, imported.miou)
    assert imported.status.startswith("imported from IoU log ws.pickle") and not imported.timed
    csv = tmp_path / "cmp.csv"
    assert invoke("compare", str(out), "watershed", name, "--out", str(csv)).exit_code == 0
    table = pd.read_csv(csv, comment="#")
    assert (table.paired_samples == 30).all() and (table.diff_b_minus_a == 0).all() and (table.samples_tied == 30).all()
    again = invoke("import-ious", log, "--method", name, "--dataset", "Synthetic", "--protocol", "neutral",
                   "--out", str(out))
    assert f"0 samples of {name} on Synthetic imported" in again.output and "(30 already there)" in again.output
    other = dump(tmp_path / "other.pkl", {"all_ious": traces, "model_name": "another run"})
    clash = invoke("import-ious", other, "--method", name, "--dataset", "Synthetic", "--protocol", "neutral",
                   "--out", str(out))
    assert clash.exit_code == 2 and "import this log under another --method name" in clash.output


def test_a_log_gathered_from_several_ranks_is_put_back_in_dataset_order(own_run, tmp_path):
    out, traces = own_run
    order = rank_major_order(len(traces), 4)
    assert sorted(order) == list(range(len(traces))) and order[:3] == [0, 4, 8]
    log = dump(tmp_path / "ranked.pkl", [traces[i] for i in order])
    target = tmp_path / "res"
    assert invoke("import-ious", log, "--method", "ws-log", "--dataset", "Synthetic", "--protocol", "neutral",
                  "--world-size", "4", "--out", str(target)).exit_code == 0
    assert invoke("import-ious", log, "--method", "ws-unordered", "--dataset", "Synthetic", "--protocol",
                  "neutral", "--out", str(target)).exit_code == 0
    got = {(r.method, r.sample_id): r.ious for r in ResultStore(target).load()}
    ids = open_dataset("Synthetic").ids
    assert all(got[("ws-log", sid)] == traces[i].tolist() for i, sid in enumerate(ids))
    assert any(got[("ws-unordered", sid)] != traces[i].tolist() for i, sid in enumerate(ids))


def test_a_pickle_that_would_run_code_is_refused_unexecuted(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    log = dump(tmp_path / "evil.pkl", [Payload()])
    r = invoke("import-ious", log, "--method", "x-log", "--dataset", "Synthetic", "--protocol", "neutral",
               "--out", str(tmp_path / "res"))
    assert r.exit_code == 2 and "refused to build" in r.output and "evil.pkl" in r.output
    assert not marker.exists() and not (tmp_path / "res").exists()


def test_logs_that_do_not_fit_are_refused_with_the_reason(own_run, tmp_path):
    _, traces = own_run
    out = tmp_path / "res"

    def attempt(data, protocol="neutral", method="x-log"):
        log = dump(tmp_path / "log.pkl", data)
        return invoke("import-ious", log, "--method", method, "--dataset", "Synthetic", "--protocol", protocol,
                      "--out", str(out))

    r = attempt(traces[:-1])
    assert r.exit_code == 2 and "the log has 29 samples, Synthetic has 30" in r.output
    r = attempt(traces, protocol="ritm")  # stops at 0.90, but these traces went on to 0.95
    assert r.exit_code == 2 and "would not do" in r.output and "--target-iou" in r.output
    r = attempt(traces, protocol="neutral-curves")  # never stops early, these do
    assert r.exit_code == 2 and "never stops early" in r.output
    r = attempt([t * 2 for t in traces])
    assert r.exit_code == 2 and "outside [0, 1]" in r.output
    r = attempt({"ious": traces})
    assert r.exit_code == 2 and "without 'all_ious'" in r.output
    r = attempt(traces, method="watershed")
    assert r.exit_code == 2 and "registered method" in r.output
    assert not out.exists()  # nothing written by a refused import
