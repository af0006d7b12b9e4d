"""EMC-Click (Du et al., CVPR 2023): the base network on the first click, mask correction afterwards.

Checkpoints: release assets of feiaxyt/EMC-Click, named as its test.sh names them. No SHA-256 is
published (2026-11), so every loaded checkpoint is a user checkpoint (see ``family.WeightsSpec``).
"""

from iseg_bench.protocol import PUBLISHED_THRESHOLDS, Protocol

from ..family import Family, PaperRow, Variant, WeightsSpec

RELEASES = "https://github.com/feiaxyt/EMC-Click/releases"


def _variant(backbone: str, channels: int, file: str, size: str, summary: str, short: str,
             table2: bool = True) -> Variant:
    """``short``: the backbone as the paper's Table 1 spells it (Table 3 spells SegFormers out)."""
    long = backbone.replace("segformer-b", "segformerB")
    rows = (PaperRow(1, f"Ours-{short}-FirstClick", "first"), PaperRow(1, f"Ours-MaskCorrection-C{channels}", "later"),
            *([PaperRow(2, f"Ours-{short}")] if table2 else []), PaperRow(3, f"Ours-{long}"))
    return Variant(f"emc-{backbone}", summary, "iseg_bench.adapters.emc.network:EMCNet", (backbone, channels, channels),
                   WeightsSpec(file, RELEASES, size, "release asset of feiaxyt/EMC-Click"),
                   golden=f"emc_{long}", paper=rows)


FAMILY = Family(
    name="emc",
    summary="EMC-Click: base network once per image, 0.1 M-parameter mask correction every click",
    predictor="iseg_bench.adapters.emc.predictor:EMCPredictor",
    default="emc-hrnet18s",
    protocol=Protocol(
        name="emc", iou_thresholds=PUBLISHED_THRESHOLDS, prob_threshold=0.5, flip_tta=True,
        description="EMC-Click test.sh: --thresh 0.5, target IoU 0.9, flip TTA, short side 384 "
                    "(576 on DAVIS).",
    ),
    variants=(
        _variant("hrnet18s", 64, "hr18s.pth", "about 17 MB", "EMC-Click, HRNet-18s base + C64 mask correction",
                 "hrnet18s"),
        _variant("hrnet18", 96, "hr18.pth", "about 39 MB", "EMC-Click, HRNet-18 base + C96 mask correction",
                 "hrnet18", table2=False),
        _variant("hrnet32", 96, "hr32.pth", "about 119 MB", "EMC-Click, HRNet-32 base + C96 mask correction",
                 "hrnet32"),
        _variant("segformer-b0", 64, "segb0.pth", "about 15 MB",
                 "EMC-Click, SegFormer MiT-b0 base + C64 mask correction", "SegB0"),
        _variant("segformer-b3", 96, "segb3.pth", "about 175 MB",
                 "EMC-Click, SegFormer MiT-b3 base + C96 mask correction", "SegB3"),
    ),
)
