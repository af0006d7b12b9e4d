"""FocalClick's predictor as ClickSEG ships it (isegm/inference/predictors/focalclick.py): target
crop 1.4 without resizing inside the zoom-in, a 256x256 square segmentor input, the focus crop 1.4
around the last click refined at 256, and from the 11th click on only the focus crop changes.

Engineered: the image is normalised once per image; the target crop's image channels (resized,
mirrored) and the segmentor's image-only first stage are kept while the target box stays the same;
the auxiliary output is not upsampled. Official arithmetic: the 4-channel crop is resized and
normalised inside the network at every click, both outputs are upsampled, the coarse map is
resized back twice and the official code's visualisation maps of the refiner are computed, as
ClickSEG's ``FocalPredictor`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from ..deep import CropCache, DeepPredictor, batch_points, click_rows, flip_average, logit, with_flip
from ..geometry import Box, box_in_crop, focus_crop, object_roi, point_in_box, to_roi
from ..nets.clicks import points_tensor
from ..nets.layers import normalize_image, resize


class FocalClickPredictor(DeepPredictor):
    family = "focalclick"
    capabilities = Capabilities(uses_prev_mask=True)
    default_flip = False
    size = 256
    target_ratio = 1.4
    focus_ratio = 1.4
    min_crop = 10
    zoom_threshold = 0.49
    coarse_until = 10  # after this many clicks the coarse map is kept and only the focus crop changes
    phase_parts = {"first": "segmentor + refiner", "later": "segmentor + refiner"}

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.size = input_size or 256

    def input_size(self) -> str:
        return f"target crop resized to {self.size}x{self.size}; focus crop refined at {self.size}x{self.size}"

    def on_image(self) -> None:
        image = self.image_tensor()
        self.prev_probs = torch.zeros_like(image[:, :1])
        self.roi: Box | None = None
        self.zoom_probs: torch.Tensor | None = None
        self.focus_box: Box | None = None  # the last click's focus crop
        if not self.official:  # per-image work, done once
            self.image_n = normalize_image(image)
            self.crop_cache = CropCache()

    def carried_state(self) -> dict[str, object]:
        return {"previous probabilities": self.prev_probs, "target box": self.roi, "focus box": self.focus_box}

    def _target_box(self, clicks: Sequence[Click]):
        """ClickSEG's zoom-in: from click 2 on, the box of the last mask (plus positive clicks) x1.4,
        recomputed at every click and cropped without resizing. An empty mask keeps the old box
        for the paste-back but crops nothing this time (as the official transform does)."""
        if len(clicks) <= 1 or self.zoom_probs is None:
            return None
        mask = (self.zoom_probs > self.zoom_threshold)[0, 0].cpu().numpy()
        if not mask.any():
            return None
        self.roi = object_roi(mask, [(c.y, c.x) for c in clicks if c.is_positive], self.target_ratio, self.min_crop)
        return self.roi

    def _square(self, x: torch.Tensor, box) -> torch.Tensor:
        """The target crop (or the whole image) resized to the segmentor's square input."""
        if box is not None:
            r0, r1, c0, c1 = box
            x = x[:, :, r0:r1 + 1, c0:c1 + 1]
        return resize(x, (self.size, self.size))

    def _points(self, clicks: Sequence[Click], box) -> torch.Tensor:
        h, w = self.image_tensor().shape[-2:] if box is None else (box[1] - box[0] + 1, box[3] - box[2] + 1)
        rows = click_rows(clicks)
        if box is not None:
            rows = [(*to_roi(y, x, box, h, w), p, i) for y, x, p, i in rows]
        s = self.size
        return batch_points([(y * s / h, x * s / w, p, i) for y, x, p, i in rows], s, self.flip, self.device)

    def _global_roi(self):
        """The target box with exclusive upper bounds, or the whole image."""
        if self.roi is None:
            h, w = self.image_tensor().shape[-2:]
            return 0, h, 0, w
        r0, r1, c0, c1 = self.roi
        return r0, r1 + 1, c0, c1 + 1

    def _coarse(self, probs: torch.Tensor, box) -> torch.Tensor:
        """The segmentor's probabilities back on the full image: resized to the crop, then pasted into
        zeros inside the target box (resized to it when the crop was not the box: an empty mask kept
        the old box). The official inverse resizes to the box even when the sizes already agree."""
        crop = self.image_tensor().shape[-2:] if box is None else (box[1] - box[0] + 1, box[3] - box[2] + 1)
        probs = resize(probs, crop)
        if self.roi is None:
            return probs
        r0, r1, c0, c1 = self.roi
        size = (r1 - r0 + 1, c1 - c0 + 1)
        full = torch.zeros_like(self.prev_probs)
        full[:, :, r0:r1 + 1, c0:c1 + 1] = resize(probs, size) if self.official or crop != size else probs
        return full

    def _focus(self, clicks: Sequence[Click], coarse_logits: torch.Tensor):
        """The focus box ``(y1, y2, x1, x2)``, its refiner inputs (image crop, points, RoI), or None
        when the box is empty (ClickSEG would crash; EMC-Click's copy skips the refiner)."""
        last = clicks[-1]
        steer = self.steering if self.steering is not None else coarse_logits
        box = focus_crop(steer[0, 0].cpu().numpy(), self.prev_probs[0, 0].cpu().numpy(), self._global_roi(),
                         last.y, last.x, self.focus_ratio)
        y1, y2, x1, x2 = box
        if not (y2 > y1 and x2 > x1):
            return box, None
        s = self.size
        fy1, fy2, fx1, fx2 = box_in_crop(box, self._global_roi(), s)
        image = resize(self.image_tensor()[:, :, y1:y2, x1:x2], (s, s))
        rows = [(*point_in_box(c.y, c.x, box, s), c.is_positive, 0) for c in clicks]
        roi = torch.tensor([[0.0, fx1, fy1, fx2, fy2]], dtype=torch.float32, device=self.device)
        return box, (self.layout(image), points_tensor([rows], device=self.device), roi)

    def _combine(self, clicks, coarse_logits: torch.Tensor, box, refined: torch.Tensor | None) -> torch.Tensor:
        """Refined logits pasted into the coarse (or, after 10 clicks, the previous) logits."""
        base = logit(self.prev_probs) if len(clicks) > self.coarse_until else coarse_logits
        self.focus_box = box
        if refined is not None:
            y1, y2, x1, x2 = box
            base[:, :, y1:y2, x1:x2] = resize(refined, (y2 - y1, x2 - x1))
        probs = torch.sigmoid(base)
        self.prev_probs = self.zoom_probs = self.carried(probs)
        return probs[0, 0]

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        box = self._target_box(clicks)

        def image_part():  # the target crop's image channels and the segmentor's first stage, kept per box
            rgb = self.layout(with_flip(self._square(self.image_n, box), self.flip))
            return rgb, self.network(self.net.image_stage, rgb)

        rgb, stage = self.crop_cache.get(box, image_part)
        prev = self.layout(with_flip(self._square(self.prev_probs, box), self.flip))
        logits, feature = self.network(self.net.coarse, rgb, prev, self._points(clicks, box), stage)
        coarse_logits = logit(self._coarse(torch.sigmoid(flip_average(logits, self.flip)), box))
        focus, refine_inputs = self._focus(clicks, coarse_logits)
        refined = None
        if refine_inputs is not None:  # the coarse pass is flip-averaged; the refiner sees the unflipped half
            image, points, roi = refine_inputs
            refined = self.network(self.net.refine, image, points, feature[:1], logits[:1], roi)["instances_refined"]
        return self._combine(clicks, coarse_logits, focus, refined)

    def infer_official(self, clicks: Sequence[Click]) -> torch.Tensor:
        box = self._target_box(clicks)
        x = with_flip(self._square(torch.cat([self.image_tensor(), self.prev_probs], 1), box), self.flip)
        out = self.network(self.net, x, self._points(clicks, box))
        logits = resize(out["instances"], x.shape[-2:])  # the official predictor resizes to the same size
        coarse_logits = logit(self._coarse(torch.sigmoid(flip_average(logits, self.flip)), box))
        focus, refine_inputs = self._focus(clicks, coarse_logits)
        refined = None
        if refine_inputs is not None:
            image, points, roi = refine_inputs
            result = self.network(self.net.refine, image, points, out["feature"][:1], logits[:1], roi)
            refined = result["instances_refined"]
            # the official predictor's visualisation maps, computed at every click
            _ = (torch.sigmoid(result["instances_coarse"]).cpu().numpy() * 255,
                 torch.sigmoid(refined).cpu().numpy() * 255)
        return self._combine(clicks, coarse_logits, focus, refined)
