"""The deep methods' regression gate: every family's committed baseline (calibrated seeded weights,
its published protocol, embedded and real images) holds, and a one-line break of a predictor fails
``regress`` with exit 1, naming the method, the sample and the click where it first shows."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import torch
from click.testing import CliRunner
from conftest import SHARED_DATASETS

from iseg_bench.adapters import FAMILIES, load_predictor
from iseg_bench.adapters.emc import predictor as emc
from iseg_bench.adapters.focalclick import predictor as focalclick
from iseg_bench.adapters.ritm import predictor as ritm
from iseg_bench.adapters.sam import predictor as sam
from iseg_bench.cli import main

BASELINES = Path(__file__).resolve().parents[1] / "reports" / "baselines"
DEEP = sorted(BASELINES.glob("deep-*.json"))


def baseline(family: str) -> dict:
    return json.loads((BASELINES / f"deep-{family}.json").read_text())


@pytest.fixture(autouse=True)
def _keep_thread_counts():
    """``regress`` fixes the process's thread counts while it runs inline: give the next test its own back."""
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(threads)
    cv2.setNumThreads(cv_threads)


def test_every_family_has_a_deep_baseline_under_its_published_protocol():
    """A family added later must come with its own baseline (reports/baselines/deep-<family>.json)."""
    for name, family in FAMILIES.items():
        path = BASELINES / f"deep-{name}.json"
        assert path.is_file(), f"family {name} has no regression baseline {path.name}"
        doc = baseline(name)
        assert doc["format"] == 2 and doc["weights_spec"] == "calibrated"
        assert doc["protocol_hash"] == family.protocol.hash and doc["protocol"]["untrained_control"] == "own"
        assert set(doc["datasets"]) == {"Synthetic", "GrabCut", "Berkeley"}
        variants = {v.name for v in family.variants}
        assert set(doc["methods"]) <= variants and all(
            m["weights"].startswith("calibrated-init:") and m["status"] == "UNTRAINED" for m in doc["methods"].values())
        for method, per_dataset in doc["traces"].items():  # decisive and click-dependent: the IoU moves
            ious = [iou for samples in per_dataset.values() for t in samples.values() for iou in t["ious"]]
            assert len(set(ious)) > 3, f"{method}: the calibrated masks hardly change from click to click"


def family_group(family: str):
    """One family's tests run in one process under pytest-xdist (``--dist loadgroup``), so its calibrated
    weights are made once (they are kept per process)."""
    return pytest.mark.xdist_group(f"deep-{family}")


@pytest.mark.parametrize("path", [pytest.param(p, marks=family_group(p.stem.removeprefix("deep-"))) for p in DEEP],
                         ids=[p.stem for p in DEEP])
def test_committed_deep_baseline_holds(path):
    """CI gate: a change to any deep predictor or network that moves a click or an IoU fails here.
    Without ../shared/datasets only the embedded images are checked."""
    real = (SHARED_DATASETS / "GrabCut").is_dir() and (SHARED_DATASETS / "Berkeley").is_dir()
    scope = ["--data-root", str(SHARED_DATASETS)] if real else ["--datasets", "Synthetic"]
    r = CliRunner().invoke(main, ["regress", "--baseline", str(path), *scope], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "the clicks and IoUs of" in r.output


def swap_last_click(rows):
    """The newest click with its x and y exchanged (a transposed coordinate)."""
    y, x, positive, index = rows[-1]
    return [*rows[:-1], (x, y, positive, index)]


def transposed_click(module):
    """A break of ``module``'s predictor: its newest click transposed before it is scaled (``click_rows``)."""
    def mutate(monkeypatch):
        real = module.click_rows
        monkeypatch.setattr(module, "click_rows", lambda clicks, *a: swap_last_click(real(clicks, *a)))

    mutate.__name__ = f"{module.__name__.split('.')[-2]}_click"
    return mutate


def no_flip_average(module):
    """A break of ``module``'s predictor: flip TTA runs, but only the unflipped logits are kept."""
    def mutate(monkeypatch):
        monkeypatch.setattr(module, "flip_average", lambda logits, flip: logits[:1])

    mutate.__name__ = f"{module.__name__.split('.')[-2]}_flip"
    return mutate


def mutate_ritm_crop(monkeypatch):
    real = ritm.RITMPredictor._crop
    monkeypatch.setattr(ritm.RITMPredictor, "_crop",
                        lambda self, x, box: real(self, x, box if box is None else (box[0] + 1, *box[1:])))


def mutate_ritm_feedback(monkeypatch):
    real = ritm.RITMPredictor._finish

    def finish(self, probs):
        out = real(self, probs)
        self.prev_probs = 1 - self.prev_probs  # the mask fed back inverted
        return out

    monkeypatch.setattr(ritm.RITMPredictor, "_finish", finish)


def mutate_emc_feedback(monkeypatch):
    real = emc.EMCPredictor.infer

    def infer(self, clicks):  # the correction network keeps being fed the first click's logits
        kept = None if self.state is None else self.state["logits_lr"]
        out = real(self, clicks)
        if kept is not None:
            self.state["logits_lr"] = kept
        return out

    monkeypatch.setattr(emc.EMCPredictor, "infer", infer)


def mutate_focalclick_crop(monkeypatch):
    real = focalclick.focus_crop

    def focus_crop(*args):
        y1, y2, x1, x2 = real(*args)
        return (y1 + 1, y2, x1, x2) if y2 - y1 > 1 else (y1, y2, x1, x2)

    monkeypatch.setattr(focalclick, "focus_crop", focus_crop)


def mutate_focalclick_feedback(monkeypatch):
    real = focalclick.FocalClickPredictor._combine

    def combine(self, *args):
        out = real(self, *args)
        self.prev_probs = torch.zeros_like(self.prev_probs)  # nothing fed back
        return out

    monkeypatch.setattr(focalclick.FocalClickPredictor, "_combine", combine)


def mutate_sam_click(monkeypatch):
    real = sam.point_coords

    def point_coords(*args):
        xy = real(*args)
        xy[-1] = xy[-1][::-1].copy()
        return xy

    monkeypatch.setattr(sam, "point_coords", point_coords)


def mutate_sam_feedback(monkeypatch):
    real = sam.SAMPredictor.infer

    def infer(self, clicks):
        out = real(self, clicks)
        self.low_res = -self.low_res  # the chosen mask fed back inverted
        return out

    monkeypatch.setattr(sam.SAMPredictor, "infer", infer)


MUTATIONS = {
    "ritm": [transposed_click(ritm), mutate_ritm_crop, no_flip_average(ritm), mutate_ritm_feedback],
    "emc": [transposed_click(emc), no_flip_average(emc), mutate_emc_feedback],
    "focalclick": [transposed_click(focalclick), mutate_focalclick_crop, mutate_focalclick_feedback],
    "sam": [mutate_sam_click, mutate_sam_feedback],
}
CASES = [pytest.param(family, m, marks=family_group(family), id=m.__name__.removeprefix("mutate_"))
         for family, ms in MUTATIONS.items() for m in ms]


def test_every_family_has_mutations():
    assert set(MUTATIONS) == set(FAMILIES)


@pytest.mark.parametrize("family, mutate", CASES)
def test_a_one_line_break_of_a_predictor_fails_regress(family, mutate, monkeypatch):
    doc = baseline(family)
    for method in doc["methods"]:  # the calibrated weights are made by the unbroken predictor
        load_predictor(method, weights="calibrated")
    mutate(monkeypatch)
    r = CliRunner().invoke(main, ["regress", "--baseline", str(BASELINES / f"deep-{family}.json"),
                                  "--datasets", "Synthetic", "--limit", "1"], catch_exceptions=False)
    assert r.exit_code == 1, r.output
    assert "REGRESSION" in r.output and "samples changed; each at its first changed click" in r.output
    rows = [line.split() for line in r.output.splitlines() if line.startswith(tuple(doc["methods"]))]
    named = [(row[0], row[2], int(row[4])) for row in rows if row[3] == "click"]
    samples = set(doc["traces"][named[0][0]]["Synthetic"]) if named else set()
    assert named and all(sample in samples and click >= 1 for _, sample, click in named), r.output
