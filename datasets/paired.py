"""Datasets stored as an image folder and a mask folder paired by file stem.

GrabCut, Berkeley, DAVIS and COCO_MVal (decoded as the official loaders in isegm/data/datasets/ of
RITM and ClickSEG decode them) and the custom layout. Samples are the image files in name order; a
mask pairs with the image whose name, up to its first '.', equals the mask's stem, as in the
reference loaders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import FolderDataset
from .sample import (
    DatasetError,
    Sample,
    SampleError,
    decode_any_nonzero,
    decode_channel0_above_128,
    decode_custom,
    decode_grabcut,
    read_image,
    read_raw_mask,
)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jp2"}


def image_files(folder: Path) -> list[Path]:
    """Visible files with an image suffix, sorted by name (other files are not samples)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)


def stem_before_first_dot(path: Path) -> str:
    return path.name.split(".")[0]


class PairedFolderDataset(FolderDataset):
    """``root/<image_dir>/<name>.*`` images with ``root/<mask_dir>/<name>.*`` masks."""

    image_dir: str = "images"
    mask_dir: str = "masks"
    decode: Callable[[np.ndarray], np.ndarray] = staticmethod(decode_grabcut)

    def __init__(self, root: Path, name: str | None = None) -> None:
        super().__init__(root, name)
        images_path, masks_path = self.require(self.image_dir, self.mask_dir)
        images, masks = image_files(images_path), image_files(masks_path)
        self._files = images + masks
        self._items = self._pair(images, masks)
        if not self._items:
            raise DatasetError(f"{self.name}: no samples in {self.root} (expected layout: {self.layout})")

    def _pair(self, images: list[Path], masks: list[Path]) -> list[tuple[str, Path, Path | None]]:
        """One sample per image, in name order, with the mask of the same stem (or None)."""
        by_stem: dict[str, Path] = {}
        for m in masks:
            by_stem.setdefault(stem_before_first_dot(m), m)
        items: list[tuple[str, Path, Path | None]] = []
        seen: dict[str, Path] = {}
        for img in images:
            sid = stem_before_first_dot(img)
            if sid in seen:
                raise DatasetError(f"{self.name}: {img.name} and {seen[sid].name} share the sample id {sid!r}")
            seen[sid] = img
            items.append((sid, img, by_stem.get(sid)))
        return items

    @property
    def ids(self) -> list[str]:
        return [sid for sid, _, _ in self._items]

    def files(self) -> list[Path]:
        return self._files

    def load(self, index: int) -> Sample:
        sid, img_path, mask_path = self._items[index]
        if mask_path is None:
            raise SampleError(f"sample {sid}: no mask named {sid}.* in {self.root / self.mask_dir}")
        image = read_image(img_path)
        gt = type(self).decode(read_raw_mask(mask_path))
        return Sample(sid, image, gt)


class GrabCutDataset(PairedFolderDataset):
    name = "GrabCut"
    image_dir, mask_dir = "data_GT", "boundary_GT"
    layout = "GrabCut/data_GT/<name>.{jpg,bmp} images, GrabCut/boundary_GT/<name>.bmp masks (128 = void)"


class BerkeleyDataset(PairedFolderDataset):
    name = "Berkeley"
    layout = "Berkeley/images/<name>.jpg, Berkeley/masks/<name>.png (channel 0 > 128 object, 128 void)"


class DavisDataset(PairedFolderDataset):
    name = "DAVIS"
    image_dir, mask_dir = "img", "gt"
    decode = staticmethod(decode_any_nonzero)
    layout = "DAVIS/img/<name>.jpg, DAVIS/gt/<name>.png (any non-zero channel = object)"


class CocoMValDataset(PairedFolderDataset):
    name = "COCO_MVal"
    image_dir, mask_dir = "img", "gt"
    decode = staticmethod(decode_channel0_above_128)
    layout = "COCO_MVal/img/<name>.jpg, COCO_MVal/gt/<name>.png (channel 0 > 128 = object)"


class CustomDataset(PairedFolderDataset):
    """Your own data: ``images/<name>.<ext>`` and one mask per object in ``masks/``.

    A mask ``masks/<name>.png`` is one object of ``images/<name>.*``; several objects of one image
    are ``masks/<name>__<object>.png``. Masks are 8-bit: 0 background, 128 void (ignored by IoU
    and the clicker), any value above 128 object; for colour files channel 0 (blue) is read.
    """

    name = "custom"
    path_required = True
    layout = ("images/<name>.<ext> and masks/<name>.png or masks/<name>__<object>.png "
              "(0 background, 128 void, >128 object)")
    decode = staticmethod(decode_custom)

    def __init__(self, root: Path, name: str | None = None) -> None:
        super().__init__(root, name or Path(root).name)

    def _pair(self, images: list[Path], masks: list[Path]) -> list[tuple[str, Path, Path | None]]:
        """One sample per mask file; ``<name>__<object>`` masks share the image ``<name>``."""
        by_stem: dict[str, Path] = {}
        for img in images:
            by_stem.setdefault(stem_before_first_dot(img), img)
        items: list[tuple[str, Path, Path | None]] = []
        for m in masks:
            sid = stem_before_first_dot(m)
            image_stem = sid.split("__")[0]
            if image_stem not in by_stem:
                raise DatasetError(f"{self.name}: mask {m} has no image named {image_stem}.* in "
                                   f"{self.root / self.image_dir}")
            items.append((sid, by_stem[image_stem], m))
        return items
