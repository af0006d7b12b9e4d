"""Deliberate break: the recorder keeps the network calls' float inputs at half precision (to save memory).

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; it patches at import, no file changes."""

import torch

import iseg_bench.adapters.deep as d


def _lossy(value):
    if isinstance(value, torch.Tensor):
        return value.half().to(value.dtype) if value.is_floating_point() else value.clone()
    return value


_network = d.DeepPredictor.network


def network(self, fn, *args):
    if self.recorder is None:
        return fn(*args)
    result = _network(self, fn, *args)
    call = self.recorder[-1]
    call.args = d.tree_map(_lossy, call.args)
    return result


d.DeepPredictor.network = network
