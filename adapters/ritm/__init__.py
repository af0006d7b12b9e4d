"""RITM (Sofiiuk et al., ICIP 2022): HRNet iterative-mask models with zoom-in and flip averaging.

Checkpoints: the v1.0 release assets of saic-vul/ritm_interactive_segmentation (COCO+LVIS, ITER-M).
No SHA-256 is published (2026-11), so every loaded checkpoint is a user checkpoint.
"""

from iseg_bench.protocol import PUBLISHED_THRESHOLDS, Protocol

from ..family import Family, PaperRow, Variant, WeightsSpec

RELEASE = "https://github.com/saic-vul/ritm_interactive_segmentation/releases/download/v1.0/"


def _variant(backbone: str, file: str, size: str, summary: str) -> Variant:
    row = f"RITM-{backbone}"  # its rows in the EMC-Click paper's Tables 1 and 3
    return Variant(f"ritm-{backbone}", summary, "iseg_bench.adapters.ritm.network:RITMNet", (backbone,),
                   WeightsSpec(file, RELEASE + file, size), golden=f"ritm_{backbone}",
                   paper=(PaperRow(1, row, "later"), PaperRow(3, row)))


FAMILY = Family(
    name="ritm",
    summary="RITM: HRNet-OCR on the whole image at click 1, on a zoom-in crop after",
    predictor="iseg_bench.adapters.ritm.predictor:RITMPredictor",
    default="ritm-hrnet18s",
    protocol=Protocol(
        name="ritm", iou_thresholds=PUBLISHED_THRESHOLDS, prob_threshold=0.49, flip_tta=True,
        description="RITM's scripts/evaluate_model.py NoBRS defaults: --thresh 0.49, target IoU 0.90, "
                    "flip TTA, zoom-in 400 (600 on DAVIS).",
    ),
    variants=(
        _variant("hrnet18s", "coco_lvis_h18s_itermask.pth", "16.5 MB", "RITM HRNet-18s (ITER-M, COCO+LVIS)"),
        _variant("hrnet18", "coco_lvis_h18_itermask.pth", "38.8 MB", "RITM HRNet-18 (ITER-M, COCO+LVIS)"),
        _variant("hrnet32", "coco_lvis_h32_itermask.pth", "119 MB", "RITM HRNet-32 (ITER-M, COCO+LVIS)"),
    ),
)
