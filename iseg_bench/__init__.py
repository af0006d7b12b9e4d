"""iseg-bench: a neutral benchmark harness for click-based interactive image segmentation.

The pieces, each in its own module: ``protocol`` (every knob), ``clicker`` (the robot user),
``metrics`` (pure functions of IoU traces), ``predictor`` (the adapter contract), ``evaluation``
(the per-sample loop), ``store`` and ``records`` (resumable results), ``summary``, ``tables``,
``plots`` and ``report`` (rendering), ``runner`` and ``cli``. Methods live in
``iseg_bench.adapters``, datasets in ``iseg_bench.datasets``.
"""

from .clicker import Click, RobotClicker
from .predictor import Capabilities, MethodInfo, Predictor
from .protocol import Protocol, presets

__version__ = "0.1.0"
__all__ = ["Capabilities", "Click", "MethodInfo", "Predictor", "Protocol", "RobotClicker", "presets"]
