"""Crash-safe files for the store and the dataset cache: atomic writes, cutting a half-written last
line, counting lines, SHA-256 of a file."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def _created_mode() -> int:
    """The mode ``open`` gives a new file (0o666 less the umask); temporary files get 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON through a temporary file and rename, so readers never see half a file."""
    write_bytes_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` through a temporary file and rename, so readers never see half a file; the file
    gets the permissions of any other file the process creates (not the temporary file's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.chmod(tmp, _created_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cut_partial_tail(path: Path, chunk: int = 1 << 16) -> int:
    """Truncate a text file after its last newline; returns the number of bytes dropped."""
    if not path.exists():
        return 0
    with open(path, "rb+") as fh:
        end = fh.seek(0, os.SEEK_END)
        pos = end
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            block = fh.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        if keep < end:
            fh.truncate(keep)
        return end - keep


def count_lines(path: Path, chunk: int = 1 << 20) -> int:
    """Newline characters in a file (its complete lines, for a file that ends in one)."""
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(chunk), b""))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
