"""Writers of small on-disk datasets in each standard layout, for loader tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def noise_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def square_mask(h: int, w: int, value: int = 255, void_band: bool = False) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = value
    if void_band:
        m[h // 4 - 1, :] = 128
    return m


def write_paired(root: Path, image_dir: str, mask_dir: str, items: dict[str, tuple[str, str]],
                 size=(24, 32)) -> Path:
    """items: sample stem -> (image suffix, mask suffix)."""
    (root / image_dir).mkdir(parents=True)
    (root / mask_dir).mkdir(parents=True)
    for i, (stem, (img_ext, mask_ext)) in enumerate(items.items()):
        cv2.imwrite(str(root / image_dir / f"{stem}{img_ext}"), noise_image(*size, seed=i))
        cv2.imwrite(str(root / mask_dir / f"{stem}{mask_ext}"), square_mask(*size, void_band=True))
    return root


VOC_PALETTE = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128),
               255: (224, 224, 192)}


def write_voc_label(path: Path, indices: np.ndarray) -> None:
    """A palette ('P' mode) PNG as VOC ships them."""
    from PIL import Image  # pillow comes with matplotlib

    img = Image.fromarray(indices.astype(np.uint8), mode="P")
    palette = [0] * 768
    for idx, rgb in VOC_PALETTE.items():
        palette[3 * idx: 3 * idx + 3] = rgb
    img.putpalette(palette)
    img.save(path)


def write_voc(root: Path) -> Path:
    for d in ("JPEGImages", "SegmentationObject", "ImageSets/Segmentation"):
        (root / d).mkdir(parents=True)
    labels = np.zeros((20, 30), np.uint8)
    labels[2:6, 2:6] = 1
    labels[2:6, 10:14] = 2
    labels[10:14, 2:6] = 3
    labels[10:14, 10:14] = 4
    labels[1, :] = 255
    write_voc_label(root / "SegmentationObject" / "2007_000001.png", labels)
    cv2.imwrite(str(root / "JPEGImages" / "2007_000001.jpg"), noise_image(20, 30))
    (root / "ImageSets/Segmentation/val.txt").write_text("2007_000001\n")
    return root


def write_sbd(root: Path) -> Path:
    from scipy.io import savemat

    (root / "img").mkdir(parents=True)
    (root / "inst").mkdir(parents=True)
    ids = ["2008_000002", "2008_000003"]
    for n, image_id in enumerate(ids):
        seg = np.zeros((16, 20), np.uint8)
        seg[2:6, 2:6] = 3
        seg[8:12, 8:12] = 1
        if n == 1:
            seg[:] = 0
            seg[4:9, 4:9] = 2
        savemat(root / "inst" / f"{image_id}.mat",
                {"GTinst": {"Segmentation": seg, "Boundaries": np.zeros((1, 1)), "Categories": np.ones((1, 1))}})
        cv2.imwrite(str(root / "img" / f"{image_id}.jpg"), noise_image(16, 20, n))
    (root / "val.txt").write_text("\n".join(ids) + "\n")
    return root
