"""The dataset contract: an ordered list of stable sample ids, lazy loading, and a fingerprint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path

from .fingerprint import fingerprint_files
from .sample import DatasetError, Sample


class Dataset(ABC):
    """A benchmark set. Samples load lazily, so one bad file costs one sample, not the run."""

    name: str = ""
    needs_path: bool = False  # opened from files (a data root or an explicit path)
    path_required: bool = False  # only from an explicit path, never from the data root

    def __len__(self) -> int:
        return len(self.ids)

    @property
    @abstractmethod
    def ids(self) -> list[str]:
        """Stable sample ids, in evaluation order."""

    @abstractmethod
    def load(self, index: int) -> Sample:
        """The sample at ``index``; raises SampleError when it cannot be evaluated."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Content hash identifying this exact copy of the dataset."""

    def describe(self) -> dict:
        return {"name": self.name, "samples": len(self), "fingerprint": self.fingerprint,
                "source": self.source}

    @property
    def source(self) -> str:
        return "generated"


class FolderDataset(Dataset):
    """A dataset read from files under ``root``; subclasses list the files each sample uses."""

    layout: str = ""  # human description of the expected layout, used in error messages
    needs_path = True

    def __init__(self, root: Path, name: str | None = None) -> None:
        self.root = Path(root)
        if name:
            self.name = name
        if not self.root.is_dir():
            raise DatasetError(f"{self.name}: dataset folder {self.root} does not exist "
                               f"(expected layout: {self.layout})")

    def require(self, *relative: str) -> list[Path]:
        """The given sub-paths of root, or a DatasetError naming the missing one and the layout."""
        paths = [self.root / r for r in relative]
        for p in paths:
            if not p.exists():
                raise DatasetError(f"{self.name}: {p} is missing; {self.root} does not look like "
                                   f"{self.name} (expected layout: {self.layout})")
        return paths

    @abstractmethod
    def files(self) -> list[Path]:
        """Every file whose content affects results (images, masks, split lists)."""

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_files(self.root, self.files())

    @property
    def source(self) -> str:
        return str(self.root)
