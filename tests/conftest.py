"""Shared fixtures: an isolated cache, the real datasets when present, a registry sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def pytest_configure(config):
    """Under pytest-xdist, share the cores among the workers: torch's default (one thread per core in
    every worker) oversubscribes the machine and makes the whole suite slower."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep fingerprint and index caches out of the user's home directory."""
    monkeypatch.setenv("ISEG_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("ISEG_BENCH_DATA", raising=False)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets`` (real GrabCut and Berkeley); tests using it skip when it is absent."""
    if not (SHARED_DATASETS / "GrabCut").is_dir() or not (SHARED_DATASETS / "Berkeley").is_dir():
        pytest.skip(f"real GrabCut/Berkeley not found at {SHARED_DATASETS} (see ../shared/datasets/README.md)")
    return SHARED_DATASETS


@pytest.fixture
def register_method():
    """Register test-only predictors (from tests/helpers.py) for the duration of one test."""
    from iseg_bench.adapters import METHODS

    added = []

    def _register(name: str, target: str) -> None:
        METHODS.register(name, target)
        added.append(name)

    yield _register
    for name in added:
        METHODS.unregister(name)
