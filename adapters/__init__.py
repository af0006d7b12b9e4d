"""Method adapters behind the Predictor interface, registered by kebab-case name.

Entries are import strings, so ``iseg-bench methods`` or a run of one method never imports
another method's dependencies (the deep methods need torch; the classical ones do not). A deep
family is one folder whose ``__init__.py`` declares it (``family.Family``) and one
``register_family`` line here; a family's name resolves to its default variant (``emc`` is
``emc-hrnet18s``, ``ritm`` is ``ritm-hrnet18s``, ``focalclick`` is ``focalclick-hrnet18s-s2``).
"""

from __future__ import annotations

from pathlib import Path

from iseg_bench.predictor import Predictor
from iseg_bench.registry import Registry

from . import emc, focalclick, ritm
from .family import Family, Variant

METHODS: Registry[type[Predictor]] = Registry("method")
METHODS.register("disk", "iseg_bench.adapters.classical.disk:DiskPredictor",
                 "floor baseline: union of positive-click disks minus negative ones")
METHODS.register("grabcut", "iseg_bench.adapters.classical.grabcut:GrabCutPredictor",
                 "OpenCV GrabCut seeded from the clicks (weight-free)")
METHODS.register("watershed", "iseg_bench.adapters.classical.watershed:WatershedPredictor",
                 "marker-controlled watershed from the clicks (weight-free)")

FAMILIES: dict[str, Family] = {}  # every registered deep family, by name
VARIANTS: dict[str, Variant] = {}  # every variant of those families, by name


def register_family(family: Family) -> None:
    """Register every variant of ``family`` as a method (its default also under the family's name)."""
    if family.name in FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    for variant in family.variants:
        METHODS.register(variant.name, family.predictor, variant.summary,
                         aliases=[family.name] if variant.name == family.default else [],
                         options={"variant": variant.name})
    FAMILIES[family.name] = family
    VARIANTS.update((v.name, v) for v in family.variants)


def unregister_family(name: str) -> None:
    """Remove a family and its methods (tests register temporary ones)."""
    family = FAMILIES.pop(name)
    for variant in family.variants:
        METHODS.unregister(variant.name)
        del VARIANTS[variant.name]


register_family(emc.FAMILY)
register_family(ritm.FAMILY)
register_family(focalclick.FAMILY)


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
