"""The masks of a sample view: read from ``run --save-masks``'s files, or recomputed by running the
sample again (the robot and the methods are deterministic) and checked against the stored record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...masks import MasksError, decode
from ...protocol import Protocol

STORED, RERUN, UNAVAILABLE = "stored", "re-run", "unavailable"
IOU_AGREEMENT = 1e-4  # a re-run whose IoU after every click is this close reproduces the record


@dataclass
class SampleMasks:
    """The masks after each click (clicks, H, W) of one method on one sample, with the clicks that
    produced them, how they were obtained, and a sentence saying so for the page."""

    how: str
    note: str
    masks: np.ndarray | None = None
    clicks: list[list[int]] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)


def stored(row: dict) -> SampleMasks | None:
    """The masks ``run --save-masks`` stored for ``row`` (a ``load_results`` row), None when none were."""
    if not row["masks"]:
        return None
    try:
        masks = decode(Path(row["masks"]))
    except MasksError as exc:
        return SampleMasks(UNAVAILABLE, f"stored masks unreadable: {exc}")
    if len(masks) != row["clicks_run"]:
        return SampleMasks(UNAVAILABLE, f"{row['masks']} holds {len(masks)} masks for {row['clicks_run']} clicks")
    return SampleMasks(STORED, "masks stored by run --save-masks", masks, row["clicks"], row["ious"])


class Replayer:
    """Runs samples again for their masks, one predictor per (method, weights, implementation),
    loaded on first use with the weights given to the report (``--weights``)."""

    def __init__(self, weights: Path | None = None, device: str = "cpu") -> None:
        self.weights, self.device = weights, device
        self.predictors: dict[tuple, object] = {}

    def _predictor(self, row: dict):
        """The predictor that made ``row``'s record, or a string saying why it cannot be had."""
        from ...adapters import load_predictor

        key = (row["method"], row["weights"], row["implementation"])
        if key not in self.predictors:
            try:
                predictor = load_predictor(row["method"], self.weights, row["implementation"] or None, self.device)
                weights = predictor.describe().weights
                if weights != row["weights"]:
                    predictor = (f"{row['method']} now loads weights {weights}, the record was made with "
                                 f"{row['weights']} (give the report the same --weights)")
            except Exception as exc:  # a method that cannot be loaded here costs its views only
                predictor = f"{row['method']} cannot be loaded here ({type(exc).__name__}: {exc})"
            self.predictors[key] = predictor
        return self.predictors[key]

    def rerun(self, row: dict, image: np.ndarray, gt: np.ndarray, protocol: Protocol) -> SampleMasks:
        """Evaluate the sample again under ``protocol``, keeping every mask, and say whether the
        IoU trace reproduces the stored one."""
        from ...click_strategies import click_rng
        from ...evaluation import evaluate_sample

        if not row["clicks"] and row["ious"]:
            return SampleMasks(UNAVAILABLE, "imported IoU log: it records no clicks, nothing to re-run")
        predictor = self._predictor(row)
        if isinstance(predictor, str):
            return SampleMasks(UNAVAILABLE, f"not re-run: {predictor}")
        predictor.prepare(protocol, row["dataset"])
        rng = click_rng(row["seed"], row["dataset"], row["sample_id"]) if protocol.seeded else None
        out = evaluate_sample(predictor, image, gt, protocol, keep_masks=True, rng=rng)
        masks = np.stack(out.masks) if out.masks else None
        same = len(out.ious) == len(row["ious"]) and bool(
            np.all(np.abs(np.asarray(out.ious) - np.asarray(row["ious"])) <= IOU_AGREEMENT))
        if same:
            note = ("masks recomputed for this page by running the sample again; the IoU after every click "
                    "matches the record")
        else:
            gap = _gap(out.ious, row["ious"])
            note = (f"masks recomputed by running the sample again, but the re-run DIFFERS from the record ({gap}): "
                    "the masks, clicks and IoUs shown are the re-run's")
        return SampleMasks(RERUN, note, masks, out.clicks, out.ious)


def _gap(new: list[float], old: list[float]) -> str:
    n = min(len(new), len(old))
    worst = float(np.max(np.abs(np.asarray(new[:n]) - np.asarray(old[:n])))) if n else float("nan")
    return f"{len(new)} clicks against {len(old)}, largest IoU difference {worst:.4f}"
