"""The engineered and the official-arithmetic implementations of every family: the same outputs
(to 1e-5), different per-click work, one network boundary, and the recorded cost phases."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import SHARED_DATASETS

from iseg_bench.adapters import golden, load_predictor
from iseg_bench.adapters.nets import emc_refiner
from iseg_bench.adapters.nets.layers import set_engineered
from iseg_bench.adapters.nets.segformer import EfficientAttention
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import presets

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden"
TOLERANCE = 1e-5
CLICKS = 8


def real_or_generated(index: int) -> tuple[np.ndarray, np.ndarray]:
    """A GrabCut photo when ../shared is present, else an embedded scene (at most 320 px wide)."""
    if (SHARED_DATASETS / "GrabCut").is_dir():
        s = open_dataset("GrabCut", SHARED_DATASETS).load(index)
    else:
        s = open_dataset("Synthetic").load(index)
    scale = min(1.0, 320 / s.image.shape[1])
    size = (int(s.image.shape[1] * scale), int(s.image.shape[0] * scale))
    return (cv2.resize(s.image, size, interpolation=cv2.INTER_AREA),
            cv2.resize(s.gt.astype(np.int16), size, interpolation=cv2.INTER_NEAREST).astype(np.int32))


def run_both(name: str, state: dict | None, image: np.ndarray, gt: np.ndarray, record_templates: bool = False):
    """Per-click outputs (and, for EMC-Click, template orders and scores) of both implementations, steered
    by the same surrogate masks so that both see the same clicks and carried masks."""
    results = {}
    for implementation in ("engineered", "official"):
        predictor = load_predictor(name, implementation=implementation)
        if state is not None:
            predictor.net.load_state_dict(state)
        family = predictor.family
        protocol = presets()[family].replace(max_clicks=CLICKS, early_stop="never", untrained_control="gt-degraded")
        predictor.prepare(protocol, "GrabCut")
        outputs, templates = [], []
        real_predict = predictor.predict

        def predict(clicks, prev, real=real_predict, outputs=outputs):
            outputs.append(real(clicks, prev))
            return outputs[-1]

        predictor.predict = predict
        if record_templates:
            refiner = predictor.net.refiner
            real_scores = refiner.template_scores

            def scores(*args, real=real_scores, templates=templates, refiner=refiner):
                out = real(*args)
                templates.append([(s, torch.topk(s, refiner.corr, dim=-1)[1]) for s in out])
                return out

            refiner.template_scores = scores
        outcome = evaluate_sample(predictor, image, gt, protocol)
        assert outcome.status == "ok", outcome.error
        results[implementation] = (outputs, templates, outcome.clicks)
    return results


def assert_same_outputs(results, allow_template_ties: bool = False) -> None:
    (eng, eng_templates, eng_clicks), (off, off_templates, off_clicks) = results["engineered"], results["official"]
    assert eng_clicks == off_clicks and len(eng) == len(off) == CLICKS
    for k, (a, b) in enumerate(zip(eng, off)):
        reordered = allow_template_ties and any(not torch.equal(i, j) for (_, i), (_, j) in
                                                zip(eng_templates[k], off_templates[k]))
        if not reordered:
            assert np.abs(a - b).max() <= TOLERANCE, f"click {k + 1}"
            continue
        # EMC-Click's output depends on the order of its top-K templates: where the two implementations
        # order them differently, the templates swapped must tie within float32 rounding
        for (scores, mine), (_, theirs) in zip(eng_templates[k], off_templates[k]):
            for row in range(mine.shape[0]):
                differ = mine[row] != theirs[row]
                gap = (scores[row, mine[row][differ]] - scores[row, theirs[row][differ]]).abs()
                assert gap.numel() == 0 or gap.max().item() < 1e-5, f"click {k + 1}: templates reordered without a tie"


@pytest.mark.parametrize("stem, name", [("ritm_hrnet18s", "ritm-hrnet18s"), ("emc_hrnet18s", "emc-hrnet18s"),
                                        ("focalclick_segformerB0_S2", "focalclick-segformer-b0-s2"),
                                        ("focalclick_segformerB0_S2", "focalclick-segformer-b0-s1")])
@pytest.mark.parametrize("index", [3, 17])
def test_both_implementations_give_the_same_outputs_with_the_golden_weights(stem, name, index):
    path = GOLDEN / f"{stem}.golden.pt"
    if not path.is_file():
        pytest.skip(f"{path} not found: the official networks' reference weights are unavailable")
    _, state = golden.load_golden(path)
    image, gt = real_or_generated(index)
    assert_same_outputs(run_both(name, state, image, gt, record_templates=name.startswith("emc")),
                        allow_template_ties=name.startswith("emc"))


@pytest.mark.parametrize("name", ["focalclick-hrnet18s-s1", "focalclick-hrnet18s-s2", "emc-segformer-b0",
                                  "focalclick-segformer-b3-s2"])
def test_both_implementations_give_the_same_outputs_with_seeded_weights(name):
    """On an embedded scene, no data needed (the seeded weights of these variants are well conditioned)."""
    s = open_dataset("Synthetic").load(2)
    emc = name.startswith("emc")
    assert_same_outputs(run_both(name, None, s.image, s.gt, record_templates=emc), allow_template_ties=emc)


def test_fused_and_explicit_attention_agree():
    gen = torch.Generator().manual_seed(0)
    attention = EfficientAttention(64, 2, 4).eval()
    x = torch.randn(2, 24 * 32, 64, generator=gen)
    with torch.inference_mode():
        fused = attention(x, 24, 32)
        set_engineered(attention, False)
        explicit = attention(x, 24, 32)
    assert (fused - explicit).abs().max().item() < 1e-5


def test_engineered_and_official_correction_network_agree_on_the_same_inputs():
    """Correlation as one matrix product vs grouped convolutions, attention fused vs nn.MultiheadAttention,
    the image-only context kept vs recomputed: equal given the same fused map and templates."""
    gen = torch.Generator().manual_seed(1)
    net = emc_refiner.MaskCorrection(96, 64, 64).eval()
    for p in net.parameters():
        p.data.normal_(0, 0.2, generator=gen)
    image = torch.randn(2, 3, 96, 128, generator=gen)
    disks = (torch.rand(2, 2, 96, 128, generator=gen) > 0.97).float()
    feature = torch.randn(2, 96, 24, 32, generator=gen)
    logits = torch.randn(2, 1, 96, 128, generator=gen)
    points = torch.tensor([[[40.0, 50.0, 0.0], [10.0, 90.0, 2.0], [70.0, 20.0, 1.0], [-1.0, -1.0, -1.0]]] * 2)
    sq = torch.rand(2, 2, 96, 128, generator=gen) * 500
    with torch.inference_mode():
        engineered = net(image, disks, feature, logits, points, sq, net.image_context(image, feature))
        set_engineered(net, False)
        official = net(image, disks, feature, logits, points, sq)
    assert (engineered - official).abs().max().item() < 1e-5


def network_calls(name: str, implementation: str, clicks: int = 4) -> list[list[str]]:
    """The network functions each click calls, recorded through the predictor's network boundary."""
    predictor = load_predictor(name, implementation=implementation)
    predictor.prepare(presets()[predictor.family], "GrabCut")
    s = open_dataset("Synthetic").load(0)
    calls = []
    real = predictor.network

    def network(fn, *args):
        calls[-1].append(getattr(fn, "__name__", type(fn).__name__))
        return real(fn, *args)

    predictor.network = network
    real_predict = predictor.predict
    predictor.predict = lambda c, p: calls.append([]) or real_predict(c, p)
    evaluate_sample(predictor, s.image, s.gt, presets()[predictor.family].replace(
        max_clicks=clicks, early_stop="never", untrained_control="gt-degraded"))
    return calls


def test_official_arithmetic_redoes_the_per_click_work_and_engineered_keeps_it():
    # EMC-Click: the official network call every click (4-channel input, whole correction network);
    # engineered: the base network and image context at click 1, the correction alone after
    assert network_calls("emc-hrnet18s", "official") == [["EMCNet"]] * 4
    assert network_calls("emc-hrnet18s", "engineered") == [["first_click"]] + [["later_click"]] * 3
    # RITM: engineered computes the crop's image stage only when the zoom-in box changes
    official = network_calls("ritm-hrnet18s", "official", clicks=6)
    engineered = network_calls("ritm-hrnet18s", "engineered", clicks=6)
    assert official == [["RITMNet"]] * 6
    assert all(c[-1] == "logits" for c in engineered) and engineered[0] == ["image_stage", "logits"]
    assert any(c == ["logits"] for c in engineered[2:])  # the box stayed: its image stage was kept
    # FocalClick: segmentor and refiner every click in both
    assert all(c[0] == "FocalClickNet" and c[-1] == "refine" for c in network_calls("focalclick", "official"))
    assert all(c[-2:] == ["coarse", "refine"] for c in network_calls("focalclick", "engineered"))


@pytest.mark.parametrize("implementation", ["engineered", "official"])
def test_cost_phases_replay_exactly_what_the_predictor_computes(implementation):
    predictor = load_predictor("emc", implementation=implementation)
    predictor.prepare(presets()["emc"], "frame")
    first, later = predictor.cost_phases(96, 128)
    assert (first.click, later.click) == (1, 5) and first.input_size == later.input_size == (384, 512)
    assert first.batch == 2 and later.params == sum(p.numel() for p in predictor.net.refiner.parameters())
    grad = torch.inference_mode if implementation == "engineered" else torch.no_grad
    with grad():
        again = later.module(*later.inputs)
        assert all(torch.equal(a, b) for a, b in zip(again, later.module(*later.inputs)))
    names = [type(call.fn).__name__ if not hasattr(call.fn, "__name__") else call.fn.__name__
             for call in later.module.calls]
    assert names == (["later_click"] if implementation == "engineered" else ["EMCNet"])
