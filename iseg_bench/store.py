"""The results folder: append-only JSON-lines records plus a manifest of what produced them.

Layout of ``DIR``::

    records/<method>/<dataset>.jsonl   one SampleRecord per line, flushed and fsync'ed per sample
    masks/<method>/<dataset>/<key>.npz the mask after each click of a record (``run --save-masks``)
    manifest.json                      protocols, method descriptions, dataset fingerprints, runs
    writer.lock                        the writer lock, and who holds it (``ResultStore.writer_lock``)
    report/                            rendered tables, plots and summary (``iseg-bench report``)

One writer at a time: a run or an import holds ``writer.lock`` (an advisory ``flock``, released by
the kernel when its holder ends, however it ends) while it reads what is done and appends; readers
take no lock. A run killed at any point keeps every finished line; a half-written last line is
reported once per file, counts as not done, and is cut off before the next append; unreadable lines
are skipped (and counted) when loading.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from .atomic_files import count_lines, cut_partial_tail, write_bytes_atomic, write_json_atomic
from .records import SampleRecord, method_key

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no flock, so no writer lock
    fcntl = None

MANIFEST_FORMAT = 1  # manifests without the field are format 1; a newer one is refused, not misread
LOCK_FILE = "writer.lock"


class StoreError(Exception):
    """The results folder cannot be used (not writable, manifest unreadable)."""


def safe_name(name: str) -> str:
    """``name`` as a file or folder name (runs of other characters become one underscore)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "_"


class StoreBusy(StoreError):
    """Another process holds the folder's writer lock; ``holder`` says who (empty if it has not said yet)."""

    def __init__(self, root: Path, holder: dict[str, Any]) -> None:
        super().__init__(f"results folder {root} is being written by {describe_holder(holder)}")
        self.root, self.holder = root, holder


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 12 on host h since <UTC time>, running: <command>``, as far as the lock file says."""
    if not holder:
        return "another process (which has not yet written who it is)"
    return (f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} since {holder.get('started', '?')}, "
            f"running: {holder.get('command', '?')}")


HOLDER_NAME_WAIT_S = 5.0  # how long a refused writer waits for a holder that has just locked to write its name


def _lock_or_holder(fd: int) -> dict[str, Any] | None:
    """Take the writer lock on ``fd`` without blocking (None), or say who holds it. A holder writes its
    name just after locking, so an empty or half-written file is read again for a moment (the lock tried
    again too) before the holder is reported unnamed."""
    assert fcntl is not None
    deadline = time.monotonic() + HOLDER_NAME_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            try:
                holder = json.loads(os.pread(fd, 1 << 16, 0))
            except ValueError:
                holder = None
            if isinstance(holder, dict) or time.monotonic() > deadline:
                return holder if isinstance(holder, dict) else {}
            time.sleep(0.01)


_torn_reported: set[tuple[str, int]] = set()  # (records file, line): each torn line is reported once per process


def _report_torn_line(path: Path, lineno: int) -> None:
    """Warn, once per process for each file and line, that a half-written last record is ignored."""
    if (str(path), lineno) not in _torn_reported:
        _torn_reported.add((str(path), lineno))
        warnings.warn(f"{path}:{lineno}: half-written last record (its writer stopped mid-line) ignored: its sample "
                      "counts as not done and will be evaluated again; the partial line is cut before the next "
                      "append", stacklevel=3)


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.records_dir = self.root / "records"
        self.manifest_path = self.root / "manifest.json"
        self.masks_dir = self.root / "masks"
        self._handles: dict[Path, IO[str]] = {}
        self.skipped_lines = 0

    # -- records ---------------------------------------------------------------------------

    def path_for(self, method: str, dataset: str) -> Path:
        return self.records_dir / safe_name(method) / f"{safe_name(dataset)}.jsonl"

    def masks_path(self, record: SampleRecord) -> Path:
        """Where the masks of ``record`` are (or would be) stored."""
        return self.masks_dir / safe_name(record.method) / safe_name(record.dataset) / f"{record.key}.npz"

    def append(self, record: SampleRecord) -> None:
        """Append one record durably (flush + fsync): once this returns, the sample is kept. Its masks,
        when it carries them, are written first, so a stored record never points at missing masks."""
        if record.masks is not None:
            write_bytes_atomic(self.masks_path(record), record.masks)
        path = self.path_for(record.method, record.dataset)
        handle = self._handles.get(path)
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if cut_partial_tail(path):
                _report_torn_line(path, count_lines(path) + 1)
            handle = self._handles[path] = open(path, "a", encoding="utf-8")
        handle.write(record.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def writer_lock(self, wait: bool = False, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the folder's writer lock for the block, so that two runs never evaluate and store the same
        samples. Busy: raise StoreBusy, or with ``wait`` tell ``on_wait`` once who holds it and block until
        it is released. The lock file names the holder; the kernel releases the lock when the holder ends."""
        if fcntl is None:
            yield
            return
        path = self.root / LOCK_FILE
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc}") from None
        try:
            holder = _lock_or_holder(fd)
            if holder is not None:
                if not wait:
                    raise StoreBusy(self.root, holder)
                if on_wait is not None:
                    on_wait(f"waiting: results folder {self.root} is being written by {describe_holder(holder)}; "
                            "this command goes on when that one ends, skipping the samples it stored")
                fcntl.flock(fd, fcntl.LOCK_EX)
            me = {"pid": os.getpid(), "host": socket.gethostname(), "command": shlex.join(sys.argv),
                  "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)  # released: the file names nobody
        finally:
            os.close(fd)  # releases the lock

    def iter_records(self) -> Iterator[SampleRecord]:
        """Every readable record once (first occurrence of a key wins)."""
        seen: set[str] = set()
        self.skipped_lines = 0
        if not self.records_dir.is_dir():
            return
        for path in sorted(self.records_dir.rglob("*.jsonl")):
            with open(path, encoding="utf-8", errors="replace") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.endswith("\n"):
                        self.skipped_lines += 1  # half-written by a killed run
                        _report_torn_line(path, lineno)
                        continue
                    try:
                        record = SampleRecord.from_dict(json.loads(line))
                    except (ValueError, TypeError) as exc:
                        self.skipped_lines += 1
                        warnings.warn(f"{path}:{lineno}: unreadable record skipped ({exc})", stacklevel=2)
                        continue
                    if record.key not in seen:
                        seen.add(record.key)
                        yield record

    def load(self) -> list[SampleRecord]:
        return list(self.iter_records())

    def keys(self) -> set[str]:
        return {r.key for r in self.iter_records()}

    # -- manifest --------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            return {"format": MANIFEST_FORMAT, "protocols": {}, "methods": {}, "datasets": {}, "runs": []}
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {self.manifest_path}: {exc}") from None
        if manifest.get("format", 1) > MANIFEST_FORMAT:
            raise StoreError(f"{self.manifest_path} has format {manifest['format']}, newer than this iseg-bench "
                             f"reads ({MANIFEST_FORMAT}): upgrade iseg-bench")
        return {"format": MANIFEST_FORMAT, **manifest}

    def update_manifest(self, *, protocol: dict | None = None, protocol_hash: str = "",
                        method: dict | None = None, dataset: dict | None = None,
                        run: dict | None = None) -> None:
        manifest = self.read_manifest()
        if protocol is not None:
            manifest["protocols"][protocol_hash] = protocol
        if method is not None:
            manifest["methods"][method_key(method["name"], method["weights"],
                                           method.get("implementation", ""))] = method
        if dataset is not None:
            manifest["datasets"][dataset["fingerprint"]] = dataset
        if run is not None:
            manifest["runs"].append(run)
        try:
            write_json_atomic(self.manifest_path, manifest)
        except OSError as exc:
            raise StoreError(f"cannot write {self.manifest_path}: {exc}") from None
