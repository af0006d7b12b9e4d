"""Method adapters behind the Predictor interface, registered by kebab-case name.

Entries are import strings, so ``iseg-bench methods`` or a run of one method never imports
another method's dependencies (the deep methods need torch; the classical ones do not). A deep
family is one folder whose ``__init__.py`` declares it (``family.Family``) and one
``register_family`` line here; a family's name resolves to its default variant (``emc`` is
``emc-hrnet18s``, ``ritm`` is ``ritm-hrnet18s``, ``focalclick`` is ``focalclick-hrnet18s-s2``,
``sam`` is ``sam-vit-b``).
Installed packages add methods and families through entry points (``iseg_bench.plugins``), and
``package.module:Class`` names a Predictor that is registered nowhere.
"""

from __future__ import annotations

from pathlib import Path

from iseg_bench import plugins
from iseg_bench.predictor import Predictor
from iseg_bench.protocol import register_preset, unregister_preset
from iseg_bench.registry import Registry

from . import emc, focalclick, ritm, sam
from .family import FAMILIES, VARIANTS, Family

METHODS: Registry[type[Predictor]] = Registry("method", import_paths=True)
METHODS.register("disk", "iseg_bench.adapters.classical.disk:DiskPredictor",
                 "floor baseline: union of positive-click disks minus negative ones")
METHODS.register("grabcut", "iseg_bench.adapters.classical.grabcut:GrabCutPredictor",
                 "OpenCV GrabCut seeded from the clicks (weight-free)")
METHODS.register("watershed", "iseg_bench.adapters.classical.watershed:WatershedPredictor",
                 "marker-controlled watershed from the clicks (weight-free)")

def register_family(family: Family, origin: str = "iseg-bench") -> None:
    """Register every variant of ``family`` as a method (its default also under the family's name) and
    its published settings as the protocol preset named after it."""
    if family.name in FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    if family.protocol is not None:
        register_preset(family.protocol)
    for variant in family.variants:
        METHODS.register(variant.name, family.predictor, variant.summary,
                         aliases=[family.name] if variant.name == family.default else [],
                         options={"variant": variant.name}, origin=origin)
    FAMILIES[family.name] = family
    VARIANTS.update((v.name, v) for v in family.variants)


def unregister_family(name: str) -> None:
    """Remove a family and its methods (tests register temporary ones)."""
    family = FAMILIES.pop(name)
    if family.protocol is not None:
        unregister_preset(family.name)
    for variant in family.variants:
        METHODS.unregister(variant.name)
        del VARIANTS[variant.name]


register_family(emc.FAMILY)
register_family(ritm.FAMILY)
register_family(focalclick.FAMILY)
register_family(sam.FAMILY)


def _plugin_family(ep) -> None:
    family = ep.load()
    if not isinstance(family, Family):
        raise TypeError(f"{ep.value} is a {type(family).__name__}, not an iseg_bench.adapters.family.Family")
    register_family(family, plugins.origin(ep))


plugins.load_group(plugins.METHODS_GROUP, lambda ep: METHODS.register(ep.name, ep.value, "", origin=plugins.origin(ep)))
plugins.load_group(plugins.FAMILIES_GROUP, _plugin_family)


def load_predictor(name: str, weights: str | Path | None = None, implementation: str | None = None,
                   device: str = "cpu") -> Predictor:
    """Instantiate the method registered under ``name`` (or named by ``package.module:Class``).

    What the method declares decides what it is given: ``weights`` (a checkpoint file or folder) if
    it uses weights, ``implementation`` (``engineered`` or ``official``) if it offers several, and
    ``device`` if it can compute there (a method that cannot, e.g. a weight-free one on ``cuda``,
    computes on the CPU and says so in its description). UnknownNameError with suggestions.
    """
    cls = METHODS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise TypeError(f"method {name!r} ({METHODS.entry(name).target}) is not a subclass of iseg_bench.Predictor")
    kwargs = dict(METHODS.entry(name).options)
    if cls.uses_weights:
        kwargs["weights"] = weights
    if implementation is not None and cls.implementations:
        if implementation not in cls.implementations:
            raise ValueError(f"{name} offers the implementations {', '.join(cls.implementations)}, "
                             f"not {implementation!r}")
        kwargs["implementation"] = implementation
    if device.split(":", 1)[0] in cls.devices and cls.devices != ("cpu",):
        kwargs["device"] = device
    return cls(**kwargs)


def weight_users(names) -> list[str]:
    """The canonical names among ``names`` whose methods load checkpoints."""
    canonical = list(dict.fromkeys(METHODS.canonical(n) for n in names))
    return [n for n in canonical if METHODS.get(n).uses_weights]
