"""The registered deep variants: which network, which official checkpoint, which family default."""

from __future__ import annotations

from functools import partial

from .deep import Variant
from .nets.models import HRNET, EMCNet, FocalClickNet, RITMNet
from .weights import WeightsSpec

RITM_RELEASE = "https://github.com/saic-vul/ritm_interactive_segmentation/releases/download/v1.0/"
EMC_RELEASES = "https://github.com/feiaxyt/EMC-Click/releases"
CLICKSEG_DRIVE = "https://drive.google.com/drive/folders/1XzUlpPqbzAyMt009HVpEeW31ln1FeXfX"
DRIVE_NOTE = "ClickSEG shares its checkpoints in a Google Drive folder; save the file as <variant>.pth"


def _ritm(backbone: str, file: str, size: str) -> Variant:
    return Variant(f"ritm-{backbone}", "ritm", backbone, partial(RITMNet, HRNET[backbone]),
                   WeightsSpec(file, RITM_RELEASE + file, size), f"ritm_{backbone}")


def _focal(backbone: str, stage: str, size: str) -> Variant:
    golden = f"focalclick_{backbone.replace('segformer-b', 'segformerB')}_S2"
    return Variant(f"focalclick-{backbone}-{stage}", "focalclick", backbone, partial(FocalClickNet, backbone, stage),
                   WeightsSpec(f"focalclick-{backbone}-{stage}.pth", CLICKSEG_DRIVE, size, DRIVE_NOTE), golden, stage)


def _emc(backbone: str, file: str, channels: int, size: str) -> Variant:
    golden = f"emc_{backbone.replace('segformer-b', 'segformerB')}"
    return Variant(f"emc-{backbone}", "emc", backbone, partial(EMCNet, backbone, channels, channels),
                   WeightsSpec(file, EMC_RELEASES, size, "release asset of feiaxyt/EMC-Click"), golden)


VARIANTS: dict[str, Variant] = {v.name: v for v in [
    _emc("hrnet18s", "hr18s.pth", 64, "about 17 MB"),
    _emc("hrnet18", "hr18.pth", 96, "about 39 MB"),
    _emc("hrnet32", "hr32.pth", 96, "about 119 MB"),
    _emc("segformer-b0", "segb0.pth", 64, "about 15 MB"),
    _emc("segformer-b3", "segb3.pth", 96, "about 175 MB"),
    _ritm("hrnet18s", "coco_lvis_h18s_itermask.pth", "16.5 MB"),
    _ritm("hrnet18", "coco_lvis_h18_itermask.pth", "38.8 MB"),
    _ritm("hrnet32", "coco_lvis_h32_itermask.pth", "119 MB"),
    _focal("hrnet18s", "s1", "16.58 MB"),
    _focal("hrnet18s", "s2", "16.58 MB"),
    _focal("hrnet32", "s2", "119.11 MB"),
    _focal("segformer-b0", "s1", "14.38 MB"),
    _focal("segformer-b0", "s2", "14.38 MB"),
    _focal("segformer-b3", "s2", "174.56 MB"),
]}
