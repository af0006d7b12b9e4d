"""Segment Anything: the networks equal the official ones (state-dict names, order, shapes, parameter
counts), the tiny reference model built from the official classes is reproduced call by call within
the reference README's tolerances, and both implementations give the same outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from iseg_bench.adapters import load_predictor
from iseg_bench.adapters.sam.network import TINY_SIZES, Sam, tiny_variant
from iseg_bench.adapters.sam.predictor import SAMPredictor, preprocess_shape, resize_image
from iseg_bench.clicker import Click
from iseg_bench.datasets import open_dataset
from iseg_bench.protocol import Protocol, resolve_protocol

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden" / "sam"
needs_golden = pytest.mark.skipif(not (GOLDEN / "sam_tiny.golden.pt").exists(),
                                  reason=f"SAM reference data not found in {GOLDEN}")
# whole model, image encoder, prompt encoder, mask decoder (the reference README's measured counts)
COUNTS = {"vit_b": (93_735_472, 89_670_912), "vit_l": (312_342_832, 308_278_272),
          "vit_h": (641_090_608, 637_026_048)}


def meta_model(name: str) -> Sam:
    with torch.device("meta"):  # shapes only: no memory for ViT-H's 641 M parameters
        return Sam.named(name)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_are_the_official_models(name):
    net = meta_model(name)
    whole, encoder = COUNTS[name]
    assert sum(p.numel() for p in net.parameters()) == whole
    assert sum(p.numel() for p in net.image_encoder.parameters()) == encoder
    assert sum(p.numel() for p in net.prompt_encoder.parameters()) == 6_220
    assert sum(p.numel() for p in net.mask_decoder.parameters()) == 4_058_340


# the state-dict names, order and shapes against the official manifests: tests/test_nets.py


def tiny_predictor(implementation: str, state: dict | None = None) -> SAMPredictor:
    predictor = SAMPredictor(tiny_variant(), implementation=implementation)
    if state is not None:
        predictor.net.load_state_dict(state, strict=True)
    return predictor


@pytest.fixture(scope="module")
def golden():
    if not (GOLDEN / "sam_tiny.golden.pt").exists():
        pytest.skip(f"SAM reference data not found in {GOLDEN}")
    g = torch.load(GOLDEN / "sam_tiny.golden.pt", weights_only=True)
    g["state"] = {k: v["offset"] + v["q"].float() * v["step"] for k, v in g["state_dict_q"].items()}
    return g


@needs_golden
def test_resize_is_bit_exact(golden):
    image = golden["image"].numpy()
    assert preprocess_shape(*image.shape[:2]) == tuple(golden["set_image"]["input_size"])
    assert np.array_equal(resize_image(image), golden["set_image"]["resized_image"].numpy())
    for check in golden["resize_checks"]:
        source = np.random.default_rng(check["seed"]).integers(0, 256, size=(*check["input_hw"], 3), dtype=np.uint8)
        out = resize_image(source)
        assert list(out.shape[:2]) == list(check["output_hw"])
        assert hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest() == check["output_sha256_uint8_hwc"]


@needs_golden
@pytest.mark.parametrize("implementation", ["engineered", "official"])
def test_tiny_reference_model_call_by_call(golden, implementation):
    predictor = tiny_predictor(implementation, golden["state"])
    assert list(predictor.net.state_dict()) == list(golden["state_dict_keys"])
    image = golden["image"].numpy()
    predictor.reset()
    predictor.set_image(image)
    x = predictor.model_input().contiguous()
    digest = hashlib.sha256(x.numpy().astype("<f4").tobytes()).hexdigest()
    assert digest == golden["set_image"]["preprocessed_input"]["sha256_float32_le_bytes"]  # bit-exact input

    call1, call2 = golden["calls"]
    (x1, y1), = call1["point_coords"].tolist()
    probs = predictor.predict([Click(int(y1), int(x1), True, 0)], None)
    with torch.no_grad():
        assert (predictor.features - golden["set_image"]["image_embedding"]).abs().max() <= 1e-4
        net = predictor.net
        pe = net.prompt_encoder.dense_pe()
        assert (pe[:, :, ::8, ::8] - golden["set_image"]["dense_pe_sample_every_8th"]).abs().max() <= 1e-5
        coords, labels = predictor._prompts([Click(int(y1), int(x1), True, 0)])
        assert (coords[0] - call1["point_coords_transformed"].float()).abs().max() <= 1e-4
        assert (net.prompt_encoder.sparse(coords, labels) - call1["sparse_embeddings"]).abs().max() <= 1e-5
    chosen = call1["chosen_index"]
    assert (predictor.low_res[0, 0] - call1["low_res_logits"][chosen]).abs().max() <= 1e-4
    logits = torch.logit(torch.from_numpy(probs)).float()
    reference = call1["mask_logits"][chosen]
    assert (logits - reference).abs().max() <= 1e-4
    decided = reference.abs() >= 1e-3  # only pixels this close to 0 may flip
    assert torch.equal((torch.from_numpy(probs) > 0.5)[decided], call1["masks"][chosen][decided])

    # call 2: three points, the chosen logits as the mask prompt, single-mask output (token 0)
    with torch.no_grad():
        points, point_labels = call2["point_coords"].tolist(), call2["point_labels"].tolist()
        clicks = [Click(int(y), int(x), bool(lab), i) for i, ((x, y), lab) in enumerate(zip(points, point_labels))]
        coords, labels = predictor._prompts(clicks)
        mask_input = call1["low_res_logits"][chosen][None, None]
        dense = net.prompt_encoder.dense(mask_input)
        assert (dense - call2["dense_embeddings"]).abs().max() <= 2e-4
        masks, iou = net.decode(predictor.features, pe, coords, labels, mask_input)
        assert (iou[0] - call2["iou_predictions_all_tokens"]).abs().max() <= 1e-5
        assert (masks[0, :1] - call2["low_res_logits"]).abs().max() <= 1e-4
        assert (predictor._upsample(masks[:, :1])[0] - call2["mask_logits"]).abs().max() <= 1e-4


@pytest.mark.parametrize("size", sorted(TINY_SIZES))
def test_engineered_equals_official_click_by_click_with_the_state_each_carries(size):
    """Every official size's layout through its tiny configuration, calibrated weights, unsteered, under
    the published protocol: the same clicks, probabilities, image embedding and fed-back logits."""
    from iseg_bench.adapters.equivalence import compare_implementations

    variant = tiny_variant(size)
    s = open_dataset("Synthetic").load(4)
    agreement = compare_implementations(
        lambda implementation: SAMPredictor(variant, weights="calibrated", implementation=implementation),
        s.image, s.gt, resolve_protocol("sam").replace(max_clicks=8), "Synthetic", variant.name)
    assert not agreement.failures(), "\n".join(agreement.failures())
    assert len(agreement.clicks) == 8 and agreement.forked_at is None
    assert set(agreement.worst()) == {"clicks", "probabilities", "image embedding", "fed-back logits"}


def test_sam_is_registered_with_its_published_protocol():
    protocol = resolve_protocol("sam")
    assert protocol.prob_threshold == 0.5 and protocol.flip_tta is False and protocol.max_clicks == 20
    assert protocol.early_stop == "never" and "eval_sam" in protocol.description
    predictor = load_predictor("sam")
    info = predictor.describe()
    assert info.name == "sam-vit-b" and info.trained is False and info.params == 93_735_472
    assert "(untrained)" in info.label and info.capabilities.later_clicks_differ
    assert Protocol().hash == "7d7d42d43879"  # adding the family changed no other preset


def test_cost_phases_are_the_encoder_then_the_decoder_alone():
    predictor = tiny_predictor("engineered")
    first, later = predictor.cost_phases(96, 128)
    net = predictor.net
    decoder_params = sum(p.numel() for m in (net.prompt_encoder, net.mask_decoder) for p in m.parameters())
    assert first.params == sum(p.numel() for p in net.parameters()) and later.params == decoder_params
    assert first.input_size == (1024, 1024) and later.input_size == (64, 64)  # the padded input; the embedding
    assert "image encoder" in first.parts and "image encoder" not in later.parts
    with torch.inference_mode():
        outputs = later.module(*later.inputs)
    assert [tuple(t.shape) for t in outputs] == [(1, 4, 256, 256), (1, 4)]  # every mask and IoU of a click


def test_a_checkpoint_loads_strictly_and_a_wrong_one_names_the_keys(tmp_path):
    source = tiny_predictor("engineered")
    variant = source.variant
    good = tmp_path / "sam_tiny.pth"
    torch.save(source.net.state_dict(), good)  # official SAM files are plain state dicts
    loaded = SAMPredictor(variant, weights=good)
    info = loaded.describe()
    assert info.trained is True and info.origin == "user" and "origin unverified" in info.status
    assert all(torch.equal(a, b) for a, b in zip(loaded.net.state_dict().values(), source.net.state_dict().values()))
    broken = dict(source.net.state_dict())
    del broken["mask_decoder.iou_token.weight"]
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(Exception, match="iou_token"):
        SAMPredictor(variant, weights=tmp_path / "broken.pth")


def test_sam_through_run_compare_paper_tables_and_regress(tmp_path):
    """The command line treats SAM like every method: its published preset, the report, a paired
    comparison, the paper tables and a regression baseline (untrained ViT-B, one generated sample)."""
    from click.testing import CliRunner

    from iseg_bench.cli import main

    out, runner = tmp_path / "res", CliRunner()
    r = runner.invoke(main, ["run", "--methods", "sam,disk", "--limit", "1", "--protocol", "sam", "--out", str(out),
                             "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "sam-vit-b (untrained)" in r.output and "protocol 'sam'" in r.output
    r = runner.invoke(main, ["compare", str(out), "disk", "sam-vit-b", "--resamples", "200"])
    assert r.exit_code == 0 and "sam-vit-b" in r.output, r.output
    r = runner.invoke(main, ["paper-tables", str(out), "--out", str(tmp_path / "paper")])
    assert r.exit_code == 0, r.output
    table3 = " ".join((tmp_path / "paper" / "table3.md").read_text().split())  # columns padded to width
    assert "| (not in the paper's table) | – | sam-vit-b (untrained) |" in table3
    baseline = tmp_path / "sam.json"
    r = runner.invoke(main, ["regress", "--baseline", str(baseline), "--update", "--methods", "sam",
                             "--datasets", "Synthetic", "--limit", "1", "--protocol", "sam", "--results", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(baseline.read_text())["methods"]["sam-vit-b"]["device"] == "cpu"
    r = runner.invoke(main, ["regress", "--baseline", str(baseline)])
    assert r.exit_code == 0 and "no change beyond tolerance" in r.output, r.output
