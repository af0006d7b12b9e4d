"""The per-sample loop: the robot clicks, the method predicts (timed), the harness scores.

The same loop runs every method; nothing in it depends on which method it is. Only the model
calls are timed (``set_image`` and ``predict``); clicking, thresholding and scoring are not. A
network with random weights is steered by surrogate masks when the protocol asks for it
(``steering.py``, decided from the method's declared weights status, never its name).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from .click_strategies import make_clicker
from .metric_catalog import MASK_SCORES
from .predictor import Predictor
from .protocol import Protocol
from .records import FIRST, LATER, METHOD_ERROR, OK
from .steering import Surrogate, is_steered


class MethodOutputError(Exception):
    """A prediction that breaks the contract (wrong shape, NaN, values outside [0, 1])."""


@dataclass
class SampleOutcome:
    """What one sample produced; the runner adds identity and stores it as a SampleRecord."""

    status: str = OK
    error: str = ""
    clicks: list[list[int]] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    setup_s: float = 0.0
    masks: list[np.ndarray] = field(default_factory=list)  # the mask after each click, when asked for
    per_click: dict[str, list[float]] = field(default_factory=dict)  # the declared mask scores, by key


def check_probabilities(probs: object, shape: tuple[int, int]) -> np.ndarray:
    """The prediction as a float array, or MethodOutputError saying what is wrong with it."""
    if not isinstance(probs, np.ndarray):
        raise MethodOutputError(f"predict returned {type(probs).__name__}, expected a numpy array")
    if probs.shape != shape:
        raise MethodOutputError(f"predict returned shape {probs.shape}, expected {shape}")
    if probs.dtype == bool:
        return probs
    if not np.issubdtype(probs.dtype, np.floating):
        raise MethodOutputError(f"predict returned dtype {probs.dtype}, expected float probabilities")
    lo, hi = float(probs.min()), float(probs.max())  # NaN propagates through min and max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise MethodOutputError("predict returned NaN or infinite values")
    if lo < 0.0 or hi > 1.0:
        raise MethodOutputError(f"predict returned values in [{lo:g}, {hi:g}], expected probabilities in [0, 1]")
    return probs


def evaluate_sample(predictor: Predictor, image: np.ndarray, gt: np.ndarray, protocol: Protocol,
                    keep_masks: bool = False, rng: np.random.Generator | None = None) -> SampleOutcome:
    """Run one sample to the protocol's stopping rule; a failing method ends it as METHOD_ERROR.

    Early stop compares the float64 IoU with the highest threshold, as the reference loop does;
    metrics later compare the stored float32 values (never stricter, so NoC is unaffected). A
    steered method's prediction is checked but the surrogate mask is what the robot and the
    scores see (and what the method is told to carry on from). ``keep_masks`` keeps the scored mask
    of every click in ``masks``; ``rng`` (``click_strategies.click_rng``) drives a seeded clicker.
    """
    out = SampleOutcome()
    surrogate = Surrogate(gt) if is_steered(protocol.untrained_control, predictor) else None
    clicker = make_clicker(protocol.clicker, gt, rng, protocol.click_spread, protocol.click_exponent)
    shape = gt.shape
    pred = np.zeros(shape, dtype=bool)
    prev: np.ndarray | None = None
    stop = protocol.stop_threshold
    scorers = {m.sample_key: m.scorer(gt) for m in MASK_SCORES if m.scorer is not None}
    out.per_click = {key: [] for key in scorers}
    k = -1
    try:
        t0 = time.perf_counter()
        predictor.reset()
        predictor.set_image(image)
        predictor.synchronize()  # work queued on a GPU is timed here, not in the first predict
        out.setup_s = time.perf_counter() - t0
        errors = clicker.errors(pred)
        for k in range(protocol.max_clicks):
            click = clicker.click_for(errors)
            if surrogate is not None:
                predictor.steer(surrogate.mask(k + 1))
            t0 = time.perf_counter()
            probs = predictor.predict(tuple(clicker.clicks), prev)
            elapsed = time.perf_counter() - t0
            probs = check_probabilities(probs, shape)
            pred = probs > protocol.prob_threshold if surrogate is None else surrogate.mask(k + 1).copy()
            pred.flags.writeable = False  # the method gets it back as prev_mask; it must not edit it
            errors = clicker.errors(pred)  # one read of the frame serves the IoU and the next click
            iou = metrics.iou_from_counts(clicker.object_pixels, errors.missed, errors.extra)
            out.clicks.append([click.y, click.x, int(click.is_positive)])
            out.ious.append(float(np.float32(iou)))
            for key, score in scorers.items():
                out.per_click[key].append(float(np.float32(score(pred))))
            out.latency_s.append(elapsed + (out.setup_s if k == 0 else 0.0))
            out.phases.append(FIRST if k == 0 else LATER)
            if keep_masks:
                out.masks.append(pred)
            prev = pred
            if stop is not None and iou >= stop and k + 1 >= protocol.min_clicks:
                break
    except Exception as exc:  # a method failure costs this sample only
        out.status = METHOD_ERROR
        where = "set_image" if k < 0 else f"click {k + 1}"
        out.error = f"{where}: {type(exc).__name__}: {exc}"
    return out
