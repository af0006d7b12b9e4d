"""Per-sample result records: plain data, one JSON line each, keyed by content.

A record holds everything the metrics need (per-click IoU, latency, phase, the clicks) and the
identity of what produced it. The key hashes (method, weights identity, dataset, dataset
fingerprint, sample id, protocol hash, and the implementation when it is not the default): change
any of them and the sample is evaluated anew.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .predictor import IMPLEMENTATIONS

OK = "ok"
DATA_ERROR = "data-error"  # the sample could not be loaded: excluded from every method's metrics
METHOD_ERROR = "method-error"  # the method raised or returned garbage: counts as a failure
STATUSES = (OK, DATA_ERROR, METHOD_ERROR)

FIRST, LATER = "first", "later"

# The record layout: 1 (records without the field) had no ``device``; 2 adds it; 3 adds ``seed``
# (the click seed of a seeded strategy), written only by records that have one, so a reader of
# format 2 still reads every robot record. A reader refuses a record of a newer format rather than
# misread it.
RECORD_FORMAT = 3


DEFAULT_IMPLEMENTATION = IMPLEMENTATIONS[0]


def stored_implementation(implementation: str) -> str:
    """How records name an implementation: empty for the default one (and for methods that have
    none), so the keys of records made before implementations were named stay the same."""
    return "" if implementation in ("", DEFAULT_IMPLEMENTATION) else implementation


def method_key(method: str, weights: str, implementation: str = "") -> str:
    """How the manifest names one method with one set of weights (and a non-default implementation)."""
    impl = stored_implementation(implementation)
    return f"{method}@{weights}" + (f"#{impl}" if impl else "")


def result_key(method: str, weights: str, dataset: str, fingerprint: str, sample_id: str, protocol: str,
               implementation: str = "", seed: int = 0) -> str:
    impl = stored_implementation(implementation)
    blob = "\x1f".join((method, weights, dataset, fingerprint, sample_id, protocol) + ((impl,) if impl else ())
                       + ((f"seed={seed}",) if seed else ()))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class SampleRecord:
    """The outcome of one sample for one method under one protocol.

    ``ious`` are float32 values (stored exactly), ``latency_s`` the model time of each click in
    seconds (click 0 includes ``set_image``, whose own time is ``setup_s``; NaN when ``timed`` is
    False, i.e. the sample ran in a parallel executor), ``phases`` ``first`` for click 0 and
    ``later`` after it, ``load`` how busy the machine was meanwhile (``machine_load.LoadReading``, timed
    samples only), ``device`` where the method computed, ``clicks`` ``[y, x, positive]`` triples
    (empty for an imported IoU log, which records none).
    """

    method: str
    weights: str
    dataset: str
    fingerprint: str
    sample_id: str
    protocol: str
    implementation: str = ""  # "" for the default (engineered) or none; "official" for official arithmetic
    status: str = OK
    error: str = ""
    height: int = 0
    width: int = 0
    clicks: list[list[int]] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    setup_s: float = 0.0
    timed: bool = True  # False: evaluated in a parallel run, latencies not measured (NaN)
    device: str = "cpu"  # where the method computed (cpu, cuda:N); not part of the key
    load: dict = field(default_factory=dict)  # machine load while the sample ran (machine_load.LoadReading)
    finished: str = ""
    key: str = ""
    seed: int = 0  # the click seed of a seeded strategy (0 for the robot); in the key when non-zero
    format: int = 0  # 0: as this version writes it (3 with a seed, else 2)
    # other scores of each click's mask than IoU, by key (metric_catalog.MASK_SCORES: Boundary IoU);
    # float32 values like ``ious``; empty in records written before they were measured
    per_click: dict[str, list[float]] = field(default_factory=dict)
    # The masks after each click (``masks.encode``) on their way from a worker to the store, which
    # writes them to their own file (``run --save-masks``); never part of the record's line.
    masks: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.format == 0:
            self.format = 3 if self.seed else 2
        if self.format > RECORD_FORMAT:
            raise ValueError(f"record format {self.format} is newer than this iseg-bench reads ({RECORD_FORMAT}): "
                             "upgrade iseg-bench")
        if self.status not in STATUSES:
            raise ValueError(f"unknown record status {self.status!r}")
        self.implementation = stored_implementation(self.implementation)
        expected = result_key(self.method, self.weights, self.dataset, self.fingerprint, self.sample_id,
                              self.protocol, self.implementation, self.seed)
        if self.key and self.key != expected:
            raise ValueError(f"record key {self.key} does not match its content (expected {expected})")
        self.key = expected
        n = len(self.ious)
        if not (len(self.latency_s) == len(self.phases) == n and len(self.clicks) in (0, n)
                and all(len(values) == n for values in self.per_click.values())):
            raise ValueError(f"record {self.key}: per-click lists have different lengths")

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        del data["masks"]
        return json.dumps(data, separators=(",", ":"), allow_nan=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{"format": 1, **{k: v for k, v in data.items() if k in names}})

    @property
    def evaluated(self) -> bool:
        """Counts in the metrics: the method ran (successfully or not) on a loadable sample."""
        return self.status != DATA_ERROR
