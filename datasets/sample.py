"""One evaluation sample, the errors loading it can raise, and the file decoding shared by loaders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

OBJECT, BACKGROUND, VOID = 1, 0, -1


class DatasetError(Exception):
    """A dataset that cannot be opened at all (missing folder, unknown layout, bad name)."""


class SampleError(Exception):
    """One sample that cannot be evaluated; the run records it as a data error and goes on."""


@dataclass
class Sample:
    """An RGB uint8 image (H, W, 3) and its label map (H, W) int32: 1 object, 0 background, -1 void."""

    id: str
    image: np.ndarray
    gt: np.ndarray

    def __post_init__(self) -> None:
        check_sample(self.id, self.image, self.gt)

    @property
    def shape(self) -> tuple[int, int]:
        return self.gt.shape

    def resized(self, size: tuple[int, int]) -> Sample:
        """The sample at ``size`` (width, height): the image by area averaging, the labels by nearest
        neighbour (so they stay 1, 0 and -1)."""
        gt = cv2.resize(self.gt.astype(np.int16), size, interpolation=cv2.INTER_NEAREST).astype(np.int32)
        return Sample(self.id, cv2.resize(self.image, size, interpolation=cv2.INTER_AREA), gt)


def check_sample(sample_id: str, image: np.ndarray, gt: np.ndarray) -> None:
    """Raise SampleError naming the sample unless image and label map form a usable pair."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise SampleError(f"sample {sample_id}: image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    if gt.shape != image.shape[:2]:
        raise SampleError(f"sample {sample_id}: mask is {gt.shape[1]}x{gt.shape[0]} (WxH) but the image is "
                          f"{image.shape[1]}x{image.shape[0]}")
    if not np.any(gt != VOID):
        raise SampleError(f"sample {sample_id}: the mask is void everywhere")
    if not np.any(gt == OBJECT):
        raise SampleError(f"sample {sample_id}: the object mask is empty")


def check_complete(path: Path, what: str) -> None:
    """SampleError naming the file when a JPEG or PNG ends before its end marker: OpenCV decodes a
    truncated file into a partly grey image with only a libjpeg warning that names no file."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(max(0, size - 1024))
        tail = fh.read()
    if head[:2] == b"\xff\xd8" and b"\xff\xd9" not in tail:
        raise SampleError(f"{what} file {path} is truncated: it ends without the JPEG end-of-image marker")
    if head == b"\x89PNG\r\n\x1a\n" and b"IEND" not in tail[-12:]:
        raise SampleError(f"{what} file {path} is truncated: it ends without the PNG IEND chunk")


def read_image(path: Path) -> np.ndarray:
    """Read an image as RGB uint8, as the reference does (OpenCV colour decoding).

    Grey, RGBA and 16-bit files are converted by OpenCV's colour read (alpha dropped, 16-bit
    scaled to 8 bits), exactly what the reference loaders see. A truncated JPEG or PNG is a data
    error naming the file.
    """
    if not path.is_file():
        raise SampleError(f"image file {path} does not exist")
    check_complete(path, "image")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SampleError(f"cannot decode image file {path} (corrupt or unsupported format)")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def read_raw_mask(path: Path) -> np.ndarray:
    """Read a mask file as the reference does: OpenCV's 8-bit BGR decoding, shape (H, W, 3)."""
    if not path.is_file():
        raise SampleError(f"mask file {path} does not exist")
    check_complete(path, "mask")
    raw = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if raw is None:
        raise SampleError(f"cannot decode mask file {path} (corrupt or unsupported format)")
    return raw


def decode_grabcut(raw_bgr: np.ndarray) -> np.ndarray:
    """GrabCut/Berkeley rule of RITM's isegm/data/datasets/grabcut.py: channel 0; 128 void; >128 or ==1 object."""
    ch = raw_bgr[:, :, 0]
    gt = np.zeros(ch.shape, np.int32)
    gt[(ch > 128) | (ch == 1)] = OBJECT
    gt[ch == 128] = VOID
    return gt


def decode_any_nonzero(raw_bgr: np.ndarray) -> np.ndarray:
    """DAVIS rule: a pixel is object if any channel is non-zero; no void."""
    return (raw_bgr.max(axis=2) > 0).astype(np.int32)


def decode_channel0_above_128(raw_bgr: np.ndarray) -> np.ndarray:
    """COCO_MVal rule (ClickSEG/EMC-Click loader): channel 0 > 128 is object; no void."""
    return (raw_bgr[:, :, 0] > 128).astype(np.int32)


def decode_custom(raw_bgr: np.ndarray) -> np.ndarray:
    """The custom layout's documented rule: channel 0; 128 void; > 128 object; else background."""
    ch = raw_bgr[:, :, 0]
    gt = (ch > 128).astype(np.int32)
    gt[ch == 128] = VOID
    return gt
