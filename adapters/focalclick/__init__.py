"""FocalClick (Chen et al., CVPR 2022): a segmentor on a 256x256 target crop, a refiner on a focus crop.

Checkpoints: ClickSEG's Google Drive folder; the file names are the COCO+LVIS stems of ClickSEG's
configs (``*_cclvs.pth``), the folder listing itself was not seen. No SHA-256 is published.
"""

from ..family import Family, Variant, WeightsSpec

DRIVE = "https://drive.google.com/drive/folders/1XzUlpPqbzAyMt009HVpEeW31ln1FeXfX"
DRIVE_NOTE = ("ClickSEG shares its checkpoints in a Google Drive folder (file name as in ClickSEG's configs); "
              "<variant>.pth also works")


def _variant(backbone: str, stage: str, size: str, summary: str) -> Variant:
    stem = backbone.replace("segformer-b", "segformerB")
    return Variant(f"focalclick-{backbone}-{stage}", summary, "iseg_bench.adapters.focalclick.network:FocalClickNet",
                   (backbone, stage), WeightsSpec(f"{stem}_{stage.upper()}_cclvs.pth", DRIVE, size, DRIVE_NOTE),
                   golden=f"focalclick_{stem}_S2", stage=stage)


FAMILY = Family(
    name="focalclick",
    summary="FocalClick as ClickSEG ships it: segmentor on the target crop, refiner on the focus crop",
    predictor="iseg_bench.adapters.focalclick.predictor:FocalClickPredictor",
    default="focalclick-hrnet18s-s2",
    variants=(
        _variant("hrnet18s", "s1", "16.58 MB", "FocalClick HRNet-18s, S1 (segmentor at 128)"),
        _variant("hrnet18s", "s2", "16.58 MB", "FocalClick HRNet-18s, S2 (segmentor at 256)"),
        _variant("hrnet32", "s2", "119.11 MB", "FocalClick HRNet-32, S2"),
        _variant("segformer-b0", "s1", "14.38 MB", "FocalClick SegFormer-B0, S1"),
        _variant("segformer-b0", "s2", "14.38 MB", "FocalClick SegFormer-B0, S2"),
        _variant("segformer-b3", "s2", "174.56 MB", "FocalClick SegFormer-B3, S2"),
    ),
)
