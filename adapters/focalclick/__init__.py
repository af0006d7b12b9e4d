"""FocalClick (Chen et al., CVPR 2022): a segmentor on a 256x256 target crop, a refiner on a focus crop.

Checkpoints: ClickSEG's Google Drive folder; the file names are the COCO+LVIS stems of ClickSEG's
configs (``*_cclvs.pth``), the folder listing itself was not seen. No SHA-256 is published.
"""

from iseg_bench.protocol import PUBLISHED_THRESHOLDS, Protocol

from ..family import Family, PaperRow, Variant, WeightsSpec

DRIVE = "https://drive.google.com/drive/folders/1XzUlpPqbzAyMt009HVpEeW31ln1FeXfX"
DRIVE_NOTE = ("ClickSEG shares its checkpoints in a Google Drive folder (file name as in ClickSEG's configs); "
              "<variant>.pth also works")


def _variant(backbone: str, stage: str, size: str, summary: str, paper: tuple[str, str] | None = None) -> Variant:
    """``paper``: the variant's row names in the EMC-Click paper's Tables 1-2 and in its Table 3."""
    stem = backbone.replace("segformer-b", "segformerB")
    rows = (PaperRow(1, paper[0], "later"), PaperRow(2, paper[0]), PaperRow(3, paper[1])) if paper else ()
    return Variant(f"focalclick-{backbone}-{stage}", summary, "iseg_bench.adapters.focalclick.network:FocalClickNet",
                   (backbone, stage), WeightsSpec(f"{stem}_{stage.upper()}_cclvs.pth", DRIVE, size, DRIVE_NOTE),
                   golden=f"focalclick_{stem}_S2", stage=stage, paper=rows)


FAMILY = Family(
    name="focalclick",
    summary="FocalClick as ClickSEG ships it: segmentor on the target crop, refiner on the focus crop",
    predictor="iseg_bench.adapters.focalclick.predictor:FocalClickPredictor",
    default="focalclick-hrnet18s-s2",
    protocol=Protocol(
        name="focalclick", iou_thresholds=PUBLISHED_THRESHOLDS, prob_threshold=0.5, flip_tta=False,
        description="ClickSEG val scripts: --thresh 0.5, target IoU 0.90, no flip, 256x256 crops.",
    ),
    variants=(
        _variant("hrnet18s", "s1", "16.58 MB", "FocalClick HRNet-18s, S1 (segmentor at 128)"),
        _variant("hrnet18s", "s2", "16.58 MB", "FocalClick HRNet-18s, S2 (segmentor at 256)",
                 ("FocalClick-hrnet18s", "FocalClick-hrnet18s")),
        _variant("hrnet32", "s2", "119.11 MB", "FocalClick HRNet-32, S2", ("FocalClick-hrnet32", "FocalClick-hrnet32")),
        _variant("segformer-b0", "s1", "14.38 MB", "FocalClick SegFormer-B0, S1"),
        _variant("segformer-b0", "s2", "14.38 MB", "FocalClick SegFormer-B0, S2",
                 ("FocalClick-SegB0", "FocalClick-segformerB0")),
        _variant("segformer-b3", "s2", "174.56 MB", "FocalClick SegFormer-B3, S2",
                 ("FocalClick-SegB3", "FocalClick-segformerB3")),
    ),
)
