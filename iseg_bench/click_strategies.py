"""Click strategies by name (``CLICKERS``): the reference robot (``clicker.py``) and seeded users
who click less mechanically.

Every strategy first decides, as the robot does, which side needs a click (positive when the
false-negative map's largest distance to a non-error pixel exceeds the false-positive map's) and
takes the error region the robot would click in: the 4-connected component of that side's errors
that holds the robot's point (pixels clicked before excluded). Then, with a seeded generator:

- ``jitter``: the robot's point moved by Gaussian noise of standard deviation ``click_spread`` x
  the region's radius (the robot point's distance to the region's boundary), redrawn until it
  lands inside the region (after 32 misses, the robot's point);
- ``uniform``: a pixel of the region, every pixel equally likely (RClicks' "UD" baseline draws
  from the whole error map of that side; this one keeps to the robot's region);
- ``distance``: a pixel of the region with probability proportional to its distance to the
  region's boundary raised to ``click_exponent`` (1 is RClicks' "DT" baseline, Antonov et al.,
  NeurIPS 2024; large exponents approach the robot);
- ``boundary``: a pixel of the region no farther than ``click_spread`` x the radius (at least
  1.5 px) from its boundary, uniformly: a careless user clicking near the edge (a hard case).

No published measurement says users click differently on the first click than on later ones in a
way these rules could follow, so one rule serves every click. The generator is seeded from the
run's click seed, the dataset and the sample id (``click_rng``), and the distances it weighs are
snapped to exact values: the same seed gives the same clicks for every method, on every machine
and executor, so methods are compared on the same user.
"""

from __future__ import annotations

import dataclasses
import hashlib

import cv2
import numpy as np

from .clicker import CLICK_DEFAULTS, Errors, RobotClicker, Target
from .registry import Registry

MAX_JITTER_DRAWS = 32
MIN_BAND_PX = 1.5


def click_rng(seed: int, dataset: str, sample_id: str) -> np.random.Generator:
    """The generator of one sample's clicks under ``seed`` (PCG64, the same stream everywhere)."""
    key = int.from_bytes(hashlib.sha256(f"{dataset}\x1f{sample_id}".encode()).digest()[:8], "little")
    return np.random.Generator(np.random.PCG64([seed, key]))


def exact_distances(dist: np.ndarray) -> np.ndarray:
    """A distance map snapped to float32(sqrt(integer squared distance)): OpenCV's transform can be
    1-2 ulp off on some builds (``clicker.exact_peak``), which must not move a drawn click."""
    return np.sqrt(np.rint(np.square(dist, dtype=np.float64))).astype(np.float32)


def region_of(target: Target) -> np.ndarray:
    """The 4-connected component of the target's error map (clicked pixels excluded) holding it."""
    inside = (target.dist > 0).astype(np.uint8)
    _, labels = cv2.connectedComponents(inside, connectivity=4)
    return labels == labels[target.y, target.x]


class SeededUser(RobotClicker):
    """A strategy that picks, with a seeded generator, a pixel of the robot's error region."""

    seeded = True

    def __init__(self, gt: np.ndarray, rng: np.random.Generator, spread: float, exponent: float) -> None:
        super().__init__(gt)
        self.rng, self.spread, self.exponent = rng, spread, exponent

    def _choose(self, errors: Errors) -> tuple[int, int, bool]:
        target = self._target(errors)
        if target is None:
            return 0, 0, False
        target = dataclasses.replace(target, dist=exact_distances(target.dist))
        y, x = self._pick(target, region_of(target))
        return errors.row0 + y, errors.col0 + x, target.positive

    def _pick(self, target: Target, region: np.ndarray) -> tuple[int, int]:
        raise NotImplementedError

    def _draw(self, region: np.ndarray, weights: np.ndarray | None = None) -> tuple[int, int]:
        """A pixel of ``region`` (row-major order), uniformly or in proportion to ``weights``."""
        where = np.flatnonzero(region)
        if weights is None:
            index = int(self.rng.integers(where.size))
        else:
            w = weights.ravel()[where].astype(np.float64)
            index = int(self.rng.choice(where.size, p=w / w.sum()))
        y, x = divmod(int(where[index]), region.shape[1])
        return y, x


class JitteredRobot(SeededUser):
    """The robot's point, moved by Gaussian noise scaled to the region and kept inside it."""

    def _pick(self, target: Target, region: np.ndarray) -> tuple[int, int]:
        sigma = self.spread * target.radius
        h, w = region.shape
        for _ in range(MAX_JITTER_DRAWS):
            dy, dx = self.rng.normal(0.0, sigma, size=2)
            y, x = int(round(target.y + dy)), int(round(target.x + dx))
            if 0 <= y < h and 0 <= x < w and region[y, x]:
                return y, x
        return target.y, target.x


class UniformUser(SeededUser):
    """Any pixel of the region, equally likely."""

    def _pick(self, target: Target, region: np.ndarray) -> tuple[int, int]:
        return self._draw(region)


class DistanceWeightedUser(SeededUser):
    """Pixels farther from the region's boundary more likely (weight: distance ^ exponent)."""

    def _pick(self, target: Target, region: np.ndarray) -> tuple[int, int]:
        return self._draw(region, np.power(target.dist, self.exponent, dtype=np.float64))


class BoundaryUser(SeededUser):
    """A pixel of the region's rim, equally likely: the careless user."""

    def _pick(self, target: Target, region: np.ndarray) -> tuple[int, int]:
        band = region & (target.dist <= max(MIN_BAND_PX, self.spread * target.radius))
        return self._draw(band if band.any() else region)


# Every click strategy by name, the reference robot first. Kept here, above the robot's module, so
# that the registry points only down or into this module.
CLICKERS: Registry[type[RobotClicker]] = Registry("click strategy")
CLICKERS.register("robot", "iseg_bench.clicker:RobotClicker",
                  "reference robot: centre of the largest error region (RITM/FocalClick/EMC-Click)")
CLICKERS.register("jitter", "iseg_bench.click_strategies:JitteredRobot",
                  "the robot's point moved by seeded Gaussian noise (click_spread x the region's radius), "
                  "kept inside the region")
CLICKERS.register("uniform", "iseg_bench.click_strategies:UniformUser",
                  "a seeded uniformly random pixel of the robot's error region")
CLICKERS.register("distance", "iseg_bench.click_strategies:DistanceWeightedUser",
                  "a seeded pixel of the robot's error region, probability ~ distance to its boundary ^ "
                  "click_exponent (1: RClicks' DT baseline)")
CLICKERS.register("boundary", "iseg_bench.click_strategies:BoundaryUser",
                  "a seeded pixel within click_spread x the radius of the region's boundary (a hard case)")

# The protocol fields each strategy reads; the others must keep their defaults, so that two protocols
# with one behaviour never get two hashes.
STRATEGY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "robot": (), "jitter": ("click_spread",), "uniform": (), "distance": ("click_exponent",),
    "boundary": ("click_spread",),
}


def is_seeded(name: str) -> bool:
    """Whether the click strategy ``name`` draws its clicks (so it needs a seeded generator)."""
    return bool(CLICKERS.get(name).seeded)


def make_clicker(name: str, gt: np.ndarray, rng: np.random.Generator | None = None,
                 spread: float | None = None, exponent: float | None = None) -> RobotClicker:
    """The click strategy ``name`` for one sample; the seeded ones need ``rng`` (``click_rng``) and
    read ``spread`` or ``exponent`` (the protocol's ``click_spread``, ``click_exponent``; None: their
    defaults)."""
    cls = CLICKERS.get(name)
    if not cls.seeded:
        return cls(gt)
    if rng is None:
        raise ValueError(f"click strategy {name!r} draws its clicks: give it a seeded generator")
    spread = CLICK_DEFAULTS["click_spread"] if spread is None else spread
    exponent = CLICK_DEFAULTS["click_exponent"] if exponent is None else exponent
    return cls(gt, rng, spread, exponent)  # type: ignore[call-arg]  # a SeededUser
