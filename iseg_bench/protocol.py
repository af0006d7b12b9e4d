"""The evaluation protocol: every knob that changes a number, in one frozen, hashable object.

A result is only meaningful together with the protocol that produced it, so the protocol is stored
with every record (by its hash) and printed beside every table. Presets reproduce the settings each
paper's evaluation script ships with (the defaults of the official evaluation scripts: RITM's
scripts/evaluate_model.py, ClickSEG's and EMC-Click's evaluation scripts); ``neutral`` applies one
setting to every method.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .click_strategies import CLICKERS, STRATEGY_PARAMETERS, is_seeded
from .clicker import CLICK_DEFAULTS

EarlyStop = Literal["highest-threshold", "never"]
EARLY_STOP_POLICIES: tuple[str, ...] = ("highest-threshold", "never")
UNTRAINED_CONTROLS: tuple[str, ...] = ("own", "gt-degraded")

# Fields added after the first release enter the hash only when they differ from these defaults,
# so every result stored before they existed keeps its key.
_HASHED_WHEN_SET = {"untrained_control": "own", **CLICK_DEFAULTS}


class ProtocolError(ValueError):
    """A protocol that cannot be evaluated (bad value, unknown preset, unreadable file)."""


@dataclass(frozen=True)
class Protocol:
    """All settings of one evaluation.

    Attributes:
        name: label printed in reports; not part of the hash.
        clicker: name of the simulated-user strategy (``robot``, the reference robot, or a seeded
            one of ``click_strategies``: ``jitter``, ``uniform``, ``distance``, ``boundary``).
        click_spread: ``jitter``'s noise and ``boundary``'s band, as a fraction of the error
            region's radius (other strategies must leave it at its default).
        click_exponent: ``distance``'s exponent on the distance to the region's boundary.
        max_clicks: clicks per sample; a sample that never reaches a threshold counts this many.
        min_clicks: the loop never stops before this many clicks.
        iou_thresholds: the IoU levels NoC/NoF/Time@IoU are reported at, ascending.
        prob_threshold: a pixel is foreground iff its probability is strictly greater.
        early_stop: ``highest-threshold`` stops a sample once its IoU reaches the highest
            requested threshold (never the lowest: NoC at every threshold stays exact);
            ``never`` runs all ``max_clicks`` clicks (full mIoU curves, as ``--iou-analysis``).
        flip_tta: horizontal-flip test-time augmentation for methods that support it;
            ``None`` lets every method use its own published default.
        input_size: ``None`` lets every method resize as its paper does (e.g. EMC-Click's short
            side 384, 576 on DAVIS); an int sets the method's main input size on every dataset.
        untrained_control: what steers a network with random weights from click to click: ``own``
            (its own predictions, as for every other method) or ``gt-degraded`` (the ground truth
            degraded to a realistic IoU per click, ``steering.py``), so timing runs take the zoom-ins
            and crops a trained model would cause. Methods with weights, trained or weight-free,
            always follow their own predictions.
        description: free text for reports; not part of the hash.
    """

    name: str = "neutral"
    clicker: str = "robot"
    max_clicks: int = 20
    min_clicks: int = 1
    iou_thresholds: tuple[float, ...] = (0.85, 0.90, 0.95)
    prob_threshold: float = 0.5
    early_stop: EarlyStop = "highest-threshold"
    flip_tta: bool | None = False
    input_size: int | None = None
    untrained_control: str = "own"
    click_spread: float = CLICK_DEFAULTS["click_spread"]
    click_exponent: float = CLICK_DEFAULTS["click_exponent"]
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "iou_thresholds", tuple(float(t) for t in self.iou_thresholds))
        _check(isinstance(self.max_clicks, int) and self.max_clicks >= 1,
               f"max_clicks must be a positive integer, got {self.max_clicks!r}")
        _check(isinstance(self.min_clicks, int) and 1 <= self.min_clicks <= self.max_clicks,
               f"min_clicks must be in [1, max_clicks={self.max_clicks}], got {self.min_clicks!r}")
        thr = self.iou_thresholds
        _check(len(thr) >= 1, "iou_thresholds must name at least one threshold")
        _check(all(0.0 < t <= 1.0 for t in thr), f"iou_thresholds must lie in (0, 1], got {thr}")
        _check(list(thr) == sorted(set(thr)), f"iou_thresholds must be ascending and distinct, got {thr}")
        _check(0.0 <= self.prob_threshold < 1.0,
               f"prob_threshold must lie in [0, 1), got {self.prob_threshold!r}")
        _check(self.early_stop in EARLY_STOP_POLICIES,
               f"early_stop must be one of {EARLY_STOP_POLICIES}, got {self.early_stop!r}")
        _check(self.flip_tta in (None, True, False), f"flip_tta must be true, false or null, got {self.flip_tta!r}")
        _check(self.input_size is None or (isinstance(self.input_size, int) and self.input_size >= 16),
               f"input_size must be null or an integer >= 16, got {self.input_size!r}")
        _check(bool(self.name) and isinstance(self.clicker, str), "name and clicker must be non-empty strings")
        _check(self.untrained_control in UNTRAINED_CONTROLS,
               f"untrained_control must be one of {UNTRAINED_CONTROLS}, got {self.untrained_control!r}")
        self._check_clicker()

    def _check_clicker(self) -> None:
        _check(self.clicker in CLICKERS, f"unknown clicker {self.clicker!r}; known: {', '.join(CLICKERS.names())}")
        _check(self.click_spread > 0, f"click_spread must be positive, got {self.click_spread!r}")
        _check(self.click_exponent >= 0, f"click_exponent must be >= 0, got {self.click_exponent!r}")
        reads = STRATEGY_PARAMETERS.get(CLICKERS.canonical(self.clicker), ())
        unused = [k for k, default in CLICK_DEFAULTS.items() if k not in reads and getattr(self, k) != default]
        _check(not unused, f"clicker {self.clicker!r} does not use {', '.join(unused)}: leave "
                           f"{'it' if len(unused) == 1 else 'them'} at the default")

    @property
    def seeded(self) -> bool:
        """Whether the clicker draws its clicks (then every sample may run under several seeds)."""
        return is_seeded(self.clicker)

    def with_clicker(self, clicker: str | None = None, spread: float | None = None,
                     exponent: float | None = None) -> Protocol:
        """This protocol under another click strategy or parameters. A new strategy starts from the
        default parameters and names the protocol after it (``neutral-uniform``); ProtocolError when
        the strategy does not read a parameter given."""
        changes: dict[str, Any] = {}
        if clicker is not None and clicker != self.clicker:
            changes = {**CLICK_DEFAULTS, "clicker": clicker, "name": f"{self.name}-{clicker}"}
        changes.update({k: v for k, v in (("click_spread", spread), ("click_exponent", exponent)) if v is not None})
        return self.replace(**changes) if changes else self

    def clicker_summary(self) -> str:
        """The strategy and the parameters it reads, e.g. ``distance (exponent 2)``."""
        reads = STRATEGY_PARAMETERS.get(CLICKERS.canonical(self.clicker), ())
        params = [f"{k.removeprefix('click_')} {getattr(self, k):g}" for k in reads]
        return self.clicker + (f" ({', '.join(params)})" if params else "")

    @property
    def stop_threshold(self) -> float | None:
        """IoU at which a sample stops early, or None when every sample runs all clicks."""
        return self.iou_thresholds[-1] if self.early_stop == "highest-threshold" else None

    def settings(self) -> dict[str, Any]:
        """The knobs that change results (everything but name and description)."""
        d = self.to_dict()
        d.pop("name")
        d.pop("description")
        for key, default in _HASHED_WHEN_SET.items():
            if d[key] == default:
                d.pop(key)
        return d

    @property
    def hash(self) -> str:
        """Short content hash of the settings; part of every result key."""
        blob = json.dumps(self.settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["iou_thresholds"] = list(self.iou_thresholds)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Protocol:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProtocolError(f"unknown protocol field(s) {unknown}; known fields: {sorted(known)}")
        data = dict(data)
        if "iou_thresholds" in data:
            data["iou_thresholds"] = tuple(data["iou_thresholds"])
        return cls(**data)

    def replace(self, **changes: Any) -> Protocol:
        return dataclasses.replace(self, **changes)

    def summary(self) -> str:
        """One line naming every setting, printed under every table."""
        thr = "/".join(f"{t:g}" for t in self.iou_thresholds)
        stop = (f"stop at IoU>={self.iou_thresholds[-1]:g}" if self.early_stop == "highest-threshold"
                else "no early stop")
        flip = {None: "flip: method default", True: "flip TTA on", False: "flip TTA off"}[self.flip_tta]
        size = "input size: method default" if self.input_size is None else f"input size {self.input_size}px"
        steer = ("" if self.untrained_control == "own" else
                 f", untrained networks steered by {self.untrained_control} masks")
        return (f"protocol '{self.name}' [{self.hash}]: clicker {self.clicker_summary()}, "
                f"{self.max_clicks} clicks max, "
                f"IoU thresholds {thr}, {stop}, foreground = prob > {self.prob_threshold:g}, {flip}, {size}{steer}")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ProtocolError(message)


PUBLISHED_THRESHOLDS = (0.80, 0.85, 0.90)  # the thresholds the official evaluation scripts report

# The presets every method shares; each method family registers its own published settings as the
# preset named after it (declared in ``adapters/<family>/__init__.py``).
PRESETS: dict[str, Protocol] = {
    "neutral": Protocol(
        name="neutral",
        description="One setting for every method: threshold 0.5, no flip TTA, each method's own "
                    "input size, stop at the highest of 0.85/0.90/0.95.",
    ),
    "neutral-curves": Protocol(
        name="neutral-curves", early_stop="never",
        description="As neutral, but every sample runs all 20 clicks (exact mIoU@k curves).",
    ),
}
SHARED_PRESETS = tuple(PRESETS)


def register_preset(protocol: Protocol) -> None:
    """Add a named preset (a method family's published settings)."""
    if protocol.name in PRESETS:
        raise ValueError(f"protocol preset {protocol.name!r} is registered twice")
    PRESETS[protocol.name] = protocol


def unregister_preset(name: str) -> None:
    if name in SHARED_PRESETS:
        raise ValueError(f"{name!r} is a shared preset")
    del PRESETS[name]


def presets() -> dict[str, Protocol]:
    """Every preset registered so far: the shared ones and those of the method families imported
    (``iseg_bench.presets()`` imports the adapters first, so it holds every family's)."""
    return PRESETS


PUBLISHED = "published"


def published_protocol(family: str) -> Protocol:
    """A method family's published evaluation settings (the preset named after it), else ``neutral``."""
    return presets().get(family, PRESETS["neutral"])


def resolve_protocol(spec: str | Path | Protocol | None) -> Protocol:
    """A preset name, a JSON file path, or a Protocol (None gives ``neutral``)."""
    if spec is None:
        return PRESETS["neutral"]
    if isinstance(spec, Protocol):
        return spec
    text = str(spec)
    if text in presets():
        return PRESETS[text]
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ProtocolError(f"protocol file {path} does not exist") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise ProtocolError(f"cannot read protocol file {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ProtocolError(f"protocol file {path} must hold a JSON object")
        data.setdefault("name", path.stem)
        return Protocol.from_dict(data)
    from .registry import suggest

    raise ProtocolError(f"unknown protocol {text!r}{suggest(text, PRESETS)}; "
                        f"presets: {', '.join(PRESETS)}, or a path to a .json file (a method family's preset "
                        f"exists once its family is registered: import iseg_bench.adapters)")
