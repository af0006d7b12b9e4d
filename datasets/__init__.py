"""Benchmark datasets: loaders for the standard layouts, the embedded default set, fingerprints."""

from .base import Dataset, FolderDataset
from .catalog import DATA_ROOT_ENV, DATASETS, DEFAULT_DATASET, open_dataset, resolve_data_root
from .sample import BACKGROUND, OBJECT, VOID, DatasetError, Sample, SampleError

__all__ = ["BACKGROUND", "DATASETS", "DATA_ROOT_ENV", "DEFAULT_DATASET", "Dataset", "DatasetError",
           "FolderDataset", "OBJECT", "Sample", "SampleError", "VOID", "open_dataset", "resolve_data_root"]
