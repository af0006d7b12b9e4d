"""Methods, method families and datasets from other installed packages, found through entry points.

A package declares them in its ``pyproject.toml``::

    [project.entry-points."iseg_bench.methods"]
    my-method = "my_pkg.predictor:MyPredictor"      # a Predictor subclass (imported when used)
    [project.entry-points."iseg_bench.families"]
    my-family = "my_pkg:FAMILY"                    # a Family declaration (read at start-up)
    [project.entry-points."iseg_bench.datasets"]
    MyData = "my_pkg.data:MyDataset"               # a Dataset subclass (imported when used)

A plugin that cannot be read is reported on stderr, naming its package, and left out: it never
stops iseg-bench or the other plugins.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

METHODS_GROUP = "iseg_bench.methods"
FAMILIES_GROUP = "iseg_bench.families"
DATASETS_GROUP = "iseg_bench.datasets"


def origin(ep: EntryPoint) -> str:
    """The package an entry point comes from, as ``name version``."""
    dist = ep.dist
    return f"plugin {dist.name} {dist.version}" if dist is not None else "plugin"


def load_group(group: str, register: Callable[[EntryPoint], None]) -> list[str]:
    """Call ``register`` for every entry point of ``group``; the problems, one line per plugin."""
    problems = []
    for ep in entry_points(group=group):
        try:
            register(ep)
        except Exception as exc:  # a broken plugin must not break the tool
            problems.append(f"iseg-bench: plugin {ep.name!r} ({origin(ep)}, group {group}) ignored: "
                            f"{type(exc).__name__}: {exc}")
    for line in problems:
        print(line, file=sys.stderr)
    return problems
