"""The embedded default dataset: deterministically generated scenes, no files, no download.

Each scene is one object on a textured background, drawn from a seeded generator with numpy only
(so the pixels do not depend on the OpenCV version). Scenes cycle through shapes that stress
different abilities -- compact blobs, thin curved bands, rings with a hole, objects in two parts,
spiky stars, rotated boxes -- at three contrast levels, some with a same-coloured distractor and
some with a void band along the boundary, as GrabCut has. That spread is what tells a method that
follows image edges from one that only paints around the clicks.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .base import Dataset
from .fingerprint import fingerprint_arrays
from .sample import OBJECT, VOID, Sample

GENERATOR_VERSION = "synthetic-v1"
SEED = 20231123
SHAPES = ("blob", "band", "ring", "two-part", "star", "box")
CONTRASTS = (("easy", 80.0), ("medium", 45.0), ("hard", 24.0))
SIZES = ((240, 320), (320, 240), (256, 256), (240, 360), (300, 300))


def _gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur along the first two axes, reflect-padded (numpy only)."""
    radius = max(1, int(round(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    out = img.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.moveaxis(np.pad(out, pad, mode="reflect"), axis, 0)
        n = out.shape[axis]
        acc = k[0] * padded[0:n]
        for i in range(1, k.size):
            acc += k[i] * padded[i:i + n]
        out = np.moveaxis(acc, 0, axis)
    return out


def _texture(h: int, w: int, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Sum of random gratings plus smooth noise, zero-mean, (h, w)."""
    y = np.arange(h, dtype=np.float64)[:, None]
    x = np.arange(w, dtype=np.float64)[None, :]
    tex = np.zeros((h, w))
    for _ in range(3):
        freq = rng.uniform(0.02, 0.12)
        angle = rng.uniform(0, np.pi)
        phase = rng.uniform(0, 2 * np.pi)
        # sin(a + b) expanded into outer products: no full-size trigonometry
        a, b = freq * np.cos(angle) * x + phase, freq * np.sin(angle) * y
        tex += np.sin(a) * np.cos(b) + np.cos(a) * np.sin(b)
    noise = _gaussian_blur(rng.standard_normal((h, w)), 2.0)
    tex = tex / 3 + noise / (noise.std() + 1e-9)
    return strength * tex / 2


def _rotate(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, angle: float):
    dy, dx = yy - cy, xx - cx
    return dy * np.cos(angle) - dx * np.sin(angle), dy * np.sin(angle) + dx * np.cos(angle)


def _blob(yy, xx, cy, cx, r, rng, amp=0.22):
    theta = np.arctan2(yy - cy, xx - cx)
    radius = np.full_like(theta, r)
    for k in (2, 3, 5):
        radius += r * rng.uniform(0, amp) / k * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    return np.hypot(yy - cy, xx - cx) <= radius


def _shape(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    s = min(h, w)
    cy, cx = rng.uniform(0.4, 0.6) * h, rng.uniform(0.4, 0.6) * w
    r = rng.uniform(0.2, 0.3) * s
    if kind == "blob":
        return _blob(yy, xx, cy, cx, r, rng)
    if kind == "band":  # a curved band 8-14 px wide
        v, u = _rotate(yy, xx, cy, cx, rng.uniform(0, np.pi))
        half_len, width = 0.38 * s, rng.uniform(8, 14)
        centre = 0.12 * s * np.sin(2 * np.pi * u / (1.3 * half_len) + rng.uniform(0, np.pi))
        return (np.abs(v - centre) <= width / 2) & (np.abs(u) <= half_len)
    if kind == "ring":
        outer = _blob(yy, xx, cy, cx, r * 1.15, rng, amp=0.1)
        return outer & ~(np.hypot(yy - cy, xx - cx) <= r * rng.uniform(0.45, 0.6))
    if kind == "two-part":
        off = 0.22 * s
        angle = rng.uniform(0, np.pi)
        dy, dx = off * np.sin(angle), off * np.cos(angle)
        return _blob(yy, xx, cy + dy, cx + dx, 0.55 * r, rng) | _blob(yy, xx, cy - dy, cx - dx, 0.45 * r, rng)
    if kind == "star":
        theta = np.arctan2(yy - cy, xx - cx) + rng.uniform(0, np.pi)
        points = int(rng.integers(5, 8))
        radius = r * (0.45 + 0.55 * np.abs(np.cos(points * theta / 2)) ** 3)
        return np.hypot(yy - cy, xx - cx) <= radius
    if kind == "box":
        v, u = _rotate(yy, xx, cy, cx, rng.uniform(0, np.pi))
        return (np.abs(v) <= r * rng.uniform(0.5, 0.9)) & (np.abs(u) <= r * rng.uniform(1.0, 1.3))
    raise ValueError(f"unknown shape {kind!r}")


def generate_scene(index: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Image (H, W, 3) uint8 RGB, label map (H, W) int32 and the scene's parameters."""
    rng = np.random.default_rng([SEED, index])
    kind = SHAPES[index % len(SHAPES)]
    level, contrast = CONTRASTS[(index // len(SHAPES)) % len(CONTRASTS)]
    h, w = SIZES[index % len(SIZES)]
    distractor = index % 4 == 1
    void_band = index % 5 == 2

    obj = _shape(kind, h, w, rng)
    bg_colour = rng.uniform(50, 205, size=3)
    direction = rng.standard_normal(3)
    direction /= np.linalg.norm(direction)
    fg_colour = np.clip(bg_colour + contrast * direction, 0, 255)
    paint = obj.copy()
    if distractor:  # an object of the same colour that the user must exclude with negative clicks
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        ys, xs = np.nonzero(obj)
        cy = (h - ys.mean()) if abs(h - 2 * ys.mean()) > 0.1 * h else h * 0.15
        cx = (w - xs.mean()) if abs(w - 2 * xs.mean()) > 0.1 * w else w * 0.15
        decoy = _blob(yy, xx, cy, cx, 0.1 * min(h, w), rng) & ~(_gaussian_blur(obj.astype(float), 4) > 0)
        paint |= decoy
    alpha = _gaussian_blur(paint.astype(np.float64), 0.8)[..., None]
    background = bg_colour + np.stack([_texture(h, w, rng, 0.6 * contrast) for _ in range(3)], axis=-1)
    foreground = fg_colour + np.stack([_texture(h, w, rng, 0.4 * contrast) for _ in range(3)], axis=-1)
    image = alpha * foreground + (1 - alpha) * background + rng.normal(0, 4.0, size=(h, w, 3))
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)

    gt = obj.astype(np.int32) * OBJECT
    if void_band:
        dilated = _gaussian_blur(obj.astype(np.float64), 1.2)
        gt[(dilated > 0.15) & (dilated < 0.85)] = VOID
    params = {"shape": kind, "contrast": level, "distractor": distractor, "void_band": void_band,
              "size": [h, w]}
    return image, gt, params


class SyntheticDataset(Dataset):
    """The embedded default dataset (30 generated scenes); needs no data root."""

    name = "Synthetic"

    def __init__(self, size: int = 30) -> None:
        self.size = size
        self._scenes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _scene(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index not in self._scenes:  # fingerprinting generates every scene once; keep them
            self._scenes[index] = generate_scene(index)[:2]
        return self._scenes[index]

    @property
    def ids(self) -> list[str]:
        return [f"synth-{i:03d}" for i in range(self.size)]

    def load(self, index: int) -> Sample:
        image, gt = self._scene(index)
        return Sample(self.ids[index], image.copy(), gt.copy())

    @cached_property
    def fingerprint(self) -> str:
        blobs = []
        for i in range(self.size):
            image, gt = self._scene(i)
            blobs += [image.tobytes(), gt.tobytes()]
        return fingerprint_arrays(f"{GENERATOR_VERSION}:{self.size}", blobs)
