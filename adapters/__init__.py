"""Method adapters behind the Predictor interface, registered by kebab-case name.

Entries are import strings, so ``iseg-bench methods`` or a run of one method never imports
another method's dependencies.
"""

from __future__ import annotations

from iseg_bench.predictor import Predictor
from iseg_bench.registry import Registry

METHODS: Registry[type[Predictor]] = Registry("method")
METHODS.register("disk", "iseg_bench.adapters.classical.disk:DiskPredictor",
                 "floor baseline: union of positive-click disks minus negative ones")
METHODS.register("grabcut", "iseg_bench.adapters.classical.grabcut:GrabCutPredictor",
                 "OpenCV GrabCut seeded from the clicks (weight-free)")
METHODS.register("watershed", "iseg_bench.adapters.classical.watershed:WatershedPredictor",
                 "marker-controlled watershed from the clicks (weight-free)")


def load_predictor(name: str) -> Predictor:
    """Instantiate the method registered under ``name`` (UnknownNameError with suggestions)."""
    return METHODS.get(name)()
