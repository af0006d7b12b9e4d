"""Engineered against official arithmetic, with the state each carries: both implementations of a
variant click the same image unsteered (each follows its own predictions through the harness's
loop), and at every click their clicks, their probabilities and every piece of state they carry
to the next click (``DeepPredictor.carried_state``: previous probabilities, zoom-in, target and
focus boxes, low-resolution logits, image embeddings) are compared.

The test suite and ``benchmarks/implementation_agreement.py`` both compare through this module, so
what is checked and what is reported are the same computation.

One documented exemption: EMC-Click keeps the top-K templates of each polarity in score order,
and two templates whose scores tie within float32 rounding can come out in either order in the two
formulations. Where the orders differ at a click, the swap must be such a tie (any other reordering
fails); if the outputs still agree nothing is exempt, and if they do not, that click is counted as
exempt and the two runs, which legitimately fork there, are not compared after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from iseg_bench.evaluation import evaluate_sample
from iseg_bench.predictor import Predictor
from iseg_bench.protocol import Protocol

from .deep import snapshot

# Two formulations of the same float32 arithmetic round differently, and the calibrated weights' steep,
# click-amplified logits carry that rounding further than the official checkpoints would; the largest
# differences measured are in reports/faithfulness/engineered_vs_official.md. A real difference (a box a
# pixel off, a wrong mask fed back) moves probabilities by far more, and clicks and boxes must be equal.
PROBABILITY_TOLERANCE = 2e-3  # max abs difference of the probabilities at every pixel
STATE_TOLERANCE = 2e-3  # max abs difference of a carried tensor, relative to its largest magnitude (at least 1)
TIE_GAP = 1e-5  # two template scores closer than this tie within float32 rounding


@dataclass
class ClickAgreement:
    """One click: the largest difference of each compared output (boxes: 0 equal, inf not), and why
    the click is exempt from the tolerances, if it is."""

    click: int
    differences: dict[str, float] = field(default_factory=dict)
    exempt: str = ""

    def failures(self) -> list[str]:
        if self.exempt:
            return []
        return [f"click {self.click}: {name} differs by {value:.3g} (tolerance {tolerance(name):g})"
                for name, value in self.differences.items() if not value <= tolerance(name)]


@dataclass
class Agreement:
    """One variant on one image: every click's comparison, and the clicks not compared after a fork."""

    variant: str
    sample: str
    clicks: list[ClickAgreement]
    forked_at: int | None = None  # the exempt click after which the runs are not compared

    @property
    def exempt(self) -> int:
        return sum(1 for c in self.clicks if c.exempt)

    def failures(self) -> list[str]:
        return [f"{self.variant} on {self.sample}, {f}" for c in self.clicks for f in c.failures()]

    def worst(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.clicks:
            if not c.exempt:
                for name, value in c.differences.items():
                    out[name] = max(out.get(name, 0.0), value)
        return out


def tolerance(name: str) -> float:
    if name == "clicks" or name.endswith("box"):
        return 0.0
    return PROBABILITY_TOLERANCE if name == "probabilities" else STATE_TOLERANCE


def _difference(a: object, b: object) -> float:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return float("inf")
        scale = max(1.0, float(a.abs().max())) if a.numel() else 1.0
        return float((a.double() - b.double()).abs().max()) / scale if a.numel() else 0.0
    return 0.0 if a == b else float("inf")


@dataclass
class _Run:
    clicks: list[list[int]]
    probabilities: list[np.ndarray]
    states: list[dict[str, object]]
    templates: list[list[tuple[torch.Tensor, torch.Tensor]]]


def _run(predictor, image: np.ndarray, gt: np.ndarray, protocol: Protocol, dataset: str) -> _Run:
    """One implementation's own run, recording every click's output, carried state and (EMC-Click)
    template order."""
    run = _Run([], [], [], [])
    real_predict = predictor.predict

    def predict(clicks, prev):
        run.templates.append([])
        out = real_predict(clicks, prev)
        run.probabilities.append(out)
        run.states.append({k: snapshot(v) for k, v in predictor.carried_state().items()})
        return out

    predictor.predict = predict
    refiner = getattr(predictor.net, "refiner", None)
    if refiner is not None and hasattr(refiner, "template_scores"):
        real_scores = refiner.template_scores

        def scores(*args):
            out = real_scores(*args)
            run.templates[-1].extend((s.detach().clone(), torch.topk(s, refiner.corr, dim=-1)[1]) for s in out)
            return out

        refiner.template_scores = scores
    predictor.prepare(protocol, dataset)
    outcome = evaluate_sample(predictor, image, gt, protocol)
    if outcome.status != "ok":
        raise RuntimeError(f"{predictor.name} ({predictor.implementation}): {outcome.error}")
    run.clicks = outcome.clicks
    return run


def _tie_swap(mine: list, theirs: list) -> str:
    """'' when the template orders agree; the description of a tie swap; an error for any other swap."""
    gaps = []
    for (scores, a), (_, b) in zip(mine, theirs):
        for row in range(a.shape[0]):
            differ = a[row] != b[row]
            if differ.any():
                gaps.append(float((scores[row, a[row][differ]] - scores[row, b[row][differ]]).abs().max()))
    if not gaps:
        return ""
    if max(gaps) >= TIE_GAP:
        raise AssertionError(f"EMC-Click templates reordered without a tie (score gap {max(gaps):.3g})")
    return f"top-K templates reordered at a float32 tie (score gap {max(gaps):.2g})"


def compare_implementations(make: Callable[[str], Predictor], image: np.ndarray, gt: np.ndarray, protocol: Protocol,
                            dataset: str = "GrabCut", sample: str = "") -> Agreement:
    """Run ``make("engineered")`` and ``make("official")`` unsteered on the image and compare them
    click by click (the protocol's ``untrained_control`` must be ``own``)."""
    if protocol.untrained_control != "own":
        raise ValueError("the implementations are compared under their own control flow (untrained_control own)")
    engineered = make("engineered")
    eng = _run(engineered, image, gt, protocol, dataset)
    off = _run(make("official"), image, gt, protocol, dataset)
    agreement = Agreement(engineered.name, sample, [])
    for k in range(max(len(eng.clicks), len(off.clicks))):
        if k >= len(eng.clicks) or k >= len(off.clicks):
            agreement.clicks.append(ClickAgreement(k + 1, {"clicks": float("inf")}))
            break
        row = ClickAgreement(k + 1, {"clicks": 0.0 if eng.clicks[k] == off.clicks[k] else float("inf")})
        row.differences["probabilities"] = float(np.abs(eng.probabilities[k].astype(np.float64)
                                                        - off.probabilities[k]).max())
        names = list(dict.fromkeys([*eng.states[k], *off.states[k]]))
        for name in names:
            row.differences[name] = _difference(eng.states[k].get(name), off.states[k].get(name))
        swap = _tie_swap(eng.templates[k], off.templates[k])
        if row.failures() and swap:  # a tie that changed the outcome: exempt, and the runs fork here
            row.exempt = swap
        agreement.clicks.append(row)
        if row.exempt:
            agreement.forked_at = k + 1
            break
    return agreement
