"""Deliberate break: RITM makes its click points without naming the device (they land on the default device).

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; it patches at import, no file changes."""

import iseg_bench.adapters.ritm.predictor as m

_orig = m.batch_points
m.batch_points = lambda rows, width, flip, device: _orig(rows, width, flip, None)
