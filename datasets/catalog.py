"""Dataset names, where their files are looked for, and how a command-line spec opens one.

A spec is ``NAME`` (the folder ``<data root>/NAME``), ``NAME=PATH`` (a known layout at an explicit
path), ``custom:PATH`` (your own images/masks folder) or ``package.module:Class`` (a Dataset class
registered nowhere). Installed packages add datasets through the ``iseg_bench.datasets`` entry
point. The data root is ``--data-root`` or the environment variable ``ISEG_BENCH_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from iseg_bench import plugins
from iseg_bench.registry import Registry, UnknownNameError

from .base import Dataset
from .sample import DatasetError

DATA_ROOT_ENV = "ISEG_BENCH_DATA"
DEFAULT_DATASET = "Synthetic"

DATASETS: Registry[Any] = Registry("dataset", import_paths=True)  # Dataset classes
DATASETS.register("Synthetic", "iseg_bench.datasets.synthetic:SyntheticDataset",
                  "embedded default: 30 generated scenes, no files needed", aliases=["default"])
DATASETS.register("GrabCut", "iseg_bench.datasets.paired:GrabCutDataset", "50 images, 1 object each")
DATASETS.register("Berkeley", "iseg_bench.datasets.paired:BerkeleyDataset", "96 images, 100 objects")
DATASETS.register("DAVIS", "iseg_bench.datasets.paired:DavisDataset", "345 frames, objects merged")
DATASETS.register("SBD", "iseg_bench.datasets.instances:SBDDataset", "val: 2857 images, 6671 instances")
DATASETS.register("PascalVOC", "iseg_bench.datasets.instances:PascalVOCDataset",
                  "VOC 2012 val: 1449 images, instances by grey level", aliases=["voc", "pascal"])
DATASETS.register("COCO_MVal", "iseg_bench.datasets.paired:CocoMValDataset", "800 images, 1 object each",
                  aliases=["coco-mval", "cocomval"])
DATASETS.register("custom", "iseg_bench.datasets.paired:CustomDataset",
                  "your own images/ + masks/ folder: custom:PATH")
plugins.load_group(plugins.DATASETS_GROUP,
                   lambda ep: DATASETS.register(ep.name, ep.value, "", origin=plugins.origin(ep)))


def resolve_data_root(explicit: str | Path | None = None) -> Path | None:
    """The data root: ``explicit``, else ``$ISEG_BENCH_DATA``, else None."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else None


def open_dataset(spec: str, data_root: str | Path | None = None) -> Dataset:
    """Open the dataset a spec names (``data_root``: the folder holding the dataset folders, else
    ``$ISEG_BENCH_DATA``); DatasetError explains what is missing and where it looked."""
    spec = spec.strip()
    if spec.lower().startswith("custom:"):
        spec = "custom=" + spec[len("custom:"):]
    name, _, explicit_path = spec.partition("=")
    try:
        entry = DATASETS.entry(name)
    except UnknownNameError as exc:
        raise DatasetError(str(exc)) from None
    cls = DATASETS.get(name)
    if not cls.needs_path:
        return cls()
    if explicit_path:
        return cls(Path(explicit_path))
    if cls.path_required:
        raise DatasetError(f"the {entry.name} layout needs a path: {entry.name}:PATH")
    base = resolve_data_root(data_root)
    if base is None:
        raise DatasetError(f"dataset {entry.name} needs a data root: pass --data-root DIR or set "
                           f"{DATA_ROOT_ENV} to the folder holding {entry.name}/ (or use {entry.name}=PATH)")
    return cls(base / entry.name)
