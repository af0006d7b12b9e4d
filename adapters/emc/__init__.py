"""EMC-Click (Du et al., CVPR 2023): the base network on the first click, mask correction afterwards.

Checkpoints: release assets of feiaxyt/EMC-Click, named as its test.sh names them. No SHA-256 is
published (2026-11), so every loaded checkpoint is a user checkpoint (see ``family.WeightsSpec``).
"""

from ..family import Family, Variant, WeightsSpec

RELEASES = "https://github.com/feiaxyt/EMC-Click/releases"


def _variant(backbone: str, channels: int, file: str, size: str, summary: str) -> Variant:
    return Variant(f"emc-{backbone}", summary, "iseg_bench.adapters.emc.network:EMCNet", (backbone, channels, channels),
                   WeightsSpec(file, RELEASES, size, "release asset of feiaxyt/EMC-Click"),
                   golden=f"emc_{backbone.replace('segformer-b', 'segformerB')}")


FAMILY = Family(
    name="emc",
    summary="EMC-Click: base network once per image, 0.1 M-parameter mask correction every click",
    predictor="iseg_bench.adapters.emc.predictor:EMCPredictor",
    default="emc-hrnet18s",
    variants=(
        _variant("hrnet18s", 64, "hr18s.pth", "about 17 MB", "EMC-Click, HRNet-18s base + C64 mask correction"),
        _variant("hrnet18", 96, "hr18.pth", "about 39 MB", "EMC-Click, HRNet-18 base + C96 mask correction"),
        _variant("hrnet32", 96, "hr32.pth", "about 119 MB", "EMC-Click, HRNet-32 base + C96 mask correction"),
        _variant("segformer-b0", 64, "segb0.pth", "about 15 MB",
                 "EMC-Click, SegFormer MiT-b0 base + C64 mask correction"),
        _variant("segformer-b3", 96, "segb3.pth", "about 175 MB",
                 "EMC-Click, SegFormer MiT-b3 base + C96 mask correction"),
    ),
)
