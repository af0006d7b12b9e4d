"""How a method family is declared: once, in its own folder, as plain data.

A family folder (``adapters/<family>/``) holds its predictor, its network and, in its
``__init__.py``, a ``FAMILY`` declaration: every variant with its network (an import string and
plain arguments), its official checkpoint (file name, source, size, SHA-256 when published), its
reference key list and the rows of the EMC-Click paper's tables it is measured against; the variant
the family name stands for; the predictor class; and the family's published evaluation settings (a
protocol preset named after the family). The method registry, the protocol presets, ``iseg-bench
methods`` and ``weights``, ``bench`` and the paper tables all read these declarations (as timm keeps
a model family and its ``default_cfgs`` in one file). Declarations import nothing heavy, so listing
methods never loads torch.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass

from iseg_bench.protocol import Protocol


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
class PaperRow:
    """A row of the EMC-Click paper's Tables 1-3 (``iseg_bench/reporting/emc_paper/published.py``) that a variant's
    measurements are printed under."""

    table: int  # 1 (cost), 2 (SBD NoC and time) or 3 (NoC on five benchmarks)
    row: str  # the paper's row name
    phase: str = ""  # Table 1: the click phase the row times ("first" or "later")
    train: str = "C+L"  # Table 3: the training data of the row ("C+L" or "SBD")


@dataclass(frozen=True)
class Variant:
    """One registered network: ``build()`` makes it (``network(*arguments)``, imported on demand)."""

    name: str
    summary: str
    network: str  # "package.module:Class" (or "package.module:Class.constructor")
    arguments: tuple
    weights: WeightsSpec
    golden: str = ""  # the official reference key list, ../shared/golden/<golden>.keys.json, if any
    stage: str = ""
    paper: tuple[PaperRow, ...] = ()  # the paper's rows this variant is measured against
    family: str = ""  # set by the Family that declares it

    def build(self):
        module, _, attr = self.network.partition(":")
        target = importlib.import_module(module)
        for name in attr.split("."):  # "Class" or "Class.constructor"
            target = getattr(target, name)
        return target(*self.arguments)


@dataclass(frozen=True)
class Family:
    """A method family: its predictor (``package.module:Class``), its variants, the variant the
    family's own name resolves to, and its published evaluation settings (``protocol``, registered
    as the preset named after the family; None: the family has none and ``published`` means neutral)."""

    name: str
    summary: str
    predictor: str
    default: str
    variants: tuple[Variant, ...]
    protocol: Protocol | None = None

    def __post_init__(self) -> None:
        names = [v.name for v in self.variants]
        if self.default not in names:
            raise ValueError(f"family {self.name!r}: default {self.default!r} is not one of its variants {names}")
        if self.protocol is not None and self.protocol.name != self.name:
            raise ValueError(f"family {self.name!r}: its published protocol must be named after it, "
                             f"not {self.protocol.name!r}")
        object.__setattr__(self, "variants", tuple(dataclasses.replace(v, family=self.name) for v in self.variants))


# The registered families and their variants, by name; ``adapters.register_family`` fills them. They
# live here, beside the declarations, so that a predictor can look its variant up without importing
# the package that registers it.
FAMILIES: dict[str, Family] = {}
VARIANTS: dict[str, Variant] = {}
