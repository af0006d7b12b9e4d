"""How a method family is declared: once, in its own folder, as plain data.

A family folder (``adapters/<family>/``) holds its predictor, its network and, in its
``__init__.py``, a ``FAMILY`` declaration: every variant with its network (an import string and
plain arguments), its official checkpoint (file name, source, size, SHA-256 when published) and its
reference key list, the variant the family name stands for, and the predictor class. The method
registry, ``iseg-bench methods`` and ``weights``, ``bench`` and the paper tables all read these
declarations (as timm keeps a model family and its ``default_cfgs`` in one file). Declarations
import nothing heavy, so listing methods never loads torch.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class WeightsSpec:
    """An official checkpoint: its published file name, where to get it, its published size, and
    its SHA-256 when one is published (only then can a file be called official)."""

    file_name: str
    source: str
    size: str
    note: str = ""
    sha256: str | None = None


@dataclass(frozen=True)
class Variant:
    """One registered network: ``build()`` makes it (``network(*arguments)``, imported on demand)."""

    name: str
    summary: str
    network: str  # "package.module:Class"
    arguments: tuple
    weights: WeightsSpec
    golden: str = ""  # name of the official reference key list in ../shared/golden, if any
    stage: str = ""
    family: str = ""  # set by the Family that declares it

    def build(self):
        module, _, attr = self.network.partition(":")
        return getattr(importlib.import_module(module), attr)(*self.arguments)


@dataclass(frozen=True)
class Family:
    """A method family: its predictor (``package.module:Class``), its variants, and the variant the
    family's own name resolves to."""

    name: str
    summary: str
    predictor: str
    default: str
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        names = [v.name for v in self.variants]
        if self.default not in names:
            raise ValueError(f"family {self.name!r}: default {self.default!r} is not one of its variants {names}")
        object.__setattr__(self, "variants", tuple(dataclasses.replace(v, family=self.name) for v in self.variants))
