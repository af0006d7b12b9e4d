"""Fetching and unpacking benchmark archives, on request only, checked and without path traversal.

``iseg-bench download NAME --to DIR`` fetches the archive the RITM/fBRS authors publish (or takes
``--archive FILE``), checks its SHA-256 when one is known or given, and unpacks it member by member
into DIR: absolute paths, ``..`` components, links, devices and names with control characters are
refused with the offending member named, before anything is written. Unpacking goes to a
temporary folder that is moved into place only when complete, so a failure leaves DIR as it was.
"""

from __future__ import annotations

import functools
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from iseg_bench.atomic_files import sha256_file

from .sample import DatasetError

FBRS = "https://github.com/saic-vul/fbrs_interactive_segmentation/releases/download/v1.0/"


@dataclass(frozen=True)
class Archive:
    url: str
    size: str
    sha256: str | None = None  # not published by the authors; pass --sha256 to pin one


ARCHIVES = {
    "GrabCut": Archive(FBRS + "GrabCut.zip", "11 MB"),
    "Berkeley": Archive(FBRS + "Berkeley.zip", "7 MB"),
    "DAVIS": Archive(FBRS + "DAVIS.zip", "43 MB"),
    "COCO_MVal": Archive(FBRS + "COCO_MVal.zip", "127 MB"),
}


def fetch(url: str, dest: Path) -> Path:
    """Download ``url`` to ``dest`` through a ``.part`` file (a broken transfer leaves no archive)."""
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as fh:
            shutil.copyfileobj(response, fh)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise DatasetError(f"cannot download {url}: {exc}") from None
    part.replace(dest)
    return dest


def _check_name(name: str, archive: Path) -> PurePosixPath:
    """A member name that stays inside the destination, or DatasetError naming it."""
    if not name or any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise DatasetError(f"{archive}: member {name!r} has control characters in its name; refusing to unpack")
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise DatasetError(f"{archive}: member {name!r} would be written outside the destination; refusing to unpack")
    return path


# an archive member: its relative path, whether it is a directory, and a function opening it for reading
_Member = tuple[PurePosixPath, bool, Callable[[], IO[bytes]]]


def _tar_reader(tf: tarfile.TarFile, member: tarfile.TarInfo, archive: Path) -> Callable[[], IO[bytes]]:
    """A function opening ``member`` of ``tf`` for reading (DatasetError naming the member if tarfile
    has no reader for it: it returns None for anything but a regular file)."""

    def read() -> IO[bytes]:
        reader = tf.extractfile(member)
        if reader is None:
            raise DatasetError(f"{archive}: member {member.name!r} cannot be read as a file; refusing to unpack")
        return reader

    return read


def _members(archive: Path) -> list[_Member]:
    """(relative path, is directory, reader) for every member, validated before any is extracted."""
    out: list[_Member] = []
    if zipfile.is_zipfile(archive):
        zf = zipfile.ZipFile(archive)
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o170000
            if mode and mode not in (0o100000, 0o040000):
                raise DatasetError(f"{archive}: member {info.filename!r} is a link or special file; refusing to unpack")
            out.append((_check_name(info.filename, archive), info.is_dir(), functools.partial(zf.open, info)))
        return out
    if tarfile.is_tarfile(archive):
        tf = tarfile.open(archive)
        for member in tf.getmembers():
            if not (member.isfile() or member.isdir()):
                raise DatasetError(f"{archive}: member {member.name!r} is a link or special file; refusing to unpack")
            out.append((_check_name(member.name, archive), member.isdir(), _tar_reader(tf, member, archive)))
        return out
    raise DatasetError(f"{archive} is neither a zip nor a tar archive")


def safe_extract(archive: Path, dest: Path) -> list[Path]:
    """Unpack every member of ``archive`` into ``dest`` (all checked first); returns the top-level entries."""
    members = _members(archive)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest, prefix=".unpacking-"))
    try:
        for rel, is_dir, open_member in members:
            target = staging.joinpath(*rel.parts)
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_member() as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        tops = sorted(p.name for p in staging.iterdir())
        for name in tops:
            if (dest / name).exists():
                raise DatasetError(f"{dest / name} already exists; move it away or choose another --to")
        for name in tops:
            (staging / name).replace(dest / name)
        return [dest / name for name in tops]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def download(name: str, dest: Path, archive: Path | None = None, sha256: str | None = None) -> tuple[list[Path], str]:
    """Fetch (or take) the archive of dataset ``name``, verify it, unpack it; returns (entries, sha256)."""
    if name not in ARCHIVES and archive is None:
        raise DatasetError(f"no known archive for {name}; known: {', '.join(ARCHIVES)} (or pass --archive FILE)")
    expected = sha256 or (ARCHIVES[name].sha256 if name in ARCHIVES else None)
    with tempfile.TemporaryDirectory() as tmp:
        path = archive if archive is not None else fetch(ARCHIVES[name].url, Path(tmp) / f"{name}.zip")
        if not Path(path).is_file():
            raise DatasetError(f"archive {path} does not exist")
        digest = sha256_file(Path(path))
        if expected and digest != expected.lower():
            raise DatasetError(f"{path}: SHA-256 {digest} does not match the expected {expected}; not unpacked")
        return safe_extract(Path(path), dest), digest
