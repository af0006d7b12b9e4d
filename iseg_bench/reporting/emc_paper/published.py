"""Numbers published in the EMC-Click paper (Du et al., CVPR 2023), every row of Tables 1-3, to print
beside ours.

Table 1: parameters (M), "FLOPs/G" (which are multiply-accumulates: they match fvcore's MAC
counts) and CPU speed per click (ms) on a 4-core 2 GHz Intel Core i5 laptop, at the input size
given in the row. Table 2: SBD on a V100 GPU. Table 3: NoC on five benchmarks. Which registered
variant is measured against which row is declared by the variant (``family.PaperRow``, in its
family's folder); a row no variant declares is a method iseg-bench does not implement or a checkpoint
it does not register.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table1Row:
    row: str  # the paper's row name
    input_size: int
    params_m: float
    gmacs: float
    ms: float


TABLE1: tuple[Table1Row, ...] = (
    Table1Row("CDNet-ResNet34", 384, 23.5, 56.7, 3339),
    Table1Row("f-BRS-ResNet50", 400, 31.4, 84.6, 2373),
    Table1Row("RITM-hrnet18s", 400, 4.22, 8.96, 634),
    Table1Row("RITM-hrnet18", 400, 10.0, 15.4, 1103),
    Table1Row("RITM-hrnet32", 400, 31.0, 40.4, 1635),
    Table1Row("FocalClick-hrnet18s", 256, 4.23, 3.82, 358),
    Table1Row("FocalClick-hrnet32", 256, 31.0, 17.1, 728),
    Table1Row("FocalClick-SegB0", 256, 3.74, 1.94, 207),
    Table1Row("FocalClick-SegB3", 256, 45.6, 12.9, 805),
    Table1Row("Ours-hrnet18s-FirstClick", 384, 4.33, 9.35, 752),
    Table1Row("Ours-hrnet18-FirstClick", 384, 10.3, 15.3, 1237),
    Table1Row("Ours-hrnet32-FirstClick", 384, 31.2, 40.5, 1745),
    Table1Row("Ours-SegB0-FirstClick", 384, 3.84, 5.38, 528),
    Table1Row("Ours-SegB3-FirstClick", 384, 45.9, 32.3, 2006),
    Table1Row("Ours-MaskCorrection-C64", 384, 0.11, 1.09, 183),
    Table1Row("Ours-MaskCorrection-C96", 384, 0.22, 2.25, 280),
)
TABLE1_REFERENCE = "RITM-hrnet18s"  # the row every time is divided by
SUBJECT_FAMILY = "emc"  # the paper's own method
RATIO_REFERENCES = ("RITM-hrnet18s", "FocalClick-SegB0")  # the rows its headline later-click ratios divide by
NOT_IMPLEMENTED = "not implemented in iseg-bench"

# Why a figure of ours differs from the paper's by more than 5 %, where the reason is established:
# (paper row, column, implementation or None for both, variants or None for all) -> reason, the first
# that matches; "{input}" is replaced by our input size. Columns: params, gmacs, ratio.
_CACHED = ("the engineered later click reuses the image-only part of the correction network computed at click 1 "
           "(same arithmetic); the official arithmetic recomputes it")
_PROJECTION = ("the width of the correction network's feature projection follows the base network ({width} inputs "
               "here; 96 for HRNet-18s, 128 for HRNet-18, 256 for HRNet-32 and SegFormer-B0, 512 for SegFormer-B3)")
TABLE1_REASONS: tuple[tuple[str, str, str | None, tuple[str, ...] | None, str], ...] = (
    ("RITM-hrnet18s", "gmacs", None, None, "our later click's zoom-in crop is {input} (the surrogate mask's box and "
                                           "the positive clicks, x1.4, longer side 400); the paper counts 400x400"),
    ("RITM-hrnet18", "gmacs", None, None, "our later click's zoom-in crop is {input} (the surrogate mask's box and the "
                                          "positive clicks, x1.4, longer side 400); the paper counts 400x400"),
    ("RITM-hrnet32", "gmacs", None, None, "our later click's zoom-in crop is {input} (the surrogate mask's box and the "
                                          "positive clicks, x1.4, longer side 400); the paper counts 400x400"),
    ("Ours-MaskCorrection-C64", "params", None, ("emc-hrnet18s",),
     "the paper's count includes the BatchNorm running statistics (see 'Params with BN statistics')"),
    ("Ours-MaskCorrection-C64", "params", None, ("emc-segformer-b0",), _PROJECTION.format(width=256)),
    ("Ours-MaskCorrection-C96", "params", None, ("emc-hrnet18",), _PROJECTION.format(width=128)
     + "; the paper's 0.22 is HRNet-32's"),
    ("Ours-MaskCorrection-C96", "params", None, ("emc-segformer-b3",), _PROJECTION.format(width=512)
     + "; the paper's 0.22 is HRNet-32's"),
    ("Ours-MaskCorrection-C64", "gmacs", "engineered", None, _CACHED),
    ("Ours-MaskCorrection-C96", "gmacs", "engineered", None, _CACHED),
    ("Ours-MaskCorrection-C64", "gmacs", "official", ("emc-segformer-b0",), _PROJECTION.format(width=256)
     + "; the paper's 1.09 is HRNet-18s's whole correction network"),
    ("Ours-MaskCorrection-C96", "gmacs", "official", ("emc-hrnet32",), _PROJECTION.format(width=256)
     + "; the paper's 2.25 is HRNet-18's whole correction network"),
    ("Ours-MaskCorrection-C96", "gmacs", "official", ("emc-segformer-b3",), _PROJECTION.format(width=512)
     + "; the paper's 2.25 is HRNet-18's whole correction network"),
    ("Ours-hrnet18-FirstClick", "gmacs", None, None, "the official hrnet18 config (hrnet18_att_cclvis) uses the C96 "
                                                     "correction network; the paper's figure equals the base network "
                                                     "plus a C64 correction"),
)


def table1_reason(row: str, column: str, implementation: str, variant: str) -> str | None:
    """The established reason for a difference in one Table 1 figure, or None."""
    for r, c, impl, variants, text in TABLE1_REASONS:
        if (r, c) == (row, column) and impl in (None, implementation) and (variants is None or variant in variants):
            return text
    return None


UNEXPLAINED_RATIO = ("not established: the paper's machine (a 4-core 2 GHz Core i5 laptop), library versions and "
                     "timing method are not published")

# Table 2 (SBD, V100 GPU): row -> NoC@90, Time@90 (min), NoC@95, Time@95 (min)
TABLE2: dict[str, tuple[float, float, float, float]] = {
    "FocalClick-hrnet18s": (6.79, 34, 12.78, 62),
    "FocalClick-hrnet32": (6.51, 49, 12.50, 85),
    "FocalClick-SegB0": (6.86, 23, 12.73, 39),
    "FocalClick-SegB3": (5.59, 34, 11.55, 63),
    "Ours-hrnet18s": (6.16, 19, 12.47, 30),
    "Ours-hrnet32": (5.65, 21, 11.90, 32),
    "Ours-SegB0": (6.21, 16, 12.45, 27),
    "Ours-SegB3": (5.57, 20, 11.65, 29),
}

TABLE3_COLUMNS = ("GrabCut@85", "GrabCut@90", "Berkeley@90", "SBD@85", "SBD@90", "DAVIS@85", "DAVIS@90",
                  "PascalVOC@85")
# Benchmarks iseg-bench loads that Table 3 cannot list, with the reason, said under the table and by
# `paper-tables`. A benchmark whose published numbers are added to TABLE3_COLUMNS (and the rows) is
# listed like the others and leaves this list.
TABLE3_UNLISTED: dict[str, str] = {
    "COCO_MVal": "the paper's Table 3 compares on five benchmarks and COCO_MVal is not one of them",
}


@dataclass(frozen=True)
class Table3Row:
    row: str
    train: str  # "SBD" or "C+L" (COCO + LVIS)
    values: tuple[float | None, ...]  # in TABLE3_COLUMNS order; None where the paper prints "-"
    note: str = ""  # why no variant is measured against it (default: not implemented)


SBD_TRAINED = "SBD-trained checkpoint not registered (iseg-bench registers the C+L ones)"
TABLE3: tuple[Table3Row, ...] = (
    Table3Row("f-BRS-B-ResNet50", "SBD", (2.50, 2.98, 4.34, 5.06, 8.08, 5.39, 7.81, None)),
    Table3Row("CDNet-ResNet50", "SBD", (2.22, 2.64, 3.69, 4.37, 7.87, 5.17, 6.66, None)),
    Table3Row("FocusCut-ResNet50", "SBD", (1.60, 1.78, 3.44, 3.62, 5.66, 5.00, 6.38, None)),
    Table3Row("FocalClick-hrnet18s", "SBD", (1.86, 2.06, 3.14, 4.30, 6.52, 4.92, 6.48, None), note=SBD_TRAINED),
    Table3Row("RITM-hrnet18", "SBD", (1.76, 2.04, 3.22, 3.39, 5.43, 4.94, 6.71, None), note=SBD_TRAINED),
    Table3Row("Ours-hrnet18s", "SBD", (1.82, 1.92, 3.26, 3.58, 5.79, 5.23, 6.88, 2.47), note=SBD_TRAINED),
    Table3Row("Ours-hrnet18", "SBD", (1.74, 1.84, 3.03, 3.38, 5.51, 5.05, 6.71, 2.37), note=SBD_TRAINED),
    Table3Row("TransClick-segformerB4", "C+L", (1.52, 1.60, 1.60, 3.44, 5.63, 3.68, 5.06, 2.08)),
    Table3Row("FocalClick-segformerB0", "C+L", (1.40, 1.66, 2.27, 4.56, 6.86, 4.04, 5.49, 2.97)),
    Table3Row("Ours-segformerB0", "C+L", (1.56, 1.64, 2.40, 3.95, 6.21, 4.48, 5.53, 2.65)),
    Table3Row("FocalClick-segformerB3", "C+L", (1.44, 1.50, 1.92, 3.53, 5.59, 3.61, 4.90, 2.46)),
    Table3Row("Ours-segformerB3", "C+L", (1.42, 1.48, 2.35, 3.44, 5.57, 4.49, 5.69, 2.23)),
    Table3Row("RITM-hrnet18s", "C+L", (1.54, 1.68, 2.60, 4.04, 6.48, 4.70, 5.98, 2.57)),
    Table3Row("FocalClick-hrnet18s", "C+L", (1.48, 1.62, 2.66, 4.43, 6.79, 3.90, 5.25, 2.93)),
    Table3Row("Ours-hrnet18s", "C+L", (1.40, 1.52, 2.68, 3.86, 6.16, 4.42, 5.66, 2.37)),
    Table3Row("RITM-hrnet18", "C+L", (1.42, 1.54, 2.26, 3.80, 6.06, 4.36, 5.74, 2.28)),
    Table3Row("EdgeFlow-hrnet18", "C+L", (1.60, 1.72, 2.40, None, None, 4.54, 5.77, 2.50)),
    Table3Row("Ours-hrnet18", "C+L", (1.38, 1.50, 2.30, 3.69, 5.93, 4.34, 5.59, 2.37)),
    Table3Row("RITM-hrnet32", "C+L", (1.46, 1.56, 2.10, 3.59, 5.71, 4.11, 5.34, 2.57)),
    Table3Row("FocalClick-hrnet32", "C+L", (1.64, 1.80, 2.36, 4.24, 6.51, 4.01, 5.39, 2.80)),
    Table3Row("PseudoClick-hrnet32", "C+L", (None, 1.50, 2.08, None, 5.68, 4.09, 5.27, 1.94)),
    Table3Row("Ours-hrnet32", "C+L", (1.30, 1.42, 2.35, 3.55, 5.65, 4.29, 5.33, 2.22)),
)
