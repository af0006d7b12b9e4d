"""The re-implemented networks against the official ones: key names and shapes, parameter counts,
and the reference outputs in ../shared/golden (produced by the official code)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from iseg_bench.adapters import VARIANTS, golden
from iseg_bench.adapters.nets.clicks import disk_maps, points_tensor, squared_distance_maps
from iseg_bench.adapters.nets.roi_align import roi_align

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden"

# trainable parameters of the official networks (../shared/reference/protocol.md §8 case 25 and golden key lists)
PARAMS = {
    "ritm-hrnet18s": 4_220_047, "ritm-hrnet18": 10_032_019, "ritm-hrnet32": 30_951_363,
    "emc-hrnet18s": 4_322_416, "emc-hrnet18": 10_239_828, "emc-hrnet32": 31_171_460,
    "emc-segformer-b0": 3_828_770, "emc-segformer-b3": 45_896_738,
    "focalclick-hrnet18s-s1": 4_231_377, "focalclick-hrnet18s-s2": 4_231_377, "focalclick-hrnet32-s2": 30_967_813,
    "focalclick-segformer-b0-s1": 3_740_773, "focalclick-segformer-b0-s2": 3_740_773,
    "focalclick-segformer-b3-s2": 45_687_941,
}
REFINER_PARAMS = {"emc-hrnet18s": 102_401, "emc-hrnet18": 207_841, "emc-hrnet32": 220_129,
                  "emc-segformer-b0": 112_641, "emc-segformer-b3": 244_705,
                  "focalclick-hrnet18s-s2": 11_330, "focalclick-hrnet32-s2": 16_450}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def nets():
    return {}


def build(name: str, cache: dict) -> torch.nn.Module:
    if name not in cache:
        cache[name] = VARIANTS[name].build().eval()
    return cache[name]


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts_are_the_official_ones(name, nets):
    net = build(name, nets)
    assert count(net) == PARAMS[name]
    if name in REFINER_PARAMS:
        assert count(net.refiner) == REFINER_PARAMS[name]


def test_parameter_counts_round_to_the_papers_table1(nets):
    """Table 1 of the EMC-Click paper, in M parameters."""
    # (FocalClick-SegB3's "45.6" is not reproduced: the network has 45.688 M, ClickSEG#10's thop 45.658 M)
    table1 = {"ritm-hrnet18s": 4.22, "focalclick-segformer-b0-s2": 3.74}
    for name, published in table1.items():
        assert round(count(build(name, nets)) / 1e6, 2) == published
    # MaskCorrection-C64 "0.11" and C96 "0.22": the paper counts BatchNorm running statistics too;
    # trainable parameters alone are 0.102 M and 0.220 M
    for name, published in (("emc-hrnet18s", 0.11), ("emc-hrnet32", 0.22)):
        refiner = build(name, nets).refiner
        stats = sum(b.numel() for n, b in refiner.named_buffers() if not n.endswith("num_batches_tracked"))
        assert round((count(refiner) + stats) / 1e6, 2) == published


@pytest.mark.skipif(not GOLDEN.is_dir(), reason=f"official key lists not found in {GOLDEN}")
@pytest.mark.parametrize("name", sorted({v.name for v in VARIANTS.values()}))
def test_state_dict_keys_and_shapes_equal_the_official_network(name):
    reference = json.loads((GOLDEN / f"{VARIANTS[name].golden}.keys.json").read_text())
    with torch.device("meta"):  # names and shapes only (SAM ViT-H has 641 M parameters)
        net = VARIANTS[name].build()
    mine = [[k, list(v.shape)] for k, v in net.state_dict().items()]
    assert mine == reference.get("keys", reference.get("state_dict"))  # two manifest formats, the same content
    assert count(net) == reference["num_trainable_params"]


def load_golden(model: str):
    path = GOLDEN / f"{model}.golden.pt"
    if not path.is_file():
        pytest.skip(f"{path} not found: golden outputs of the official networks are unavailable")
    return golden.load_golden(path)


@pytest.mark.parametrize("stem", sorted(golden.GOLDEN_MODELS))
def test_golden_outputs_of_the_official_call_sequence(stem):
    """RITM hrnet18s, EMC-Click hrnet18s (cached and uncached correction calls), FocalClick SegFormer-B0
    S2 (segmentor and refiner): every tensor the official code returned, within the tolerance."""
    g, state = load_golden(stem)
    net = VARIANTS[golden.GOLDEN_MODELS[stem][0]].build().eval()
    net.load_state_dict(state)
    got = golden.golden_outputs(net, stem, g)
    for key, value in got.items():
        reference = g["outputs"][key]
        assert value.shape == reference.shape, key
        assert (value - reference).abs().max().item() <= golden.MAX_ABS_TOLERANCE, key


# --- click encoding (../shared/reference/protocol.md §8 cases 10 and 21) -----------------------

def test_points_layout_positive_rows_then_negative_rows():
    pts = points_tensor([[(3, 4, True, 0), (7, 7, False, 1), (2, 2, True, 2)]])
    assert pts.tolist() == [[[3, 4, 0], [2, 2, 2], [7, 7, 1], [-1, -1, -1]]]
    assert points_tensor([[]]).tolist() == [[[-1, -1, -1], [-1, -1, -1]]]


def test_disk_of_radius_5_has_81_pixels_and_padding_sets_nothing():
    pts = points_tensor([[(10, 10, True, 0)]])
    disks = disk_maps(squared_distance_maps(pts, 30, 30), 5)
    assert disks[0, 0].sum().item() == 81 and disks[0, 1].sum().item() == 0
    assert squared_distance_maps(pts, 30, 30)[0, 1].eq(1e6).all()


def test_fractional_clicks_use_float32_arithmetic():
    sq = squared_distance_maps(torch.tensor([[[2.5, 3.25, 0.0], [-1.0, -1.0, -1.0]]]), 6, 6)
    assert sq[0, 0, 2, 3].item() == pytest.approx(0.5 ** 2 + 0.25 ** 2)


# --- RoIAlign against a slow, literal reference -----------------------------------------------

def roi_align_reference(feat, box, out_h, out_w, scale):
    """torchvision's aligned RoIAlign written out sample by sample (slow, for tests)."""
    _, c, h, w = feat.shape
    b, x1, y1, x2, y2 = box
    x1, y1, x2, y2 = x1 * scale - 0.5, y1 * scale - 0.5, x2 * scale - 0.5, y2 * scale - 0.5
    bh, bw = (y2 - y1) / out_h, (x2 - x1) / out_w
    gh, gw = max(1, math.ceil((y2 - y1) / out_h)), max(1, math.ceil((x2 - x1) / out_w))

    def sample(ch, y, x):
        if y < -1.0 or y > h or x < -1.0 or x > w:
            return 0.0
        y, x = max(y, 0.0), max(x, 0.0)
        yl, xl = int(y), int(x)
        if yl >= h - 1:
            yl = yh = h - 1
            y = float(yl)
        else:
            yh = yl + 1
        if xl >= w - 1:
            xl = xh = w - 1
            x = float(xl)
        else:
            xh = xl + 1
        ly, lx = y - yl, x - xl
        f = feat[int(b), ch]
        return ((1 - ly) * (1 - lx) * f[yl, xl] + (1 - ly) * lx * f[yl, xh]
                + ly * (1 - lx) * f[yh, xl] + ly * lx * f[yh, xh]).item()

    out = torch.zeros(c, out_h, out_w)
    for ch in range(c):
        for ph in range(out_h):
            for pw in range(out_w):
                acc = 0.0
                for iy in range(gh):
                    for ix in range(gw):
                        acc += sample(ch, y1 + ph * bh + (iy + 0.5) * bh / gh, x1 + pw * bw + (ix + 0.5) * bw / gw)
                out[ch, ph, pw] = acc / (gh * gw)
    return out


@pytest.mark.parametrize("box, out, scale", [
    ((0, 1.0, 2.0, 9.0, 7.0), (4, 5), 1.0),  # a box inside the map
    ((0, 0.0, 0.0, 40.0, 24.0), (3, 3), 0.25),  # grid of several samples per bin
    ((1, -4.0, 3.5, 13.0, 14.0), (6, 6), 1.0),  # crossing the border, second batch item
    ((0, 2.3, 1.7, 2.9, 2.2), (5, 5), 1.0),  # smaller than a pixel
])
def test_roi_align_matches_the_reference_algorithm(box, out, scale):
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(2, 3, 10, 12, generator=gen)
    mine = roi_align(feat, torch.tensor([box]), out, scale)[0]
    ref = roi_align_reference(feat, box, *out, scale)
    assert (mine - ref).abs().max().item() < 1e-5
