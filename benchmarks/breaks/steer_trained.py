"""Deliberate break: every method that declares anything about its training is steered, checkpoint-loaded ones too.

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; it patches at import, no file changes."""

import iseg_bench.evaluation as e
from iseg_bench.steering import GT_DEGRADED

e.is_steered = lambda control, predictor: control == GT_DEGRADED and predictor.describe().trained is not None
