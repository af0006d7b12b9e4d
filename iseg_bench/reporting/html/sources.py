"""Where a sample view's pictures come from: the dataset the records were made on, opened again
from the manifest's description and accepted only if its fingerprint is the records' one."""

from __future__ import annotations

from pathlib import Path


def reopen(name: str, fingerprint: str, described: dict, data_root: Path | None):
    """The dataset ``name`` with content ``fingerprint``, or a sentence saying why it cannot be had
    (not found where the run read it nor under ``data_root``, or changed since)."""
    from ...datasets import DatasetError, open_dataset

    source = str(described.get("source", ""))
    specs = [f"{name}={source}"] if source and source != "generated" else []
    specs.append(name)
    problems = []
    for spec in specs:
        try:
            dataset = open_dataset(spec, data_root)
            found = dataset.fingerprint
        except (DatasetError, OSError) as exc:
            problems.append(str(exc))
            continue
        if found == fingerprint:
            return dataset
        problems.append(f"{spec.partition('=')[2] or name} has fingerprint {found}, the records {fingerprint} "
                        "(the dataset changed since the run)")
    return f"dataset {name} is not available here: " + "; ".join(problems) + " (give --data-root)"
