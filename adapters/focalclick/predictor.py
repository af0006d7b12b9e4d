"""FocalClick's predictor as ClickSEG ships it (reference/protocol.md §4.3): target crop 1.4 without
resizing inside the zoom-in, a 256x256 square segmentor input, the focus crop 1.4 around the last
click refined at 256, and from the 11th click on only the focus crop changes."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities, CostPhase

from ..deep import (LATER_CLICKS, DeepPredictor, PhaseModule, batch_points, channels_last, click_rows, random_input,
                    sample_clicks)
from ..geometry import box_in_crop, focus_crop, object_roi, point_in_box, to_roi
from ..nets.clicks import points_tensor
from ..nets.layers import resize



def _logit(p: torch.Tensor) -> torch.Tensor:
    return torch.log(p / (1 - p))


class FocalClickPredictor(DeepPredictor):
    capabilities = Capabilities(uses_prev_mask=True)
    default_flip = False
    size = 256
    target_ratio = 1.4
    focus_ratio = 1.4
    min_crop = 10
    zoom_threshold = 0.49
    coarse_until = 10  # after this many clicks the coarse map is kept and only the focus crop changes

    def configure_size(self, input_size: int | None, dataset: str) -> None:
        self.size = input_size or 256

    def input_size(self) -> str:
        return f"target crop resized to {self.size}x{self.size}; focus crop refined at {self.size}x{self.size}"

    def on_image(self) -> None:
        self.prev_probs = torch.zeros_like(self.image[:, :1])
        self.roi = None
        self.zoom_probs = None

    def _target_crop(self, x: torch.Tensor, clicks: Sequence[Click]):
        """ClickSEG's zoom-in: from click 2 on, the box of the last mask (plus positive clicks) x1.4,
        recomputed at every click and cropped without resizing. An empty mask keeps the old box
        for the inverse mapping but crops nothing this time (as the official transform does)."""
        rows = click_rows(clicks)
        if len(clicks) <= 1 or self.zoom_probs is None:
            return x, rows
        mask = (self.zoom_probs > self.zoom_threshold)[0, 0].numpy()
        if not mask.any():
            return x, rows
        positives = [(c.y, c.x) for c in clicks if c.is_positive]
        self.roi = object_roi(mask, positives, self.target_ratio, self.min_crop)
        r0, r1, c0, c1 = self.roi
        crop = x[:, :, r0:r1 + 1, c0:c1 + 1]
        h, w = crop.shape[-2:]
        return crop, [(*to_roi(y, xx, self.roi, h, w), p, i) for y, xx, p, i in rows]

    def _paste(self, probs: torch.Tensor) -> torch.Tensor:
        """The coarse probabilities back on the full image: zero outside the box."""
        if self.roi is None:
            return probs
        r0, r1, c0, c1 = self.roi
        if probs.shape[-2:] != (r1 - r0 + 1, c1 - c0 + 1):
            probs = resize(probs, (r1 - r0 + 1, c1 - c0 + 1))
        full = torch.zeros_like(self.prev_probs)
        full[:, :, r0:r1 + 1, c0:c1 + 1] = probs
        return full

    def _refine_focus(self, clicks: Sequence[Click], box: tuple[int, int, int, int], global_roi, feature, logits):
        """Refined logits of the focus box ``(y1, y2, x1, x2)``, at the box's size."""
        y1, y2, x1, x2 = box
        s = self.size
        fy1, fy2, fx1, fx2 = box_in_crop(box, global_roi, s)
        focus_image = resize(self.image[:, :, y1:y2, x1:x2], (s, s))
        rows = [(*point_in_box(c.y, c.x, box, s), c.is_positive, 0) for c in clicks]
        roi = torch.tensor([[0.0, fx1, fy1, fx2, fy2]], dtype=torch.float32)
        refined = self.net.refine(channels_last(focus_image), points_tensor([rows]), feature, logits, roi)
        refined = refined["instances_refined"]
        return resize(refined, (y2 - y1, x2 - x1))

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        h_img, w_img = self.image.shape[-2:]
        crop, rows = self._target_crop(torch.cat([self.image, self.prev_probs], 1), clicks)
        crop_h, crop_w = crop.shape[-2:]
        r = self.roi
        global_roi = (r[0], r[1] + 1, r[2], r[3] + 1) if r is not None else (0, h_img, 0, w_img)
        s = self.size
        x = resize(crop, (s, s))
        lists = [[(y * (s / crop_h), xx * (s / crop_w), p, i) for y, xx, p, i in rows]]
        if self.flip:  # the coarse pass is flip-averaged; the refiner sees the unflipped half
            lists.append([(y, s - xx - 1, p, i) for y, xx, p, i in lists[0]])
            x = torch.cat([x, torch.flip(x, dims=[3])], 0)
        out = self.net(channels_last(x), points_tensor(lists))
        logits = out["instances"]
        averaged = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3])) if self.flip else logits
        coarse = self._paste(resize(torch.sigmoid(averaged), (crop_h, crop_w)))
        coarse_logits = _logit(coarse)

        last = clicks[-1]
        box = focus_crop(coarse_logits[0, 0].numpy(), self.prev_probs[0, 0].numpy(), global_roi,
                         last.y, last.x, self.focus_ratio)
        base = _logit(self.prev_probs) if len(clicks) > self.coarse_until else coarse_logits
        y1, y2, x1, x2 = box
        if y2 > y1 and x2 > x1:  # an empty focus box would crash ClickSEG; EMC-Click's copy skips it
            base[:, :, y1:y2, x1:x2] = self._refine_focus(clicks, box, global_roi, out["feature"][:1], logits[:1])
        self.prev_probs = torch.sigmoid(base)
        self.zoom_probs = self.prev_probs
        return self.prev_probs[0, 0]

    def cost_phases(self, height: int, width: int) -> list[CostPhase]:
        """Every click runs the segmentor on the target crop and the refiner on the focus crop,
        both at ``size`` x ``size`` (the focus box here: the central half of the target crop)."""
        s = self.size
        b = 2 if self.flip else 1
        net = self.net

        def click(x, pts, focus, focus_pts, box):
            out = net(x, pts)
            return net.refine(focus, focus_pts, out["feature"][:1], out["instances"][:1], box)["instances_refined"]

        module = PhaseModule(net, click)
        params = self.parameter_count()
        phases = []
        for phase, count in (("first", 1), ("later", LATER_CLICKS)):
            rows = sample_clicks(s, s, count)
            inputs = (random_input(b, 4, s, s), batch_points(rows, s, self.flip), random_input(1, 3, s, s),
                      points_tensor([[(y, x, p, 0) for y, x, p, _ in rows]]),
                      torch.tensor([[0.0, s / 4, s / 4, 3 * s / 4, 3 * s / 4]]))
            phases.append(CostPhase(phase, "segmentor + refiner", (s, s), b, params, module, inputs))
        return phases
