"""Dataset fingerprints: which exact files a result was computed on.

Different copies of a benchmark (re-encoded photos, merged DAVIS objects) change NoC, so every
result records a hash over the dataset's file list and contents. Per-file hashes are cached by
(path, size, mtime) in the user cache directory, so a large set is read in full only once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from iseg_bench.atomic_files import sha256_file, write_json_atomic


def cache_dir() -> Path:
    """``$ISEG_BENCH_CACHE``, else ``$XDG_CACHE_HOME/iseg-bench``, else ``~/.cache/iseg-bench``."""
    if os.environ.get("ISEG_BENCH_CACHE"):
        return Path(os.environ["ISEG_BENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "iseg-bench"


class _HashCache:
    """Per-file sha256 cache keyed by absolute path, size and mtime; tolerant of a broken file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False
        try:
            self.data: dict[str, list] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def get(self, file: Path) -> str:
        st = file.stat()
        key = str(file.resolve())
        hit = self.data.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        value = sha256_file(file)
        self.data[key] = [st.st_size, st.st_mtime_ns, value]
        self.changed = True
        return value

    def save(self) -> None:
        if not self.changed:
            return
        try:
            write_json_atomic(self.path, self.data)
        except OSError:
            pass  # a read-only cache only costs time


def fingerprint_files(root: Path, files: Iterable[Path]) -> str:
    """Hash of the sorted relative paths and contents of ``files`` (missing files count as such)."""
    cache = _HashCache(cache_dir() / "file-hashes.json")
    digest = hashlib.sha256()
    for rel, path in sorted((str(f.relative_to(root)), f) for f in files):
        content = cache.get(path) if path.is_file() else "missing"
        digest.update(f"{rel}\t{content}\n".encode())
    cache.save()
    return digest.hexdigest()[:16]


def fingerprint_arrays(tag: str, arrays: Iterable[bytes]) -> str:
    """Hash of generated content (the embedded dataset has no files)."""
    digest = hashlib.sha256(tag.encode())
    for blob in arrays:
        digest.update(hashlib.sha256(blob).digest())
    return digest.hexdigest()[:16]
