"""Boundary IoU (Cheng et al., CVPR 2021): the metric itself, and one declaration that carries it into
every output (records, tables, CSV, JSON, HTML, load_results and the regression gate)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import ndimage

from iseg_bench import metric_catalog, metrics
from iseg_bench.adapters.classical.watershed import WatershedPredictor
from iseg_bench.cli import main
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import Protocol


def published_recipe(gt: np.ndarray, pred: np.ndarray, ratio: float = 0.02) -> float:
    """Boundary IoU as the paper's reference code states it, step by step: pad one background pixel,
    erode with a 3x3 square ``round(ratio x diagonal)`` times (at least once), band = mask - erosion."""
    h, w = gt.shape
    d = max(1, int(round(ratio * np.sqrt(h ** 2 + w ** 2))))

    def band(mask: np.ndarray) -> np.ndarray:
        padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=d)[1:h + 1, 1:w + 1]
        return mask.astype(np.uint8) - eroded

    a, b = band(gt == 1), band(pred)
    return float(((a * b) > 0).sum()) / float(((a + b) > 0).sum())


def blobs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A random mask of a few overlapping ellipses, some touching the border."""
    mask = np.zeros(shape, np.uint8)
    for _ in range(rng.integers(1, 5)):
        centre = (int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0])))
        axes = (int(rng.integers(3, shape[1] // 2)), int(rng.integers(3, shape[0] // 2)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


@pytest.mark.parametrize("shape", [(24, 31), (120, 90), (240, 320), (333, 500)])
def test_matches_the_published_recipe_exactly(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(8):
        gt, pred = blobs(rng, shape).astype(int), blobs(rng, shape)
        assert metrics.boundary_iou(gt, pred) == pytest.approx(published_recipe(gt, pred), abs=0)


def test_band_is_the_pixels_near_the_outside_by_chessboard_distance():
    rng = np.random.default_rng(7)
    mask = blobs(rng, (90, 130))
    for width in (1, 3, 8):
        distance = ndimage.distance_transform_cdt(np.pad(mask, 1), metric="chessboard")[1:-1, 1:-1]
        assert np.array_equal(metrics.inner_boundary(mask, width), mask & (distance <= width))


def test_void_is_excluded_and_an_empty_union_is_nan():
    gt = np.zeros((100, 100), int)
    gt[20:80, 20:80] = 1
    wrong_in_void = gt == 1
    gt_void = gt.copy()
    gt_void[20:30, 20:80] = -1  # the top of the object is void: a mask wrong there costs nothing
    wrong_in_void[20:30, 20:80] = False
    assert metrics.boundary_iou(gt_void, wrong_in_void) > metrics.boundary_iou(gt, wrong_in_void)
    assert np.isnan(metrics.boundary_iou(np.zeros((50, 50), int), np.zeros((50, 50), bool)))


def test_it_weighs_the_outline_more_than_iou_does():
    gt = np.zeros((400, 400), int)
    gt[50:350, 50:350] = 1
    pred = np.zeros((400, 400), bool)
    pred[54:346, 54:346] = True  # 4 px short on every side
    assert metrics.iou(gt, pred) > 0.94 and metrics.boundary_iou(gt, pred) < 0.6


def test_the_evaluation_stores_it_for_every_click_of_the_mask_scored():
    ds = open_dataset("Synthetic")
    sample = ds.load(0)
    out = evaluate_sample(WatershedPredictor(), sample.image, sample.gt, Protocol(max_clicks=6, early_stop="never"),
                          keep_masks=True)
    values = out.per_click["boundary_iou"]
    assert len(values) == len(out.ious) == len(out.masks) == 6
    assert values == [float(np.float32(metrics.boundary_iou(sample.gt, m))) for m in out.masks]
    assert len(set(values)) > 1  # the clicks move it


def test_one_declaration_reaches_every_output(tmp_path):
    declared = metric_catalog.BY_KEY["mbiou"]
    assert declared in metric_catalog.MASK_SCORES and declared in metric_catalog.GATED
    out = tmp_path / "res"
    r = CliRunner().invoke(main, ["run", "--methods", "disk,watershed", "--datasets", "Synthetic", "--limit", "3",
                                  "--out", str(out), "--no-progress", "--html", "--views", "1"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    record = json.loads((out / "records" / "disk" / "Synthetic.jsonl").read_text().splitlines()[0])
    assert len(record["per_click"]["boundary_iou"]) == len(record["ious"])
    report = out / "report"
    assert "mBIoU@1 (%)" in (report / "results.md").read_text()
    assert "mBIoU@1 (\\%)" in (report / "results.tex").read_text()
    csv = pd.read_csv(report / "results.csv")
    assert {"mbiou_1", "mbiou_20"} <= set(csv.columns) and csv["mbiou_1"].between(0, 1).all()
    summary = json.loads((report / "summary.json").read_text())
    assert "mbiou" in summary["units"] and "Boundary IoU" in summary["units"]["mbiou"]
    curve = summary["results"][0]["curves"]["mbiou"]
    assert len(curve) == 20 and 0 < curve[0] <= 1
    per_sample = pd.read_csv(report / "per_sample.csv")
    assert "boundary_iou" in per_sample.columns
    assert "mBIoU@1" in (report / "index.html").read_text()
    # the number shown is the one stored: mean over samples after click 1, as a percentage
    records = [json.loads(line) for line in (out / "records" / "disk" / "Synthetic.jsonl").read_text().splitlines()]
    mean = np.mean([np.float32(r["per_click"]["boundary_iou"][0]) for r in records])
    row = csv[(csv.method == "disk")].iloc[0]
    assert row["mbiou_1"] == pytest.approx(mean, rel=1e-6)


def test_records_from_before_it_show_a_dash_not_a_number(tmp_path):
    out = tmp_path / "res"
    r = CliRunner().invoke(main, ["run", "--methods", "disk", "--datasets", "Synthetic", "--limit", "2",
                                  "--out", str(out), "--no-progress", "--no-report"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    path = out / "records" / "disk" / "Synthetic.jsonl"
    old = [json.loads(line) for line in path.read_text().splitlines()]
    for rec in old:
        del rec["per_click"]  # as an earlier version wrote them
    path.write_text("".join(json.dumps(rec) + "\n" for rec in old))
    r = CliRunner().invoke(main, ["report", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    header, *rows = [line for line in (out / "report" / "results.md").read_text().splitlines() if line.startswith("|")]
    cells = [c.strip() for c in header.split("|")]
    values = [c.strip() for c in rows[-1].split("|")]
    assert values[cells.index("mBIoU@1 (%)")] == "–" and values[cells.index("mIoU@1 (%)")] != "–"
