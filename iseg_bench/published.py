"""Numbers published in the EMC-Click paper (Du et al., CVPR 2023), to print beside ours.

Table 1: parameters (M), "FLOPs/G" (which are multiply-accumulates: they match fvcore's MAC
counts, see reports/efficiency) and CPU speed per click (ms) on a 4-core 2 GHz Intel Core i5 laptop,
at the input size given in the row (RITM 400, FocalClick 256, EMC-Click 384).
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


# (our variant, phase) -> the paper's Table 1 row
TABLE1: dict[tuple[str, str], Table1Row] = {
    ("ritm-hrnet18s", "later"): Table1Row("RITM-hrnet18s", 400, 4.22, 8.96, 634),
    ("ritm-hrnet18", "later"): Table1Row("RITM-hrnet18", 400, 10.0, 15.4, 1103),
    ("ritm-hrnet32", "later"): Table1Row("RITM-hrnet32", 400, 31.0, 40.4, 1635),
    ("focalclick-hrnet18s-s2", "later"): Table1Row("FocalClick-hrnet18s", 256, 4.23, 3.82, 358),
    ("focalclick-hrnet32-s2", "later"): Table1Row("FocalClick-hrnet32", 256, 31.0, 17.1, 728),
    ("focalclick-segformer-b0-s2", "later"): Table1Row("FocalClick-SegB0", 256, 3.74, 1.94, 207),
    ("focalclick-segformer-b3-s2", "later"): Table1Row("FocalClick-SegB3", 256, 45.6, 12.9, 805),
    ("emc-hrnet18s", "first"): Table1Row("Ours-hrnet18s-FirstClick", 384, 4.33, 9.35, 752),
    ("emc-hrnet18", "first"): Table1Row("Ours-hrnet18-FirstClick", 384, 10.3, 15.3, 1237),
    ("emc-hrnet32", "first"): Table1Row("Ours-hrnet32-FirstClick", 384, 31.2, 40.5, 1745),
    ("emc-segformer-b0", "first"): Table1Row("Ours-SegB0-FirstClick", 384, 3.84, 5.38, 528),
    ("emc-segformer-b3", "first"): Table1Row("Ours-SegB3-FirstClick", 384, 45.9, 32.3, 2006),
    ("emc-hrnet18s", "later"): Table1Row("Ours-MaskCorrection-C64", 384, 0.11, 1.09, 183),
    ("emc-segformer-b0", "later"): Table1Row("Ours-MaskCorrection-C64", 384, 0.11, 1.09, 183),
    ("emc-hrnet18", "later"): Table1Row("Ours-MaskCorrection-C96", 384, 0.22, 2.25, 280),
    ("emc-hrnet32", "later"): Table1Row("Ours-MaskCorrection-C96", 384, 0.22, 2.25, 280),
    ("emc-segformer-b3", "later"): Table1Row("Ours-MaskCorrection-C96", 384, 0.22, 2.25, 280),
}

# Table 2 (SBD, V100 GPU): NoC@90, Time@90 (min), NoC@95, Time@95 (min)
TABLE2 = {
    "focalclick-hrnet18s-s2": (6.79, 34, 12.78, 62), "focalclick-hrnet32-s2": (6.51, 49, 12.50, 85),
    "focalclick-segformer-b0-s2": (6.86, 23, 12.73, 39), "focalclick-segformer-b3-s2": (5.59, 34, 11.55, 63),
    "emc-hrnet18s": (6.16, 19, 12.47, 30), "emc-hrnet32": (5.65, 21, 11.90, 32),
    "emc-segformer-b0": (6.21, 16, 12.45, 27), "emc-segformer-b3": (5.57, 20, 11.65, 29),
}

# Table 3 (C+L training): GrabCut NoC@85/90, Berkeley NoC@90, SBD NoC@85/90, DAVIS NoC@85/90, Pascal NoC@85
TABLE3_COLUMNS = ("GrabCut@85", "GrabCut@90", "Berkeley@90", "SBD@85", "SBD@90", "DAVIS@85", "DAVIS@90", "PascalVOC@85")
TABLE3 = {
    "focalclick-segformer-b0-s2": (1.40, 1.66, 2.27, 4.56, 6.86, 4.04, 5.49, 2.97),
    "emc-segformer-b0": (1.56, 1.64, 2.40, 3.95, 6.21, 4.48, 5.53, 2.65),
    "focalclick-segformer-b3-s2": (1.44, 1.50, 1.92, 3.53, 5.59, 3.61, 4.90, 2.46),
    "emc-segformer-b3": (1.42, 1.48, 2.35, 3.44, 5.57, 4.49, 5.69, 2.23),
    "ritm-hrnet18s": (1.54, 1.68, 2.60, 4.04, 6.48, 4.70, 5.98, 2.57),
    "focalclick-hrnet18s-s2": (1.48, 1.62, 2.66, 4.43, 6.79, 3.90, 5.25, 2.93),
    "emc-hrnet18s": (1.40, 1.52, 2.68, 3.86, 6.16, 4.42, 5.66, 2.37),
    "ritm-hrnet18": (1.42, 1.54, 2.26, 3.80, 6.06, 4.36, 5.74, 2.28),
    "emc-hrnet18": (1.38, 1.50, 2.30, 3.69, 5.93, 4.34, 5.59, 2.37),
    "ritm-hrnet32": (1.46, 1.56, 2.10, 3.59, 5.71, 4.11, 5.34, 2.57),
    "focalclick-hrnet32-s2": (1.64, 1.80, 2.36, 4.24, 6.51, 4.01, 5.39, 2.80),
    "emc-hrnet32": (1.30, 1.42, 2.35, 3.55, 5.65, 4.29, 5.33, 2.22),
}
