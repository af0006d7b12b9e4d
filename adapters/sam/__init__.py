"""Segment Anything (Kirillov et al., ICCV 2023) with the robot user, as SegNext's ``eval_sam`` runs it.

Checkpoints: the official release files of facebookresearch/segment-anything (plain state dicts).
No SHA-256 is published with them, so a loaded file is a user checkpoint (see ``family.WeightsSpec``).
The published protocol is SegNext's (uncbiag/SegNext ``notebooks/eval_sam.ipynb``): 20 clicks, no
zoom-in, no flip, foreground logit > 0 (probability > 0.5), which are the settings of
``neutral-curves``; multimask output on every click and the fed-back logits are the predictor's own
behaviour. RClicks differs: it resizes the float image with torch (antialiased, not PIL on uint8),
recomputes the embedding at every click and drops the fed-back mask while there is at most one
positive and one negative click; that variant is not reproduced.
"""

from iseg_bench.protocol import Protocol

from ..family import Family, Variant, WeightsSpec

RELEASE = "https://dl.fbaipublicfiles.com/segment_anything/"


def _variant(size: str, file: str, weight: str, summary: str) -> Variant:
    return Variant(f"sam-vit-{size}", summary, "iseg_bench.adapters.sam.network:Sam.named", (f"vit_{size}",),
                   WeightsSpec(file, RELEASE + file, weight, "official release of facebookresearch/segment-anything"),
                   golden=f"sam/sam_vit_{size}")


FAMILY = Family(
    name="sam",
    summary="Segment Anything: ViT image encoder once per image, prompt encoder + mask decoder every click",
    predictor="iseg_bench.adapters.sam.predictor:SAMPredictor",
    default="sam-vit-b",
    variants=(
        _variant("b", "sam_vit_b_01ec64.pth", "375 MB", "SAM ViT-B (93.7 M parameters; 4.1 M per click)"),
        _variant("l", "sam_vit_l_0b3195.pth", "1.25 GB", "SAM ViT-L (312.3 M parameters; 4.1 M per click)"),
        _variant("h", "sam_vit_h_4b8939.pth", "2.56 GB", "SAM ViT-H (641.1 M parameters; 4.1 M per click)"),
    ),
    protocol=Protocol(
        name="sam", iou_thresholds=(0.85, 0.90, 0.95), prob_threshold=0.5, flip_tta=False, early_stop="never",
        description="SegNext's eval_sam (uncbiag/SegNext, notebooks/eval_sam.ipynb): 20 clicks, no zoom-in, no "
                    "flip, logit > 0; multimask output on every click, the highest predicted IoU chosen and its "
                    "256x256 logits fed back from click 2.",
    ),
)
