"""Method adapters behind the Predictor interface, registered by kebab-case name.

Entries are import strings, so ``iseg-bench methods`` or a run of one method never imports
another method's dependencies (the deep methods need torch; the classical ones do not).
The family names ``emc``, ``ritm`` and ``focalclick`` resolve to ``emc-hrnet18s``,
``ritm-hrnet18s`` and ``focalclick-hrnet18s-s2``.
"""

from __future__ import annotations

from pathlib import Path

from iseg_bench.predictor import Predictor
from iseg_bench.registry import Registry

METHODS: Registry[type[Predictor]] = Registry("method")
METHODS.register("disk", "iseg_bench.adapters.classical.disk:DiskPredictor",
                 "floor baseline: union of positive-click disks minus negative ones")
METHODS.register("grabcut", "iseg_bench.adapters.classical.grabcut:GrabCutPredictor",
                 "OpenCV GrabCut seeded from the clicks (weight-free)")
METHODS.register("watershed", "iseg_bench.adapters.classical.watershed:WatershedPredictor",
                 "marker-controlled watershed from the clicks (weight-free)")

PREDICTORS = {
    "emc": "iseg_bench.adapters.emc.predictor:EMCPredictor",
    "ritm": "iseg_bench.adapters.ritm.predictor:RITMPredictor",
    "focalclick": "iseg_bench.adapters.focalclick.predictor:FocalClickPredictor",
}
DEEP_VARIANTS = {
    "emc-hrnet18s": "EMC-Click, HRNet-18s base + C64 mask correction",
    "emc-hrnet18": "EMC-Click, HRNet-18 base + C96 mask correction",
    "emc-hrnet32": "EMC-Click, HRNet-32 base + C96 mask correction",
    "emc-segformer-b0": "EMC-Click, SegFormer MiT-b0 base + C64 mask correction",
    "emc-segformer-b3": "EMC-Click, SegFormer MiT-b3 base + C96 mask correction",
    "ritm-hrnet18s": "RITM HRNet-18s (ITER-M, COCO+LVIS)",
    "ritm-hrnet18": "RITM HRNet-18 (ITER-M, COCO+LVIS)",
    "ritm-hrnet32": "RITM HRNet-32 (ITER-M, COCO+LVIS)",
    "focalclick-hrnet18s-s1": "FocalClick HRNet-18s, S1 (segmentor at 128)",
    "focalclick-hrnet18s-s2": "FocalClick HRNet-18s, S2 (segmentor at 256)",
    "focalclick-hrnet32-s2": "FocalClick HRNet-32, S2",
    "focalclick-segformer-b0-s1": "FocalClick SegFormer-B0, S1",
    "focalclick-segformer-b0-s2": "FocalClick SegFormer-B0, S2",
    "focalclick-segformer-b3-s2": "FocalClick SegFormer-B3, S2",
}
FAMILY_DEFAULTS = {"emc": "emc-hrnet18s", "ritm": "ritm-hrnet18s", "focalclick": "focalclick-hrnet18s-s2"}
for _name, _summary in DEEP_VARIANTS.items():
    _family = _name.split("-")[0]
    _aliases = [f for f, default in FAMILY_DEFAULTS.items() if default == _name]
    METHODS.register(_name, PREDICTORS[_family], _summary, aliases=_aliases, options={"variant": _name})


def load_predictor(name: str, weights: str | Path | None = None, implementation: str | None = None) -> Predictor:
    """Instantiate the method registered under ``name`` (UnknownNameError with suggestions).

    ``weights`` (a checkpoint file or a folder of them) is passed to methods that use weights,
    ``implementation`` (``engineered`` or ``official``) to methods that offer several; a method with
    one implementation (the weight-free ones) ignores it.
    """
    cls = METHODS.get(name)
    kwargs = dict(METHODS.entry(name).options)
    if cls.uses_weights:
        kwargs["weights"] = weights
    if implementation is not None and cls.implementations:
        if implementation not in cls.implementations:
            raise ValueError(f"{name} offers the implementations {', '.join(cls.implementations)}, not {implementation!r}")
        kwargs["implementation"] = implementation
    return cls(**kwargs)


def weight_users(names) -> list[str]:
    """The canonical names among ``names`` whose methods load checkpoints."""
    canonical = list(dict.fromkeys(METHODS.canonical(n) for n in names))
    return [n for n in canonical if METHODS.get(n).uses_weights]
