"""FLOPs of a method's click phases with fvcore, with the counting convention spelled out.

fvcore counts one fused multiply-add as one "flop", so its totals are multiply-accumulates: we
report GMACs and GFLOPs = 2 x GMACs, always named. Operators fvcore has no formula for are never
dropped silently: fused attention gets a handler here (it is real cost: two batched matmuls), and
every other uncounted operator is listed with its number of calls and output elements.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from math import prod

COUNTING = ("MACs counted by fvcore (one fused multiply-add = 1); GFLOPs = 2 x GMACs. Attention "
            "through aten::scaled_dot_product_attention counted as its two batched matmuls (QK^T and "
            "attention x V). Element-wise ops, softmax, normalisation statistics and data movement "
            "are not counted; they are listed as 'not counted'.")


@dataclass
class FlopCount:
    gmacs: float
    by_operator: dict[str, float]  # GMACs per counted operator
    not_counted: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> {calls, elements}

    @property
    def gflops(self) -> float:
        return 2.0 * self.gmacs

    def to_dict(self) -> dict:
        return {"gmacs": self.gmacs, "gflops": self.gflops, "by_operator_gmacs": self.by_operator,
                "not_counted": self.not_counted}


def _shape(value) -> list[int] | None:
    try:
        return value.type().sizes()
    except Exception:  # not a tensor, or no complete shape
        return None


def sdpa_macs(inputs, outputs) -> int:
    """aten::scaled_dot_product_attention: Q (..., Lq, d) K (..., Lk, d) V (..., Lk, dv)."""
    q, k, v = (_shape(x) for x in inputs[:3])
    if not (q and k and v):
        return 0
    batch = prod(q[:-2])
    return batch * q[-2] * k[-2] * q[-1] + batch * q[-2] * k[-2] * v[-1]


def count_macs(module, inputs: tuple) -> FlopCount:
    """fvcore's count for ``module(*inputs)``, plus the calls and output elements of every operator
    it did not count (a second trace, with recording handlers for those operators)."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    def analyse(handlers: dict):
        analysis = FlopCountAnalysis(module, inputs)
        analysis.set_op_handle("aten::scaled_dot_product_attention", sdpa_macs, **handlers)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        return analysis, analysis.total()

    skipped: dict[str, Counter] = {}

    def recorder(name: str):
        def handle(ins, outs):
            entry = skipped.setdefault(name, Counter())
            entry["calls"] += 1
            shape = _shape(outs[0]) if outs else None
            entry["elements"] += prod(shape) if shape else 0
            return 0
        return handle

    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis, total = analyse({})
        by_op = {op: n / 1e9 for op, n in analysis.by_operator().items() if n}
        # fvcore skips some operators silently (its ignore list) and reports the others as
        # unsupported; record both kinds
        uncounted = set(analysis.unsupported_ops()) | set(getattr(analysis, "_ignored_ops", ()))
        analyse({op: recorder(op) for op in uncounted})
    return FlopCount(total / 1e9, by_op, {op: dict(c) for op, c in sorted(skipped.items())})
