"""Reference outputs of the official networks (``../shared/golden``, produced by the official code):
reading their compact weights, and the official call sequences whose outputs they hold.

The test suite and ``benchmarks/golden_agreement.py`` both compare through this module, so what
is checked and what is reported are the same computation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from .focalclick.network import FocalClickNet

# what a faithful re-implementation reaches on these inputs (the golden README), enforced by the tests
MAX_ABS_TOLERANCE = 1e-4


def load_golden(path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """The golden file and its state_dict, rebuilt from the compact quantised format with its aliases."""
    g = torch.load(path, weights_only=True)
    state = {}
    for key in g["key_order"]:
        if key in g["state_dict_q"]:
            state[key] = g["state_dict_offset"][key] + g["state_dict_q"][key].float() * g["state_dict_step"][key]
        else:
            state[key] = g["state_dict_other"][key]
    for alias, target in g["aliases"].items():
        state[alias] = state[target]
    return g, state


def _ritm(net: torch.nn.Module, g: dict) -> dict[str, torch.Tensor]:
    """RITM: one call with three clicks, as BasePredictor makes it."""
    out = net(g["inputs"]["net_input"], g["inputs"]["points_3clicks"])
    return {key: out[key] for key in ("instances", "instances_aux")}


def _emc(net: torch.nn.Module, g: dict) -> dict[str, torch.Tensor]:
    """EMC-Click: click 1 uncached, three clicks reusing the cached first-click outputs, three uncached."""
    x, p1, p3 = g["inputs"]["net_input"], g["inputs"]["points_1click"], g["inputs"]["points_3clicks"]
    out1, ref1 = net(x, p1, None)
    got = {"call1_instances": out1["instances"], "call1_instances_aux": out1["instances_aux"],
           "call1_feature": out1["feature"], "call1_instances_refined": ref1["instances_refined"],
           "call1_instances_lr": out1["instances_lr"]}
    out2, ref2 = net(x, p3, out1)
    got.update(call2_instances_refined=ref2["instances_refined"], call2_instances_lr=out2["instances_lr"])
    got["fresh3_instances_refined"] = net(x, p3, None)[1]["instances_refined"]
    return got


def _focalclick(net: torch.nn.Module, g: dict) -> dict[str, torch.Tensor]:
    """FocalClick: the segmentor with three clicks, then the refiner on the official focus crop."""
    if not isinstance(net, FocalClickNet):
        raise TypeError(f"the FocalClick golden calls need a FocalClickNet, not a {type(net).__name__}")
    out = net(g["inputs"]["net_input"], g["inputs"]["points_3clicks"])
    got = {key: out[key] for key in ("instances", "instances_aux", "feature")}
    meta = g["meta"]["refine_inputs"]
    y1, y2, x1, x2 = meta["focus_roi_y1y2x1x2"]
    crop = F.interpolate(g["inputs"]["image"][:, :, y1:y2, x1:x2], (meta["crop_l"],) * 2, mode="bilinear",
                         align_corners=True)
    refined = net.refine(crop, torch.tensor(meta["points_focus"]), out["feature"], out["instances"],
                         torch.tensor(meta["roi"]))
    for key in ("instances_refined", "instances_coarse", "trimap"):
        got[f"refine_{key}"] = refined[key]
    return got


# golden file stem -> (our variant, the official calls whose outputs the file holds)
GOLDEN_MODELS: dict[str, tuple[str, Callable[[torch.nn.Module, dict], dict[str, torch.Tensor]]]] = {
    "ritm_hrnet18s": ("ritm-hrnet18s", _ritm),
    "emc_hrnet18s": ("emc-hrnet18s", _emc),
    "focalclick_segformerB0_S2": ("focalclick-segformer-b0-s2", _focalclick),
}


@torch.inference_mode()
def golden_outputs(net: torch.nn.Module, stem: str, g: dict) -> dict[str, torch.Tensor]:
    """Our network's outputs for the golden file's official call sequence."""
    return GOLDEN_MODELS[stem][1](net, g)
