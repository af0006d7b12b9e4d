"""Datasets with several objects per image, one sample per (image, instance): SBD and PascalVOC.

The instance list needs every label file decoded once, so it is cached in the user cache
directory under the dataset's fingerprint (a changed file gives a new fingerprint and a new list).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from iseg_bench.atomic_files import write_json_atomic

from .base import FolderDataset
from .fingerprint import cache_dir
from .sample import VOID, DatasetError, Sample, SampleError, read_image


class InstanceDataset(FolderDataset):
    """Images listed in a split file, each with a label map whose non-zero ids are objects."""

    split_file: str = ""
    void_label: int | None = None

    def __init__(self, root: Path, name: str | None = None) -> None:
        super().__init__(root, name)
        (split,) = self.require(self.split_file)
        self._image_ids = [line.strip() for line in split.read_text().splitlines() if line.strip()]
        if not self._image_ids:
            raise DatasetError(f"{self.name}: split file {split} lists no images")

    @abstractmethod
    def image_path(self, image_id: str) -> Path: ...

    @abstractmethod
    def label_path(self, image_id: str) -> Path: ...

    @abstractmethod
    def read_labels(self, path: Path) -> np.ndarray:
        """The label map of one image as int32."""

    def object_ids(self, labels: np.ndarray) -> list[int]:
        """Object labels of one image, ascending (void and 0 excluded)."""
        ids = np.unique(labels)
        return [int(i) for i in ids if i != 0 and i != self.void_label]

    def files(self) -> list[Path]:
        return ([self.root / self.split_file] + [self.image_path(i) for i in self._image_ids]
                + [self.label_path(i) for i in self._image_ids])

    @cached_property
    def _index(self) -> list[tuple[str, int]]:
        cache = cache_dir() / f"index-{self.name}-{self.fingerprint}.json"
        try:
            return [(str(a), int(b)) for a, b in json.loads(cache.read_text())]
        except (OSError, ValueError, TypeError):
            pass
        index = []
        for image_id in self._image_ids:
            try:
                labels = self.read_labels(self.label_path(image_id))
            except SampleError:
                index.append((image_id, 0))  # kept so the broken file is reported, not skipped
                continue
            index.extend((image_id, obj) for obj in self.object_ids(labels))
        try:
            write_json_atomic(cache, index)
        except OSError:
            pass
        return index

    @property
    def ids(self) -> list[str]:
        return [f"{image_id}:{obj}" for image_id, obj in self._index]

    def load(self, index: int) -> Sample:
        image_id, obj = self._index[index]
        sid = f"{image_id}:{obj}"
        labels = self.read_labels(self.label_path(image_id))
        if obj == 0:
            raise SampleError(f"sample {sid}: label file {self.label_path(image_id)} could not be read "
                              "when the instance list was built")
        gt = (labels == obj).astype(np.int32)
        if self.void_label is not None:
            gt[labels == self.void_label] = VOID
        return Sample(sid, read_image(self.image_path(image_id)), gt)


class SBDDataset(InstanceDataset):
    """SBD val (``benchmark_RELEASE/dataset``): ``img/<id>.jpg``, ``inst/<id>.mat``, ``val.txt``."""

    name = "SBD"
    split_file = "val.txt"
    layout = "SBD/img/<id>.jpg, SBD/inst/<id>.mat (GTinst.Segmentation), SBD/val.txt"

    def image_path(self, image_id: str) -> Path:
        return self.root / "img" / f"{image_id}.jpg"

    def label_path(self, image_id: str) -> Path:
        return self.root / "inst" / f"{image_id}.mat"

    def read_labels(self, path: Path) -> np.ndarray:
        from scipy.io import loadmat  # only SBD needs scipy; import it on use

        if not path.is_file():
            raise SampleError(f"instance file {path} does not exist")
        try:
            return np.asarray(loadmat(str(path))["GTinst"][0][0][0], dtype=np.int32)
        except Exception as exc:  # scipy raises many types for malformed files
            raise SampleError(f"cannot read SBD instance file {path}: {exc}") from None


class PascalVOCDataset(InstanceDataset):
    """VOC 2012 val as ClickSEG/EMC-Click evaluate it: instances are grey levels of SegmentationObject.

    The palette PNG is decoded to BGR and converted to grey with OpenCV (index 1 -> 38, 2 -> 75, ...,
    void -> 220); objects are the distinct grey levels in ascending order (ClickSEG's
    isegm/data/datasets/pascalvoc.py, split ``val``).
    """

    name = "PascalVOC"
    split_file = "ImageSets/Segmentation/val.txt"
    void_label = 220
    layout = ("PascalVOC/JPEGImages/<id>.jpg, PascalVOC/SegmentationObject/<id>.png, "
              "PascalVOC/ImageSets/Segmentation/val.txt")

    def image_path(self, image_id: str) -> Path:
        return self.root / "JPEGImages" / f"{image_id}.jpg"

    def label_path(self, image_id: str) -> Path:
        return self.root / "SegmentationObject" / f"{image_id}.png"

    def read_labels(self, path: Path) -> np.ndarray:
        if not path.is_file():
            raise SampleError(f"object mask {path} does not exist")
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SampleError(f"cannot decode object mask {path}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.int32)
