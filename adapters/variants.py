"""The registered deep variants: which network, which official checkpoint, which family default.

No SHA-256 of any official checkpoint could be established (2026-11): RITM's v1.0 release assets
and EMC-Click's release assets carry no published digest readable here, ClickSEG shares its files
in a Google Drive folder without hashes. ``WeightsSpec.sha256`` therefore stays unset and every
loaded checkpoint is reported as a user checkpoint (trained, origin unverified); adding a hash
here, from the authors or a digest of the original release asset, is what makes a file official.
"""

from __future__ import annotations

from functools import partial

from .deep import Variant
from .nets.models import HRNET, EMCNet, FocalClickNet, RITMNet
from .weights import WeightsSpec

RITM_RELEASE = "https://github.com/saic-vul/ritm_interactive_segmentation/releases/download/v1.0/"
EMC_RELEASES = "https://github.com/feiaxyt/EMC-Click/releases"
CLICKSEG_DRIVE = "https://drive.google.com/drive/folders/1XzUlpPqbzAyMt009HVpEeW31ln1FeXfX"
DRIVE_NOTE = ("ClickSEG shares its checkpoints in a Google Drive folder (file name as in ClickSEG's configs); "
              "<variant>.pth also works")


def _ritm(backbone: str, file: str, size: str) -> Variant:
    return Variant(f"ritm-{backbone}", "ritm", backbone, partial(RITMNet, HRNET[backbone]),
                   WeightsSpec(file, RITM_RELEASE + file, size), f"ritm_{backbone}")


def _focal(backbone: str, stage: str, size: str) -> Variant:
    stem = backbone.replace("segformer-b", "segformerB")
    file = f"{stem}_{stage.upper()}_cclvs.pth"  # ClickSEG's COCO+LVIS checkpoint stems
    return Variant(f"focalclick-{backbone}-{stage}", "focalclick", backbone, partial(FocalClickNet, backbone, stage),
                   WeightsSpec(file, CLICKSEG_DRIVE, size, DRIVE_NOTE), f"focalclick_{stem}_S2", stage)


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
