"""Deliberate break: RITM keeps the previous image's probabilities (its mask feedback) when a new image starts.

A pytest plugin (``-p``) for benchmarks/deliberate_breaks.py; it patches at import, no file changes."""

import iseg_bench.adapters.ritm.predictor as m

_on_image = m.RITMPredictor.on_image


def on_image(self):
    kept = getattr(self, "prev_probs", None)
    _on_image(self)
    if kept is not None and kept.shape == self.prev_probs.shape:
        self.prev_probs = kept


m.RITMPredictor.on_image = on_image
