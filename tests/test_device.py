"""Devices: names are checked before any work, every tensor a deep predictor makes follows its
device, results record where they were computed, and regress refuses another device type unless a
tolerance is given. GPU tests run when CUDA is present and skip with the reason otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from iseg_bench.adapters import load_predictor
from iseg_bench.adapters.deep import synthetic_frame
from iseg_bench.click_strategies import make_clicker
from iseg_bench.device import DeviceError, device_type, resolve_device, spread
from iseg_bench.evaluation import evaluate_sample
from iseg_bench.protocol import Protocol
from iseg_bench.regress import IncomparableError, Tolerance, refuse_if_incomparable

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device on this machine (torch "
                                f"{torch.__version__}, CUDA build: {torch.version.cuda or 'none'})")
DEEP = ["ritm-hrnet18s", "focalclick-segformer-b0-s2", "emc-hrnet18s"]


def test_device_names_are_checked_with_the_reason():
    assert resolve_device("cpu") == "cpu" and resolve_device(None) == "cpu"
    assert resolve_device("auto") == ("cuda" if HAS_CUDA else "cpu")
    with pytest.raises(DeviceError, match="choose cpu, cuda, cuda:N or auto"):
        resolve_device("gpu")
    if not HAS_CUDA:
        with pytest.raises(DeviceError, match="no CUDA device on this machine"):
            resolve_device("cuda:0")
    assert device_type("cuda:1") == "cuda" and device_type("cpu") == "cpu"
    assert spread("cpu", 3) == ["cpu"] * 3


def test_run_refuses_an_absent_device_naming_the_option(tmp_path):
    from click.testing import CliRunner

    from iseg_bench.cli import main

    if HAS_CUDA:
        pytest.skip("this machine has a GPU: 'cuda' is not absent")
    r = CliRunner().invoke(main, ["run", "--methods", "disk", "--limit", "1", "--device", "cuda",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--device" in r.output and "no CUDA device" in r.output
    assert not (tmp_path / "records").exists()  # refused before any work


@pytest.mark.parametrize("implementation", ["engineered", "official"])
@pytest.mark.parametrize("name", DEEP + ["emc-segformer-b0"])
def test_every_tensor_follows_the_predictor_device(name, implementation):
    """With the default device set to 'meta', any tensor a predictor makes without naming its device
    lands on 'meta' and breaks the arithmetic: on a GPU it would have landed on the CPU. Calibrated
    weights, unsteered, so the clicks, the zoom-ins and crops and every IoU follow the network's own
    outputs; twelve clicks reach every code path (zoom-in, focus crop, FocalClick's switch after ten)."""
    image, gt = synthetic_frame(96, 128)
    predictor = load_predictor(name, weights="calibrated", device="cpu", implementation=implementation)
    protocol = Protocol(max_clicks=12, early_stop="never", flip_tta=True, input_size=96)  # small: placement only
    predictor.prepare(protocol, "GrabCut")
    outputs: list[np.ndarray] = []
    real = predictor.predict
    predictor.predict = lambda clicks, prev: outputs.append(real(clicks, prev)) or outputs[-1]
    expected = evaluate_sample(predictor, image, gt, protocol)
    assert expected.error == "" and len(set(expected.ious)) > 2  # the network, not a constant, drives them
    if hasattr(predictor, "roi"):
        assert predictor.roi is not None  # the zoom-in / target crop was taken
    on_cpu, outputs[:] = list(outputs), []
    with torch.device("meta"):
        got = evaluate_sample(predictor, image, gt, protocol)
    assert got.error == "" and got.clicks == expected.clicks and got.ious == expected.ious
    assert all(np.array_equal(a, b) for a, b in zip(outputs, on_cpu))


def test_records_and_descriptions_name_the_device():
    assert load_predictor("ritm", device="cpu").describe().device == "cpu"
    assert load_predictor("disk", device="cuda").describe().device == "cpu"  # weight-free: computes on the CPU


def test_regress_refuses_another_device_type_without_tolerance():
    base = {"protocol_hash": "p", "datasets": {}, "methods": {"ritm-hrnet18s": {"weights": "w", "device": "cuda"}}}
    with pytest.raises(IncomparableError, match="computed on cpu, the baseline on cuda.*--tolerance"):
        refuse_if_incomparable(base, "p", {}, {"ritm-hrnet18s": "w"}, {"ritm-hrnet18s": "cpu"})
    refuse_if_incomparable(base, "p", {}, {"ritm-hrnet18s": "w"}, {"ritm-hrnet18s": "cpu"}, Tolerance(noc=0.05))
    old = {"protocol_hash": "p", "datasets": {}, "methods": {"disk": {"weights": "w"}}}  # made before devices
    refuse_if_incomparable(old, "p", {}, {"disk": "w"}, {"disk": "cpu"})


@needs_cuda
@pytest.mark.parametrize("name", DEEP)
def test_gpu_predictions_equal_cpu_predictions(name):
    image, gt = synthetic_frame(96, 128)
    clicker = make_clicker("robot", gt)
    clicker.click_for(clicker.errors(np.zeros(gt.shape, bool)))
    outputs = []
    for device in ("cpu", "cuda"):
        predictor = load_predictor(name, weights="calibrated", device=device)
        predictor.reset()
        predictor.set_image(image)
        outputs.append(predictor.predict(tuple(clicker.clicks), None))
        assert predictor.describe().device.startswith(device)
    assert np.abs(outputs[0] - outputs[1]).max() < 1e-3


@needs_cuda
def test_gpu_bench_times_with_cuda_events_and_names_the_gpu(tmp_path):
    from iseg_bench.bench_worker import BenchSpec, run_worker

    result = run_worker(BenchSpec("focalclick-segformer-b0-s2", 64, 64, 1, limit=1, clicks=2, warmup=1,
                                  repeats=2, datasets=("Synthetic",), device="cuda"))
    assert result["info"]["device"].startswith("cuda") and result["environment"]["gpus"]
    assert result["environment"]["cuda_runtime"] and all(t > 0 for t in result["phases"][1]["latency_s"])
