"""EMC-Click's mask correction network (Du et al., CVPR 2023, Sec. 3.2-3.4).

On every click after the first it updates the mask from the cached backbone feature, the current
low-resolution logits and all the clicks: an image branch at 1/4 resolution fused with the
feature; templates chosen by the click-guided scores of Eq. 3-4 (top-K per polarity); a
click-guided correlation of each template with the feature map (Eq. 7-9) and a multi-head
attention from every pixel to the templates (Eq. 5-6); and a small head predicting logits at 1/4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ConvNormReLU, SepConv2BNReLU, child


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, HW, C); free for a channels-last tensor."""
    b, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, h * w, c)


def _from_tokens(t: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, HW, C) -> (B, C, H, W) as a channels-last view (no copy)."""
    b, _, c = t.shape
    return t.reshape(b, h, w, c).permute(0, 3, 1, 2)


class MaskCorrection(nn.Module):
    """``mid`` channels (64 for C64, 96 for C96), ``corr`` templates per polarity, 4 attention heads.

    ``engineered``: correlation as one pixel-major matrix product and attention through
    ``scaled_dot_product_attention`` (same arithmetic, faster); off, the official formulation
    (a grouped convolution per polarity, ``nn.MultiheadAttention`` called as a module).
    """

    engineered = True

    def __init__(self, feature_dims: int, mid: int, corr: int, heads: int = 4, spatial_scale: float = 0.25) -> None:
        super().__init__()
        self.corr = corr
        self.spatial_scale = spatial_scale
        self.feature_convq = nn.Conv2d(mid, mid, 1)
        self.feature_convk = nn.Conv2d(mid, mid, 1)
        self.corr_conv = SepConv2BNReLU(corr, corr)
        # the official network registers the shared block under two more names; its checkpoints
        # therefore hold the same tensors three times (see weights.ALIASES)
        self.corr_conv_pos = self.corr_conv
        self.corr_conv_neg = self.corr_conv
        self.corr_fusion = SepConv2BNReLU(2 * corr, mid)
        self.image_conv1 = nn.Sequential(nn.PixelUnshuffle(4), SepConv2BNReLU(6 * 16, mid))
        self.image_conv2 = SepConv2BNReLU(mid, mid)
        self.refine_fusion = ConvNormReLU(feature_dims, mid, 1, 1, 0)
        self.cross_attention = nn.MultiheadAttention(mid, heads)
        self.fusion1 = nn.Sequential(SepConv2BNReLU(2 * mid, mid), SepConv2BNReLU(mid, mid))
        self.all_fusion = SepConv2BNReLU(2 * mid, mid)
        self.refine_fusion1 = SepConv2BNReLU(mid, mid)
        self.refine_fusion2 = SepConv2BNReLU(mid, mid)
        self.refine_pred = nn.Conv2d(mid, 1, 3, 1, 1)

    def select_templates(self, fused: torch.Tensor, points: torch.Tensor, sq_dist: torch.Tensor):
        """Eq. 3-4: indices (B, K) of the positive and the negative templates on the h x w grid
        (the top-K scores, best first)."""
        pos_score, neg_score = self.template_scores(fused, points, sq_dist)
        return torch.topk(pos_score, self.corr, dim=-1)[1], torch.topk(neg_score, self.corr, dim=-1)[1]

    def template_scores(self, fused: torch.Tensor, points: torch.Tensor, sq_dist: torch.Tensor):
        """Eq. 3-4: every grid position's (B, h * w) positive and negative template score."""
        b, c, h, w = fused.shape
        n = points.shape[1] // 2
        grid = torch.round(points[:, :, :2] * self.spatial_scale)
        grid[:, :, 0] = torch.where(grid[:, :, 0] >= h, torch.full_like(grid[:, :, 0], h - 1), grid[:, :, 0])
        grid[:, :, 1] = torch.where(grid[:, :, 1] >= w, torch.full_like(grid[:, :, 1], w - 1), grid[:, :, 1])
        grid = grid.long()
        index = (grid[:, :, 0] * w + grid[:, :, 1]).clamp(min=0)
        # distance term: sqrt(d^2) over the full-resolution diagonal, resized to the grid
        dist = torch.where(sq_dist == 1e6, torch.ones_like(sq_dist), sq_dist)
        diag = torch.sqrt(torch.tensor(sq_dist.shape[-2] ** 2 + sq_dist.shape[-1] ** 2, dtype=torch.float32,
                                        device=sq_dist.device))
        dist = torch.sqrt(dist) / diag
        if dist.shape[-2:] != (h, w):
            dist = F.interpolate(dist, (h, w), mode="bilinear", align_corners=True)
        dist = dist.reshape(b, 2, h * w)
        feats = fused.permute(0, 2, 3, 1).reshape(b, h * w, c)
        at_clicks = F.normalize(torch.gather(feats, 1, index.unsqueeze(-1).expand(b, -1, c)), p=2.0, dim=-1)
        sim = torch.einsum("bnc,bmc->bnm", at_clicks, F.normalize(feats, p=2.0, dim=-1))
        sim[points[:, :, 2] < 0] = 0
        pos_sim, neg_sim = sim[:, :n].max(dim=1)[0], sim[:, n:].max(dim=1)[0]
        pos_score = (pos_sim + (1 - neg_sim)) * (1 - dist[:, 0])
        neg_score = (neg_sim + (1 - pos_sim)) * (1 - dist[:, 1])
        return pos_score, neg_score

    def attend(self, queries: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
        """``cross_attention(queries, templates, templates)`` (batch-first) through the fused kernel.

        The same projections and scaling as ``nn.MultiheadAttention``, computed with
        ``scaled_dot_product_attention`` (4x faster on CPU; equal to about 1e-7).
        """
        mha = self.cross_attention
        c, heads = queries.shape[-1], mha.num_heads
        w, bias = mha.in_proj_weight, mha.in_proj_bias
        q = F.linear(queries, w[:c], bias[:c])
        k = F.linear(templates, w[c:2 * c], bias[c:2 * c])
        v = F.linear(templates, w[2 * c:], bias[2 * c:])
        b = queries.shape[0]
        q, k, v = (t.view(b, -1, heads, c // heads).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, -1, c)
        return F.linear(out, mha.out_proj.weight, mha.out_proj.bias)

    def project_feature(self, feature: torch.Tensor) -> torch.Tensor:
        """The backbone feature in the correction network's width (per-image work: cacheable)."""
        return self.refine_fusion(feature)

    def image_context(self, image: torch.Tensor, feature: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything of a correction step that depends on the image alone, computed once per image.

        The image branch and the first fusion block are per-channel up to their pointwise convs,
        and their leading input channels (the RGB image; the projected backbone feature) do not
        change between clicks, so those channels' contributions are computed here and reused.
        """
        projected = self.project_feature(feature)
        h, w = image.shape[-2] // 4, image.shape[-1] // 4
        if projected.shape[-2:] != (h, w):
            projected = F.interpolate(projected, size=(h, w), mode="bilinear", align_corners=True)
        return {"image": child(self.image_conv1, 1, SepConv2BNReLU).leading_part(self.image_conv1[0](image)),
                "feature": child(self.fusion1, 0, SepConv2BNReLU).leading_part(projected)}

    def _fuse(self, image: torch.Tensor, click_disks: torch.Tensor, logits: torch.Tensor, feature: torch.Tensor,
              context: dict[str, torch.Tensor] | None) -> torch.Tensor:
        """The fused map F at 1/4 resolution (Sec. 3.2), from scratch or with the per-image context."""
        if context is not None:
            clicks = self.image_conv1[0](torch.cat([click_disks, torch.sigmoid(logits)], 1))
            image_conv, fusion = child(self.image_conv1, 1, SepConv2BNReLU), child(self.fusion1, 0, SepConv2BNReLU)
            image_feature = self.image_conv2(image_conv.forward_rest(clicks, context["image"]))
            return self.fusion1[1](fusion.forward_rest(image_feature, context["feature"]))
        x = torch.cat([image, click_disks, torch.sigmoid(logits)], 1)
        image_feature = self.image_conv2(self.image_conv1(x))
        feature = self.project_feature(feature)
        if feature.shape[-2:] != image_feature.shape[-2:]:
            feature = F.interpolate(feature, size=image_feature.shape[-2:], mode="bilinear", align_corners=True)
        return self.fusion1(torch.cat([feature, image_feature], dim=1))

    def forward(self, image: torch.Tensor, click_disks: torch.Tensor, feature: torch.Tensor,
                logits: torch.Tensor, points: torch.Tensor, sq_dist: torch.Tensor,
                context: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Corrected logits at 1/4 of ``image`` (normalised image, disks and logits at full size).

        ``context`` is ``image_context(image, feature)`` when the caller keeps it per image.
        """
        fused = self._fuse(image, click_disks, logits, feature, context)
        with torch.no_grad():
            pos_idx, neg_idx = self.select_templates(fused.detach(), points, sq_dist)
        if self.engineered:
            fused, corr = self._correlate_and_attend(fused, pos_idx, neg_idx)
        else:
            fused, corr = self._correlate_and_attend_official(fused, pos_idx, neg_idx)
        x = self.all_fusion(torch.cat([fused, corr], dim=1))
        return self.refine_pred(self.refine_fusion2(self.refine_fusion1(x)))

    def _correlate_and_attend_official(self, fused: torch.Tensor, pos_idx: torch.Tensor, neg_idx: torch.Tensor):
        """Eq. 5-9 as the official code computes them: per polarity, the templates' query vectors
        as the kernels of a grouped 1x1 convolution over the key map, then the shared block; the
        attention through the ``nn.MultiheadAttention`` module (sequence first)."""
        b, c, h, w = fused.shape
        q, k = self.feature_convq(fused), self.feature_convk(fused)
        q_tokens = q.flatten(2).transpose(1, 2)
        maps = []
        for idx in (pos_idx, neg_idx):
            kernels = torch.gather(q_tokens, 1, idx.unsqueeze(-1).expand(b, -1, c))  # (B, K, C)
            corr = F.conv2d(k.reshape(1, b * c, h, w), kernels.reshape(b * self.corr, c, 1, 1), groups=b)
            maps.append(self.corr_conv(corr.view(b, self.corr, h, w)))
        corr = self.corr_fusion(torch.cat(maps, dim=1))
        tokens = fused.flatten(2).permute(2, 0, 1)  # (HW, B, C)
        idx = torch.cat([pos_idx, neg_idx], dim=-1)
        templates = torch.gather(fused.flatten(2), 2, idx.unsqueeze(1).expand(b, c, -1)).permute(2, 0, 1)
        attended = self.cross_attention(tokens, templates, templates)[0]
        return fused + attended.permute(1, 2, 0).reshape(b, c, h, w), corr

    def _correlate_and_attend(self, fused: torch.Tensor, pos_idx: torch.Tensor, neg_idx: torch.Tensor):
        """The same Eq. 5-9, engineered: one pixel-major matrix product for both polarities and the
        batch, the shared block on both at once, fused attention."""
        b, c, h, w = fused.shape
        # click-guided correlation: the templates' query vectors as 1x1 kernels over the key map,
        # computed pixel-major (channels-last) so the following convolutions run on their fast path;
        # both polarities go through the shared block in one batch
        q = _tokens(self.feature_convq(fused))
        k = _tokens(self.feature_convk(fused))
        idx = torch.cat([pos_idx, neg_idx], dim=-1)
        kernels = torch.gather(q, 1, idx.unsqueeze(-1).expand(b, -1, c))  # (B, 2K, C)
        corr = torch.bmm(k, kernels.transpose(1, 2)).view(b, h * w, 2, self.corr)  # (B, HW, 2, K)
        corr = _from_tokens(corr.permute(2, 0, 1, 3).reshape(2 * b, h * w, self.corr), h, w)
        corr = _tokens(self.corr_conv(corr)).view(2, b, h * w, self.corr)
        corr = self.corr_fusion(_from_tokens(corr.permute(1, 2, 0, 3).reshape(b, h * w, 2 * self.corr), h, w))

        # click-guided attention: every pixel attends to the 2K templates
        tokens = _tokens(fused)
        templates = torch.gather(tokens, 1, idx.unsqueeze(-1).expand(b, -1, c))
        return fused + _from_tokens(self.attend(tokens, templates), h, w), corr
