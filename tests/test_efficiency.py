"""FLOPs counting, timing statistics, the one-process-per-method benchmark and the paper tables."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from iseg_bench.adapters import load_predictor
from iseg_bench.bench import merge
from iseg_bench.bench_results import phase_rows
from iseg_bench.bench_worker import BenchSpec, run_worker
from iseg_bench.cli import main
from iseg_bench.flops import count_macs
from iseg_bench.latency import summary, time_calls
from iseg_bench.protocol import Protocol


class TinyAttention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv(x))  # relu: not counted, listed
        q = y.flatten(2).transpose(1, 2).reshape(1, 2, 16, 4)  # (B, heads, L, d)
        return torch.nn.functional.scaled_dot_product_attention(q, q, q)


def test_macs_of_convolution_and_attention_are_exact():
    result = count_macs(TinyAttention(), (torch.rand(1, 3, 4, 4),))
    conv = 8 * 3 * 3 * 3 * 4 * 4  # out channels x (in channels x kernel) x output pixels
    attention = 2 * (2 * 16 * 16 * 4)  # QK^T and AV: batch*heads x Lq x Lk x d, twice
    assert result.gmacs * 1e9 == conv + attention
    assert result.gflops == 2 * result.gmacs
    assert result.not_counted["aten::relu"]["calls"] == 1 and result.not_counted["aten::relu"]["elements"] == 128


def test_emc_phases_count_like_the_paper():
    """Paper Table 1: EMC hrnet18s first click 9.35 and the C64 correction 1.09 'GFLOPs' at 384."""
    predictor = load_predictor("emc-hrnet18s")
    predictor.prepare(Protocol(), "frame")
    first, later = predictor.cost_phases(384, 384)
    assert (first.phase, later.phase) == ("first", "later")
    assert first.params == 4_322_416 and later.params == 102_401
    assert abs(count_macs(first.module, first.inputs).gmacs - 9.35) / 9.35 < 0.05
    # later clicks reuse the image-only part of the correction network: below the paper's 1.09
    assert 0.9 < count_macs(later.module, later.inputs).gmacs < 1.09


def test_ritm_phases_follow_the_zoom_in():
    """Click 1 at native resolution; a later click on the zoom-in crop around the object (a disc of
    radius 60 in the synthetic frame: box x1.4, at least 200 px), resized to a longer side of 400."""
    predictor = load_predictor("ritm")
    predictor.prepare(Protocol(), "frame")
    first, later = predictor.cost_phases(300, 200)
    h, w = later.input_size
    assert first.input_size == (300, 200) and max(h, w) == 400 and min(h, w) > 380
    assert abs(count_macs(later.module, later.inputs).gmacs - 8.96 * h * w / 400**2) < 0.2


def test_timing_statistics():
    calls = []
    seconds = time_calls(lambda: calls.append(1), warmup=2, repeats=5)
    assert len(calls) == 7 and len(seconds) == 5 and all(s >= 0 for s in seconds)
    stats = summary([0.001, 0.002, 0.003, 0.004, 0.010])
    assert stats["median_ms"] == pytest.approx(3.0) and stats["n"] == 5
    assert stats["p10_ms"] < stats["median_ms"] < stats["p90_ms"]
    assert summary([])["n"] == 0


def test_worker_measures_network_phases_and_image_clicks():
    import cv2

    threads = (torch.get_num_threads(), cv2.getNumThreads())
    spec = BenchSpec("emc-hrnet18s", 64, 96, 1, Protocol(input_size=64, untrained_control="gt-degraded").to_dict(),
                     "official", ("Synthetic",), None, frame=(72, 100), limit=1, clicks=3, warmup=1, repeats=2)
    try:
        result = run_worker(spec)
    finally:  # the worker sets thread counts for its process; this one is pytest's
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])
    assert [p["phase"] for p in result["phases"]] == ["first", "later"]
    assert [p["click"] for p in result["phases"]] == [1, 5]
    assert result["phases"][0]["input_size"] == [64, 96] and len(result["phases"][1]["latency_s"]) == 2
    assert result["phases"][1]["bn_statistics"] > 0 and result["info"]["implementation"] == "official"
    clicks = result["clicks"][0]
    assert clicks["dataset"] == "Synthetic" and [len(k) for k in clicks["per_click_s"]] == [1, 1, 1]
    assert clicks["frame"] == [72, 100] and clicks["steered"] is True
    assert result["environment"]["torch_threads"] == 1 and result["environment"]["matmul_peak_gflops"] > 0
    assert result["load"]["wall_s"] > 0
    rows = phase_rows(merge([result, result]))
    assert rows[1]["network"]["n"] == 4 and rows[1]["images"]["n"] == 4 and rows[0]["params"] == 4_322_416
    assert rows[1]["gflops_per_s"] > 0 and 0 < rows[1]["peak_share"]


def test_bench_and_paper_tables_from_the_command_line(tmp_path):
    out = tmp_path / "res"
    runner = CliRunner()
    r = runner.invoke(main, ["bench", "--methods", "ritm,watershed", "--protocol", "published,neutral",
                             "--implementation", "engineered,official", "--size", "64", "--limit", "1",
                             "--clicks", "2", "--repeats", "2", "--warmup", "0", "--rounds", "2", "--threads", "1",
                             "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "ritm-hrnet18s (untrained)" in r.output and "ritm-hrnet18s [official arithmetic] (untrained)" in r.output
    assert "GMACs" in r.output and "Click latency" in r.output and "surrogate masks" in r.output
    stored = sorted(p.name for p in (out / "bench").glob("*.json"))
    # ritm under its own preset and neutral, in both implementations; watershed has one implementation and
    # no published preset of its own (published = neutral, measured once)
    assert len(stored) == 5
    assert [n for n in stored if n.startswith("watershed")] == ["watershed.only.neutral-b262db.64x64.json"]
    official = next(n for n in stored if n.startswith("ritm-hrnet18s.official.ritm"))
    result = json.loads((out / "bench" / official).read_text())
    assert result["rounds"] == 2 and len(result["phases"][0]["latency_s"]) == 4 and result["protocol"]["flip_tta"]
    assert result["environment"]["cpu"] and result["spec"]["threads"] == 1
    runner.invoke(main, ["run", "--methods", "watershed,disk", "--limit", "2", "--out", str(out)])
    r = runner.invoke(main, ["paper-tables", str(out), "--out", str(tmp_path / "paper")])
    assert r.exit_code == 0, r.output
    names = {p.name for p in (tmp_path / "paper").iterdir()}
    assert {"table1.md", "table1.tex", "table2.md", "table3.md", "ratios.md", "ratios.json", "efficiency.md",
            "implementations.md", "latency_per_click.png", "accuracy_time.png", "index.md"} <= names
    implementations = (tmp_path / "paper" / "implementations.md").read_text()
    assert "| ritm-hrnet18s (untrained) | ritm " in implementations and "later click, whole click" in implementations
    table1 = (tmp_path / "paper" / "table1.md").read_text()
    assert table1.count("| CDNet-ResNet34 ") == 1 and "not implemented in iseg-bench" in table1
    assert "ritm-hrnet18s [official arithmetic] (untrained), later click" in table1 and "UNTRAINED" in table1
    table3 = (tmp_path / "paper" / "table3.md").read_text()
    assert "PseudoClick-hrnet32" in table3 and "SBD-trained checkpoint not registered" in table3


def test_bench_rejects_unknown_names(tmp_path):
    r = CliRunner().invoke(main, ["bench", "--methods", "emcc", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "did you mean" in r.output


def test_paper_tables_from_a_parallel_run_say_what_they_leave_out(tmp_path, monkeypatch):
    """Untimed records (a parallel run), no bench results, COCO_MVal and Synthetic run: the tables go
    to RESULTS_DIR/paper (not the current folder); Table 1 and the accuracy-time plot are not written
    and stderr says why (one line each), with no plotting warning; Table 3 says what it cannot list."""
    import warnings

    from layouts import write_paired

    write_paired(tmp_path / "data" / "COCO_MVal", "img", "gt", {"a": (".jpg", ".png"), "b": (".jpg", ".png")})
    out = tmp_path / "res"
    r = CliRunner().invoke(main, ["run", "--methods", "disk", "--datasets", "Synthetic,COCO_MVal", "--data-root",
                                  str(tmp_path / "data"), "--limit", "2", "--workers", "2", "--out", str(out),
                                  "--no-report", "--no-progress"])
    assert r.exit_code == 0, r.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = CliRunner().invoke(main, ["paper-tables", str(out), "--dataset", "Synthetic"])
    assert r.exit_code == 0, r.output
    assert [str(w.message) for w in caught] == []
    assert list(elsewhere.iterdir()) == []  # nothing written into the current folder
    paper = out / "paper"
    names = {p.name for p in paper.iterdir()}
    assert {"table2.md", "table3.md", "index.md"} <= names
    assert "accuracy_time.png" not in names and "table1.md" not in names
    err = r.stderr.splitlines()
    table1 = [line for line in err if line.startswith("Table 1 not written")]
    assert len(table1) == 1 and "no `iseg-bench bench` results" in table1[0] and f"--out {out}" in table1[0]
    plot = [line for line in err if line.startswith("accuracy_time.png not written")]
    assert len(plot) == 1 and "not timed" in plot[0] and "parallel" in plot[0] and "serially" in plot[0]
    coco = [line for line in err if line.startswith("Table 3: COCO_MVal is not listed")]
    assert len(coco) == 1
    table3 = " ".join((paper / "table3.md").read_text().split())
    assert ("COCO_MVal is not listed: the paper's Table 3 compares on five benchmarks and COCO_MVal is not one of "
            "them (it records GrabCut, Berkeley, SBD, DAVIS, PascalVOC).") in table3
    assert ("Also run here, on datasets without a column in this table (their NoC is in the run's own report): "
            "COCO_MVal, Synthetic.") in table3
    assert "Not written, or not listed:" in (paper / "index.md").read_text()
    assert str(paper / "table3.md") in r.stdout
