"""Segment Anything's predictor as the official ``SamPredictor`` runs it, driven by the robot user as
SegNext's ``eval_sam`` does: every click is a point prompt (all clicks so far, (x, y) pixels, label 1
or 0), multimask output on every click, the mask with the highest predicted IoU is chosen and its
256 x 256 logits are fed back as the mask prompt from click 2 on; foreground is logit > 0.

Per image (the first phase): the uint8 RGB image resized with its longest side to 1024 by PIL's
bilinear filter (the official ``ResizeLongestSide.apply_image``; OpenCV differs by a grey level),
normalised (subtract the pixel mean, divide by the std), zero-padded to 1024 x 1024 and encoded by
the ViT once. Per click (the later phase): prompt encoder and mask decoder only, then the chosen
logits upsampled to 1024, cropped and resized to the image (bilinear, no antialias).

Engineered: fused attention (``scaled_dot_product_attention``), the dense positional encoding
computed once per image, only the chosen mask upsampled. Official arithmetic: explicit attention,
the positional encoding recomputed at every click and all three masks upsampled and thresholded,
as ``SamPredictor.predict`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from iseg_bench.clicker import Click
from iseg_bench.predictor import Capabilities

from ..deep import DeepPredictor, logit
from .network import PIXEL_MEAN, PIXEL_STD

LONGEST_SIDE = 1024


def preprocess_shape(h: int, w: int, longest: int = LONGEST_SIDE) -> tuple[int, int]:
    """The resized (h, w): longest side ``longest``, each side rounded half up (float64)."""
    scale = longest * 1.0 / max(h, w)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def resize_image(image: np.ndarray) -> np.ndarray:
    """The uint8 RGB image resized as the official predictor does it (PIL bilinear; no-op at size)."""
    nh, nw = preprocess_shape(*image.shape[:2])
    if (nh, nw) == image.shape[:2]:
        return image
    return np.array(Image.fromarray(image).resize((nw, nh), Image.Resampling.BILINEAR))


def point_coords(clicks: Sequence[Click], size: tuple[int, int], resized: tuple[int, int]) -> np.ndarray:
    """Clicks as (x, y) in the resized image's pixels: each axis scaled by its own factor (float64)."""
    (h, w), (nh, nw) = size, resized
    xy = np.array([[c.x, c.y] for c in clicks], dtype=np.float64)
    return xy * np.array([nw / w, nh / h])


class SAMPredictor(DeepPredictor):
    family = "sam"
    capabilities = Capabilities(caches_image_work=True, later_clicks_differ=True, uses_prev_mask=True)
    phase_parts = {"first": "image encoder + prompt encoder + mask decoder", "later": "prompt encoder + mask decoder"}

    def input_size(self) -> str:
        return f"longest side {LONGEST_SIDE} (PIL bilinear), padded to {LONGEST_SIDE}x{LONGEST_SIDE}"

    def phase_modules(self, phase: str):
        return [self.net] if phase == "first" else [self.net.prompt_encoder, self.net.mask_decoder]

    def set_image(self, image: np.ndarray) -> None:
        self.pixels = image  # the uint8 image: SAM resizes it before any float conversion
        super().set_image(image)

    def on_image(self) -> None:
        h, w = self.pixels.shape[:2]
        self.size, self.resized = (h, w), preprocess_shape(h, w)
        self.features: torch.Tensor | None = None  # the image embedding, computed at the first click
        self.low_res: torch.Tensor | None = None  # the chosen mask's 256 x 256 logits, fed back
        self.dense_pe = None if self.official else self.net.prompt_encoder.dense_pe()

    def carried_state(self) -> dict[str, object]:
        return {"image embedding": self.features, "fed-back logits": self.low_res}

    def model_input(self) -> torch.Tensor:
        """1 x 3 x 1024 x 1024: the resized image, (x - mean) / std in float32, zero-padded right and bottom."""
        resized = torch.from_numpy(np.ascontiguousarray(resize_image(self.pixels))).to(self.device)
        mean = torch.tensor(PIXEL_MEAN, device=self.device).view(-1, 1, 1)
        std = torch.tensor(PIXEL_STD, device=self.device).view(-1, 1, 1)
        x = (resized.permute(2, 0, 1)[None].float() - mean) / std
        nh, nw = self.resized
        return self.layout(F.pad(x, (0, LONGEST_SIDE - nw, 0, LONGEST_SIDE - nh)))

    def steer(self, mask: np.ndarray) -> None:
        """The surrogate mask also replaces the fed-back logits: resized into the padded frame and
        area-averaged to 256 x 256, as logits of probabilities clamped to [0.01, 0.99]."""
        super().steer(mask)
        assert self.steering is not None  # DeepPredictor.steer has just set it
        nh, nw = self.resized
        frame = F.pad(F.interpolate(self.steering, (nh, nw), mode="bilinear", align_corners=False),
                      (0, LONGEST_SIDE - nw, 0, LONGEST_SIDE - nh))
        self.steering_low_res = logit(F.interpolate(frame, (256, 256), mode="area").clamp(0.01, 0.99))

    def _prompts(self, clicks: Sequence[Click]) -> tuple[torch.Tensor, torch.Tensor]:
        coords = point_coords(clicks, self.size, self.resized)
        labels = [int(c.is_positive) for c in clicks]
        return (torch.as_tensor(coords, dtype=torch.float32, device=self.device)[None],
                torch.tensor([labels], dtype=torch.int64, device=self.device))

    def _upsample(self, low_res: torch.Tensor) -> torch.Tensor:
        """Low-resolution logits (B, k, 256, 256) -> logits at the image size (bilinear, no antialias)."""
        nh, nw = self.resized
        x = F.interpolate(low_res, (LONGEST_SIDE, LONGEST_SIDE), mode="bilinear", align_corners=False)
        return F.interpolate(x[..., :nh, :nw], self.size, mode="bilinear", align_corners=False)

    def infer(self, clicks: Sequence[Click]) -> torch.Tensor:
        if self.features is None:
            self.features = self.network(self.net.image_encoder, self.model_input())
        coords, labels = self._prompts(clicks)
        masks, iou = self.network(self.net.decode, self.features, self.dense_pe, coords, labels, self.low_res)
        best = 1 + int(torch.argmax(iou[0, 1:]))  # multimask: tokens 1..3, the highest predicted IoU
        chosen = masks[:, best:best + 1]
        self.low_res = chosen if self.steering is None else self.steering_low_res
        return torch.sigmoid(self._upsample(chosen)[0, 0].double())

    def infer_official(self, clicks: Sequence[Click]) -> torch.Tensor:
        if self.features is None:
            self.features = self.network(self.net.image_encoder, self.model_input())
        coords, labels = self._prompts(clicks)
        masks, iou = self.network(self.net.decode_recomputing_pe, self.features, coords, labels, self.low_res)
        masks, iou = masks[:, 1:], iou[:, 1:]  # multimask output
        logits = self._upsample(masks)
        _ = (logits > 0.0).cpu().numpy(), iou.cpu().numpy(), masks.cpu().numpy()  # what predict() returns
        best = int(np.argmax(iou[0].cpu().numpy()))
        self.low_res = masks[:, best:best + 1] if self.steering is None else self.steering_low_res
        return torch.sigmoid(logits[0, best].double())
