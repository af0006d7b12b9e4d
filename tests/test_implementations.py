"""The engineered and the official-arithmetic implementations of every family: the same clicks,
outputs and carried state, unsteered, click by click (``adapters/equivalence.py``), different
per-click work, one network boundary, and the recorded cost phases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED_DATASETS
from torch.utils._pytree import tree_flatten

from iseg_bench import presets
from iseg_bench.adapters import FAMILIES, METHODS, equivalence, golden, load_predictor
from iseg_bench.adapters.nets import emc_refiner
from iseg_bench.adapters.nets.layers import set_engineered
from iseg_bench.adapters.nets.segformer import EfficientAttention
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import Protocol

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden"
CLICKS = 12
# every variant whose code path differs: each backbone, S1 and S2, C64 and C96 (SAM's sizes differ
# only in their configuration: tests/test_sam.py compares them through tiny configurations)
DEEP_VARIANTS = [v.name for name, family in FAMILIES.items() if name != "sam" for v in family.variants]


def real_or_generated(index: int) -> tuple[np.ndarray, np.ndarray]:
    """A GrabCut photo when ../shared is present, else an embedded scene (at most 320 px wide)."""
    if (SHARED_DATASETS / "GrabCut").is_dir():
        s = open_dataset("GrabCut", SHARED_DATASETS).load(index)
    else:
        s = open_dataset("Synthetic").load(index)
    scale = min(1.0, 320 / s.image.shape[1])
    size = (int(s.image.shape[1] * scale), int(s.image.shape[0] * scale))
    small = s.resized(size)
    return small.image, small.gt


def calibrated(name: str) -> Callable[[str], object]:
    return lambda implementation: load_predictor(name, weights="calibrated", implementation=implementation)


def check(agreement: equivalence.Agreement, clicks: int = CLICKS) -> None:
    """Every click compared within the tolerances up to the end, or (EMC-Click only) up to one exempt
    click where a tie of two template scores changed the outcome and the runs forked."""
    assert not agreement.failures(), "\n".join(agreement.failures())
    if agreement.forked_at is None:
        assert len(agreement.clicks) == clicks and agreement.exempt == 0
    else:
        assert agreement.variant.startswith("emc") and agreement.exempt == 1
    compared = agreement.worst()
    assert compared["clicks"] == 0 and "probabilities" in compared


def published(name: str, input_size: int | None = None) -> Protocol:
    """The variant's family preset, unsteered, CLICKS clicks (beyond FocalClick's switch at 10)."""
    family = METHODS.get(name).family
    return presets()[family].replace(max_clicks=CLICKS, early_stop="never", untrained_control="own",
                                     input_size=input_size)


def compare_on_a_real_image(name: str) -> equivalence.Agreement:
    """Unsteered, on a real image (an embedded one without ../shared), with calibrated weights that make
    decisive, click-dependent masks. The networks' input side is 192 (RITM's zoom-in, EMC-Click's short
    side, FocalClick's crops): the same code paths as at the published sizes (which
    benchmarks/implementation_agreement.py runs) in a fraction of the time."""
    image, gt = real_or_generated((3 + 7 * DEEP_VARIANTS.index(name)) % 30)
    return equivalence.compare_implementations(calibrated(name), image, gt, published(name, 192), "GrabCut", name)


@pytest.mark.parametrize("name", [n for n in DEEP_VARIANTS if not n.startswith("emc")])
def test_engineered_equals_official_click_by_click_with_the_state_each_carries(name):
    """The same clicks, probabilities, boxes and carried tensors at every click."""
    check(compare_on_a_real_image(name))


def test_emc_click_too_and_its_template_tie_exemption_is_counted_and_bounded():
    """Every EMC-Click variant (both bases, C64 and C96) as above; where two templates tie within float32
    rounding and their order changes the outcome, the click is exempt and the runs fork there: at most
    one such click per run, and at least half of all the clicks run compared."""
    agreements = [compare_on_a_real_image(n) for n in DEEP_VARIANTS if n.startswith("emc")]
    for agreement in agreements:
        check(agreement)
    compared = sum(1 for a in agreements for c in a.clicks if not c.exempt)
    assert sum(a.exempt for a in agreements) <= len(agreements) and compared >= len(agreements) * CLICKS // 2, [
        (a.variant, a.forked_at) for a in agreements]


@pytest.mark.parametrize("stem, name", [("ritm_hrnet18s", "ritm-hrnet18s"), ("emc_hrnet18s", "emc-hrnet18s"),
                                        ("focalclick_segformerB0_S2", "focalclick-segformer-b0-s2"),
                                        ("focalclick_segformerB0_S2", "focalclick-segformer-b0-s1")])
def test_engineered_equals_official_with_the_golden_weights(stem, name):
    path = GOLDEN / f"{stem}.golden.pt"
    if not path.is_file():
        pytest.skip(f"{path} not found: the official networks' reference weights are unavailable")
    _, state = golden.load_golden(path)

    def make(implementation):
        predictor = load_predictor(name, implementation=implementation)
        predictor.net.load_state_dict(state)
        return predictor

    image, gt = real_or_generated(17)
    check(equivalence.compare_implementations(make, image, gt, published(name), "GrabCut", name))


def test_a_template_tie_is_exempt_and_any_other_reordering_is_not():
    """The EMC-Click exemption is narrow: a swap of two templates whose scores tie within float32
    rounding forks the runs (counted); a swap across a real gap is a failure."""
    order = torch.tensor([[0, 1, 2]])
    tied, gap = torch.tensor([[5.0, 5.0 + 1e-6, 1.0]]), torch.tensor([[5.0, 4.0, 1.0]])
    assert equivalence._tie_swap([(tied, order)], [(tied, order)]) == ""
    assert "tie" in equivalence._tie_swap([(tied, order)], [(tied, torch.tensor([[1, 0, 2]]))])
    with pytest.raises(AssertionError, match="without a tie"):
        equivalence._tie_swap([(gap, order)], [(gap, torch.tensor([[1, 0, 2]]))])


def test_a_difference_in_carried_state_fails_the_comparison(monkeypatch):
    """The comparison sees the state: an official RITM whose zoom-in box is one pixel off fails it,
    though its first click (no box yet) agrees."""
    from iseg_bench.adapters.ritm.predictor import RITMPredictor

    real = RITMPredictor._zoom_box

    def zoom_box(self, clicks):
        box = real(self, clicks)
        return box if box is None or not self.official else (box[0], box[1] - 1, *box[2:])

    monkeypatch.setattr(RITMPredictor, "_zoom_box", zoom_box)
    image, gt = real_or_generated(3)
    agreement = equivalence.compare_implementations(calibrated("ritm-hrnet18s"), image, gt,
                                                    published("ritm-hrnet18s").replace(max_clicks=4), "GrabCut")
    assert agreement.clicks[0].failures() == [] and agreement.failures()


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
    for phase in (first, later):  # the replay returns what the predictor's own calls returned, bit for bit
        computed = [t for t in tree_flatten([call.result for call in phase.module.calls])[0]
                    if isinstance(t, torch.Tensor)]
        with grad():
            replayed = phase.module(*phase.inputs)
        assert len(replayed) == len(computed) > 0
        assert all(torch.equal(a, b) for a, b in zip(replayed, computed))
    names = [type(call.fn).__name__ if not hasattr(call.fn, "__name__") else call.fn.__name__
             for call in later.module.calls]
    assert names == (["later_click"] if implementation == "engineered" else ["EMCNet"])
