"""The masks a method produced after each click, stored compactly (``run --save-masks``).

A sample's masks are one ``.npz`` file: the first mask and then each click's change from the one
before (XOR), as packed bits, deflated. Consecutive masks differ in few pixels, so a sample of 20
clicks on a 480x640 image takes a few kB; the bound is ``H * W / 8`` bytes per click before
compression (the packed bits), whatever the masks hold.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MASKS_FORMAT = 1


class MasksError(Exception):
    """A stored masks file that cannot be read (names the file)."""


def encode(masks: Sequence[np.ndarray]) -> bytes:
    """The bytes of an ``.npz`` holding ``masks`` (same-shape boolean arrays, one per click)."""
    stack = np.stack([np.asarray(m, dtype=bool) for m in masks])
    deltas = stack.copy()
    deltas[1:] ^= stack[:-1]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, format=np.int64(MASKS_FORMAT), shape=np.asarray(stack.shape, np.int64),
                        deltas=np.packbits(deltas, axis=None))
    return buffer.getvalue()


def decode(data: bytes | Path) -> np.ndarray:
    """The boolean masks, shape (clicks, H, W), from ``encode``'s bytes or a stored file."""
    source = data if isinstance(data, Path) else io.BytesIO(data)
    try:
        with np.load(source) as npz:
            if int(npz["format"]) > MASKS_FORMAT:
                raise MasksError(f"{source}: masks format {int(npz['format'])} is newer than this iseg-bench reads")
            shape = tuple(int(s) for s in npz["shape"])
            bits = np.unpackbits(npz["deltas"], count=int(np.prod(shape))).astype(bool).reshape(shape)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise MasksError(f"{source}: not a readable masks file ({exc})") from None
    return np.bitwise_xor.accumulate(bits, axis=0)
