"""iseg-bench: a neutral benchmark harness for click-based interactive image segmentation.

The pieces, each in its own module: ``protocol`` (every knob), ``clicker`` (the robot user) and
``click_strategies`` (every user by name), ``metrics`` (pure functions of masks and IoU traces) and
``metric_catalog`` (every reported metric declared once), ``predictor`` (the adapter contract),
``evaluation`` (the per-sample loop), ``store`` and ``records`` (resumable results), ``summary`` and
``folder_summary``, ``execution`` (where samples run), ``reporting`` (tables, plots, the report, the
browsable HTML report, the EMC-Click paper's tables), ``runner`` and ``cli``; ``load_results`` reads a
results folder into a pandas DataFrame. Methods live in ``iseg_bench.adapters``, datasets in
``iseg_bench.datasets``.
"""

from .clicker import Click, RobotClicker
from .predictor import Capabilities, MethodInfo, Predictor
from .protocol import Protocol

__version__ = "0.1.0"
__all__ = ["Capabilities", "Click", "MethodInfo", "Predictor", "Protocol", "RobotClicker", "load_results", "presets"]


def presets() -> dict[str, Protocol]:
    """Every protocol preset: the shared ones and each method family's published settings (importing
    the adapters registers the families and their presets)."""
    from . import adapters, protocol  # noqa: F401

    return protocol.presets()


def __getattr__(name: str):
    if name == "load_results":  # imported on first use: it brings pandas
        from .results_frame import load_results

        return load_results
    raise AttributeError(f"module 'iseg_bench' has no attribute {name!r}")
