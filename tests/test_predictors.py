"""The deep adapters: every variant through the harness, EMC-Click's caching, the predictors' own
rules (zoom-in, flip, focus crop), weights loading and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import clicks_of

from iseg_bench.adapters import FAMILIES, METHODS, VARIANTS, load_predictor
from iseg_bench.adapters.geometry import object_roi, short_side_size, zoom_size
from iseg_bench.adapters.nets.clicks import points_tensor
from iseg_bench.adapters.weights import WeightsError
from iseg_bench.datasets import open_dataset
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import Protocol
from iseg_bench.records import METHOD_ERROR, OK

FAST = Protocol(max_clicks=3, early_stop="never", input_size=96, flip_tta=True)


@pytest.fixture(scope="module")
def small_sample():
    """A real photo (GrabCut 'llama') shrunk to 72x100 when ../shared is present, else a generated scene."""
    from conftest import SHARED_DATASETS

    if (SHARED_DATASETS / "GrabCut").is_dir():
        ds = open_dataset("GrabCut", SHARED_DATASETS)
        s = ds.load(ds.ids.index("llama"))
    else:
        s = open_dataset("Synthetic").load(0)
    small = s.resized((100, 72))
    return small.image, small.gt


def test_registry_has_every_variant_and_the_family_defaults():
    assert set(VARIANTS) == {v.name for f in FAMILIES.values() for v in f.variants} and len(VARIANTS) == 17
    for family in FAMILIES.values():
        assert METHODS.canonical(family.name) == family.default
        assert all(v.family == family.name and METHODS.canonical(v.name) == v.name for v in family.variants)


# SAM ViT-L and ViT-H run ViT-B's code with other widths (their shapes: test_nets, test_sam); at
# 1024 x 1024 they would add minutes, not coverage
@pytest.mark.parametrize("name", sorted(set(VARIANTS) - {"sam-vit-l", "sam-vit-h"}))
def test_every_variant_runs_through_the_harness_untrained(name, small_sample):
    image, gt = small_sample
    predictor = load_predictor(name)
    predictor.prepare(FAST, "GrabCut")
    out = evaluate_sample(predictor, image, gt, FAST)
    assert out.status == OK, out.error
    assert len(out.ious) == 3 and all(0.0 <= v <= 1.0 for v in out.ious)
    info = predictor.describe()
    assert info.trained is False and info.label == f"{name} (untrained)" and "iseg-bench weights" in info.notes
    assert info.params == sum(p.numel() for p in VARIANTS[name].build().parameters())


def test_emc_runs_its_base_network_once_per_image(small_sample):
    image, gt = small_sample
    predictor = load_predictor("emc")
    predictor.prepare(FAST, "GrabCut")
    assert predictor.capabilities.later_clicks_differ and predictor.capabilities.caches_image_work
    evaluate_sample(predictor, image, gt, Protocol(max_clicks=5, early_stop="never"))
    assert predictor.base_runs == 1
    evaluate_sample(predictor, image[::-1].copy(), gt[::-1].copy(), Protocol(max_clicks=4, early_stop="never"))
    assert predictor.base_runs == 2


@torch.inference_mode()
def test_emc_predictor_equals_the_official_call_sequence(small_sample):
    """Resize, flip and caching of the adapter give what the official predictor feeds the network."""
    image, _ = small_sample
    predictor = load_predictor("emc-hrnet18s")
    predictor.prepare(Protocol(flip_tta=True), "GrabCut")
    predictor.set_image(image)
    h, w = image.shape[:2]
    nh, nw = short_side_size(h, w, 384)
    rgb = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(torch.cat([rgb, torch.zeros(1, 1, h, w)], 1), (nh, nw), mode="bilinear", align_corners=True)
    x = torch.cat([x, torch.flip(x, dims=[3])], 0)
    clicks = clicks_of((30, 40, True), (10, 80, False), (50, 20, True))
    cached = None
    for k in range(1, 4):
        rows = [(c.y * nh / h, c.x * nw / w, c.is_positive, c.index) for c in clicks[:k]]
        flipped = [(y, nw - xx - 1, p, i) for y, xx, p, i in rows]
        cached, refined = predictor.net(x, points_tensor([rows, flipped]), cached)
        logits = refined["instances_refined"]
        expected = F.interpolate(torch.sigmoid(0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))), (h, w),
                                 mode="bilinear", align_corners=True)[0, 0]
        mine = predictor.predict(clicks[:k], None)
        assert np.abs(mine - expected.numpy()).max() < 1e-5
    assert predictor.base_runs == 1


class _SquareNet(torch.nn.Module):
    """A stand-in RITM network: logits +10 inside a fixed box of the input, -10 outside; records the
    input size (batch, height, width) and points of every call, in both implementations' entries."""

    def __init__(self, box) -> None:
        super().__init__()
        self.box, self.inputs = box, []

    def _logits(self, x, points):
        self.inputs.append(((x.shape[0], *x.shape[-2:]), points.clone()))
        y0, y1, x0, x1 = self.box
        logits = torch.full((x.shape[0], 1, *x.shape[-2:]), -10.0)
        logits[:, :, y0:y1, x0:x1] = 10.0
        return logits

    def forward(self, x, points):  # the official contract
        logits = self._logits(x, points)
        return {"instances": logits, "instances_aux": logits}

    def image_stage(self, image):
        return None

    def logits(self, image, prev, points, stage=None):
        return self._logits(image, points)


@pytest.mark.parametrize("implementation", ["engineered", "official"])
def test_ritm_zooms_in_from_the_second_click_and_flips(implementation):
    predictor = METHODS.get("ritm")("ritm-hrnet18s", implementation=implementation)
    predictor.prepare(Protocol(flip_tta=True), "GrabCut")
    image = np.zeros((240, 320, 3), np.uint8)
    predictor.set_image(image)
    predictor.net = _SquareNet((100, 150, 120, 200))
    first = predictor.predict(clicks_of((120, 150, True)), None)
    shape, points = predictor.net.inputs[-1]
    assert shape == (2, 240, 320)  # click 1: native resolution, with its mirror
    assert points[1, 0, 1].item() == 320 - 150 - 1  # x' = W - x - 1
    assert (first > 0.5).sum() == 50 * 80
    predictor.predict(clicks_of((120, 150, True), (10, 10, False)), None)
    roi = object_roi(first > 0.5, [(120, 150)], 1.4, 200)
    assert predictor.roi == roi
    shape, points = predictor.net.inputs[-1]
    assert shape[-2:] == zoom_size(roi, 400)


class _FocalStub(torch.nn.Module):
    """FocalClick stand-in: the coarse mask is a centred square of the target crop whose size
    follows the number of clicks; the refiner answers +5 (foreground) everywhere."""

    def forward(self, x, points):  # the official contract
        logits, feature = self.coarse(x, None, points)
        return {"instances": logits, "instances_aux": logits, "feature": feature}

    def image_stage(self, image):
        return None

    def coarse(self, image, prev, points, stage=None):
        n = int((points[0, :, 2] >= 0).sum())
        s = image.shape[-1]
        half = s // 8 + n
        logits = torch.full((image.shape[0], 1, s, s), -10.0)
        logits[:, :, s // 2 - half:s // 2 + half, s // 2 - half:s // 2 + half] = 10.0
        return logits, torch.zeros(image.shape[0], 8, s // 4, s // 4)

    def refine(self, crop, points, feature, logits, box):
        full = torch.full((1, 1, *crop.shape[-2:]), 5.0)
        return {"instances_refined": full, "instances_coarse": full}


@pytest.mark.parametrize("implementation", ["engineered", "official"])
def test_focalclick_changes_only_the_focus_crop_after_ten_clicks(monkeypatch, implementation):
    import iseg_bench.adapters.focalclick.predictor as module

    boxes = []
    real = module.focus_crop
    monkeypatch.setattr(module, "focus_crop", lambda *a: boxes.append(real(*a)) or boxes[-1])
    predictor = METHODS.get("focalclick")("focalclick-hrnet18s-s2", implementation=implementation)
    predictor.prepare(Protocol(), "GrabCut")
    predictor.set_image(np.zeros((200, 300, 3), np.uint8))
    predictor.net = _FocalStub()
    clicks = clicks_of(*[(100 + (k % 3), 150 + k, k % 4 != 1) for k in range(11)])
    before = [predictor.predict(clicks[:k], None) for k in range(1, 11)]
    assert not np.allclose(before[-1], before[-2])  # up to click 10 the coarse mask is redrawn
    after = predictor.predict(clicks, None)
    y1, y2, x1, x2 = boxes[-1]
    outside = np.ones(after.shape, bool)
    outside[y1:y2, x1:x2] = False
    assert outside.sum() > after.size // 10
    assert np.abs(after[outside] - before[-1][outside]).max() < 1e-6  # click 11 only rewrites the focus box
    assert (after[~outside] > 0.99).all()


def test_bad_images_are_method_errors_with_clear_messages():
    predictor = load_predictor("emc")
    with pytest.raises(ValueError, match=r"RGB uint8 image of shape \(H, W, 3\), got float32"):
        predictor.set_image(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError, match="smaller than the network's minimum side"):
        predictor.set_image(np.zeros((8, 64, 3), np.uint8))
    gt = np.zeros((8, 64), np.int32)
    gt[2:6, 10:20] = 1
    out = evaluate_sample(predictor, np.zeros((8, 64, 3), np.uint8), gt, Protocol())
    assert out.status == METHOD_ERROR and out.error.startswith("set_image: ValueError")


# --- weights ---------------------------------------------------------------------------------

def save_checkpoint(path, state):
    torch.save({"state_dict": state, "config": {"class": "isegm.model.is_refine_model.HRNetRefineModel",
                                                "params": {"width": {"type": "builtin", "value": 18}}}}, path)


def test_official_format_checkpoint_loads_with_and_without_aliases(tmp_path):
    reference = VARIANTS["emc-hrnet18s"].build()
    for p in reference.parameters():
        torch.nn.init.normal_(p)
    state = reference.state_dict()
    assert "refiner.corr_conv_pos.conv1x1.weight" in state  # the official duplicate names
    save_checkpoint(tmp_path / "hr18s.pth", state)
    predictor = load_predictor("emc", weights=tmp_path)
    assert predictor.trained and predictor.describe().label == "emc-hrnet18s"
    assert predictor.weights_id.startswith("sha256:")
    # no official SHA-256 is published, so a file that loads is a user checkpoint, never "official"
    info = predictor.describe()
    assert info.origin == "user" and info.status == "user checkpoint (origin unverified)"
    assert "origin unverified" in info.notes
    assert torch.equal(predictor.net.refiner.corr_conv_neg.conv1x1.weight, state["refiner.corr_conv.conv1x1.weight"])
    without = {k: v for k, v in state.items() if "corr_conv_pos" not in k and "corr_conv_neg" not in k}
    save_checkpoint(tmp_path / "dedup.pth", without)
    assert load_predictor("emc", weights=tmp_path / "dedup.pth").trained


@pytest.mark.parametrize("damage, message", [
    ("other_variant", "does not fit emc-hrnet18s .*missing keys: refiner"),
    ("shape", "has shape"),
    ("alias", "should alias"),
    ("truncated", "not a readable PyTorch checkpoint"),
    ("pickle", "refused to load"),
])
def test_bad_checkpoints_are_refused_with_reasons(tmp_path, damage, message):
    path = tmp_path / "hr18s.pth"
    state = VARIANTS["emc-hrnet18s"].build().state_dict()
    if damage == "other_variant":
        save_checkpoint(path, VARIANTS["ritm-hrnet18s"].build().state_dict())
    elif damage == "shape":
        state["refiner.refine_pred.bias"] = torch.zeros(2)
        save_checkpoint(path, state)
    elif damage == "alias":
        state["refiner.corr_conv_pos.conv1x1.bias"] = state["refiner.corr_conv.conv1x1.bias"] + 1
        save_checkpoint(path, state)
    elif damage == "truncated":
        save_checkpoint(path, state)
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "pickle":
        torch.save({"state_dict": state, "hook": _Evil()}, path)
    with pytest.raises(WeightsError, match=message):
        load_predictor("emc", weights=path)


def test_only_a_file_with_the_published_sha256_is_official(tmp_path):
    import dataclasses

    from iseg_bench.atomic_files import sha256_file

    variant = VARIANTS["ritm-hrnet18s"]
    path = tmp_path / "ritm-hrnet18s.pth"
    save_checkpoint(path, variant.build().state_dict())
    published = dataclasses.replace(variant, weights=dataclasses.replace(variant.weights, sha256=sha256_file(path)))
    official = type(load_predictor("ritm"))(published, weights=path).describe()
    assert official.origin == "official" and official.status == "official weights"
    other = dataclasses.replace(variant, weights=dataclasses.replace(variant.weights, sha256="0" * 64))
    user = type(load_predictor("ritm"))(other, weights=path).describe()
    assert user.origin == "user" and "differs from the published official file's" in user.notes


class _Evil:
    """An object a plain tensor loader must refuse to reconstruct."""


def test_missing_weights_path_is_an_error(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_predictor("ritm", weights=tmp_path / "nope.pth")
