"""The tiny family: a three-layer network on the image, the click maps and the previous mask.

Declared once here; the entry point ``iseg_bench.families: tiny`` makes its variants methods of
iseg-bench (``tiny`` resolves to ``tiny-small``) with a published protocol preset named ``tiny``.
"""

from iseg_bench.adapters.family import Family, Variant, WeightsSpec
from iseg_bench.protocol import Protocol


def _variant(width: int, name: str) -> Variant:
    return Variant(f"tiny-{name}", f"tiny network, {width} channels", "iseg_example_plugin.network:TinyNet",
                   (width,), WeightsSpec(f"tiny_{name}.pth", "https://example.org/tiny", "a few KB"))


FAMILY = Family(
    name="tiny",
    summary="example plugin family: three convolutions on image, click maps and previous mask",
    predictor="iseg_example_plugin.predictor:TinyPredictor",
    default="tiny-small",
    variants=(_variant(8, "small"), _variant(16, "wide")),
    protocol=Protocol(name="tiny", prob_threshold=0.5, flip_tta=False,
                      description="the tiny family's own evaluation: threshold 0.5, no flip"),
)
