"""Segment Anything (Kirillov et al., ICCV 2023): ViT image encoder, prompt encoder, two-way mask decoder.

Built from ``SamConfig`` so the three official models and the tiny reference model come from the
same code; module names, registration order and shapes equal the official state dicts (checked
against the key lists in ``../shared/golden/sam``). Blocks with an engineered formulation carry an
``engineered`` flag (``nets.layers.set_engineered``): the encoder's relative positions and softmax
applied in place on the attention scores (bit-identical to the official sums; a fused kernel with
an additive mask was slower on the CPU), the decoder's attention through
``scaled_dot_product_attention``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..calibration import LogitHead
from ..family import Variant, WeightsSpec
from ..nets.layers import child, children

PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class SamConfig:
    """The builder arguments of one SAM model (the official builder's, or the tiny reference model's)."""

    encoder_dim: int
    encoder_depth: int
    encoder_heads: int
    global_attn_indexes: tuple[int, ...]
    prompt_dim: int = 256
    decoder_mlp_dim: int = 2048
    iou_hidden_dim: int = 256
    image_size: int = 1024
    patch_size: int = 16
    window_size: int = 14
    mlp_ratio: float = 4.0
    mask_in_chans: int = 16
    decoder_depth: int = 2
    decoder_heads: int = 8
    multimask_outputs: int = 3
    iou_head_depth: int = 3

    @property
    def embedding_size(self) -> int:
        return self.image_size // self.patch_size


CONFIGS = {
    "vit_b": SamConfig(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": SamConfig(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": SamConfig(1280, 32, 16, (7, 15, 23, 31)),
}
# The reference data's tiny SAM (../shared/golden/sam/README.md), and one tiny model per official size
# with that size's layout of windowed blocks between global ones (every 3rd, 6th, 8th block global):
# the sizes differ only in these numbers, so the tiny ones run each size's code path in a second.
_TINY = {"prompt_dim": 64, "decoder_mlp_dim": 256, "iou_hidden_dim": 64}
TINY = SamConfig(64, 2, 2, (1,), **_TINY)
TINY_SIZES = {
    "vit_b": SamConfig(64, 6, 2, (2, 5), **_TINY),
    "vit_l": SamConfig(64, 6, 2, (5,), **_TINY),
    "vit_h": SamConfig(64, 8, 2, (7,), **_TINY),
}


def tiny_variant(size: str | None = None) -> Variant:
    """A variant registered nowhere that runs a tiny configuration: ``size`` one of TINY_SIZES, or None
    for the reference data's tiny SAM. It has no checkpoint; seeded or calibrated weights only."""
    config, name = (TINY, "sam-tiny") if size is None else (TINY_SIZES[size], f"sam-tiny-{size.replace('_', '-')}")
    return Variant(name, "a tiny SAM configuration (tests)", "iseg_bench.adapters.sam.network:Sam", (config,),
                   WeightsSpec("none.pth", "no checkpoint exists", "0"), family="sam")


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an NCHW map (eps 1e-6 everywhere SAM uses it)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MLPBlock(nn.Module):
    """Two linear layers around an activation (GELU in the encoder, ReLU in the decoder transformer)."""

    def __init__(self, dim: int, hidden: int, act: type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.act(self.lin1(x)))


# --- image encoder ------------------------------------------------------------------------------

def relative_positions(q_size: int, k_size: int, table: torch.Tensor) -> torch.Tensor:
    """Rows of a relative-position table for every (query, key) offset along one axis: (q, k, dim)."""
    q_coords = torch.arange(q_size, device=table.device)[:, None] * max(k_size / q_size, 1.0)
    k_coords = torch.arange(k_size, device=table.device)[None, :] * max(q_size / k_size, 1.0)
    offsets = (q_coords - k_coords) + (k_size - 1) * max(q_size / k_size, 1.0)
    return table[offsets.long()]


def rel_pos_terms(q: torch.Tensor, rel_h: torch.Tensor, rel_w: torch.Tensor, h: int, w: int):
    """The decomposed relative-position terms along rows and columns, (B, h, w, h, 1) and
    (B, h, w, 1, w), from the unscaled queries (B, h*w, dim)."""
    b, _, dim = q.shape
    rh, rw = relative_positions(h, h, rel_h), relative_positions(w, w, rel_w)
    r_q = q.reshape(b, h, w, dim)
    along_h = torch.einsum("bhwc,hkc->bhwk", r_q, rh)
    along_w = torch.einsum("bhwc,wkc->bhwk", r_q, rw)
    return along_h[:, :, :, :, None], along_w[:, :, :, None, :]


class EncoderAttention(nn.Module):
    """Multi-head self-attention over a (B, H, W, C) grid with decomposed relative positions."""

    engineered = True

    def __init__(self, dim: int, heads: int, grid: int) -> None:
        super().__init__()
        self.heads = heads
        head_dim = dim // heads
        self.scale = head_dim ** -0.5
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid - 1, head_dim))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.heads, h * w, -1).unbind(0)
        along_h, along_w = rel_pos_terms(q, self.rel_pos_h, self.rel_pos_w, h, w)
        n = h * w
        attn = (q * self.scale) @ k.transpose(-2, -1)  # scaled product, plus the row term, plus the column term
        if self.engineered:  # the same sums and softmax in place: no copies of the (B * heads, n, n) scores
            attn.view(-1, h, w, h, w).add_(along_h).add_(along_w)
            out = torch.softmax(attn, dim=-1, out=attn) @ v
        else:
            attn = (attn.view(-1, h, w, h, w) + along_h + along_w).view(-1, n, n)
            out = attn.softmax(dim=-1) @ v
        out = out.view(b, self.heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
        return self.proj(out)


def window_partition(x: torch.Tensor, size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad (B, H, W, C) to multiples of ``size`` and cut it into (B * n, size, size, C) windows."""
    b, h, w, c = x.shape
    pad_h, pad_w = (size - h % size) % size, (size - w % size) % size
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // size, size, wp // size, size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, size, size, c), (hp, wp)


def window_unpartition(windows: torch.Tensor, size: int, padded: tuple[int, int], hw: tuple[int, int]) -> torch.Tensor:
    """The inverse of ``window_partition``, padding cropped away."""
    hp, wp = padded
    h, w = hw
    b = windows.shape[0] // (hp * wp // size // size)
    x = windows.view(b, hp // size, wp // size, size, size, -1).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :h, :w, :].contiguous() if (hp, wp) != (h, w) else x


class EncoderBlock(nn.Module):
    """Pre-norm transformer block; windowed attention (zero padding, no mask) unless ``window`` is 0."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, window: int, grid: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = EncoderAttention(dim, heads, window if window else grid)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio))
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.window:
            h, w = x.shape[1:3]
            x, padded = window_partition(x, self.window)
            x = window_unpartition(self.attn(x), self.window, padded, (h, w))
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)  # B, H, W, C


class ImageEncoderViT(nn.Module):
    """Patch embedding + absolute positions, ViT blocks (windowed and global), and the neck to 256 channels."""

    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        grid = cfg.embedding_size
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, cfg.encoder_dim))
        self.patch_embed = PatchEmbed(cfg.patch_size, cfg.encoder_dim)
        self.blocks = nn.ModuleList(
            EncoderBlock(cfg.encoder_dim, cfg.encoder_heads, cfg.mlp_ratio,
                         0 if i in cfg.global_attn_indexes else cfg.window_size, grid)
            for i in range(cfg.encoder_depth))
        self.neck = nn.Sequential(
            nn.Conv2d(cfg.encoder_dim, cfg.prompt_dim, kernel_size=1, bias=False), LayerNorm2d(cfg.prompt_dim),
            nn.Conv2d(cfg.prompt_dim, cfg.prompt_dim, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(cfg.prompt_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.neck(x.permute(0, 3, 1, 2))


# --- prompt encoder -----------------------------------------------------------------------------

class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of (x, y) in [0, 1]: 2c - 1, times a Gaussian matrix, times 2 pi; sin then cos."""

    positional_encoding_gaussian_matrix: torch.Tensor  # a buffer (2, features)

    def __init__(self, features: int) -> None:
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, features))

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        coords = (2 * coords - 1) @ self.positional_encoding_gaussian_matrix
        coords = 2 * math.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def grid(self, size: int) -> torch.Tensor:
        """(C, size, size) encoding of the pixel centres of a size x size grid."""
        centres = (torch.arange(size, device=self.positional_encoding_gaussian_matrix.device,
                                dtype=torch.float32) + 0.5) / size
        ys, xs = torch.meshgrid(centres, centres, indexing="ij")
        return self.encode(torch.stack([xs, ys], dim=-1)).permute(2, 0, 1)

    def points(self, coords: torch.Tensor, image_size: int) -> torch.Tensor:
        """Encoding of (x, y) pixel coordinates of the padded input (B, N, 2)."""
        return self.encode((coords / image_size).to(torch.float32))


class PromptEncoder(nn.Module):
    """Points (with the pad point), and the previous low-resolution logits as a dense prompt."""

    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        dim = cfg.prompt_dim
        self.image_size, self.grid = cfg.image_size, cfg.embedding_size
        self.pe_layer = PositionEmbeddingRandom(dim // 2)
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, dim) for _ in range(4))  # neg, pos, box corners
        self.not_a_point_embed = nn.Embedding(1, dim)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, cfg.mask_in_chans // 4, kernel_size=2, stride=2), LayerNorm2d(cfg.mask_in_chans // 4),
            nn.GELU(), nn.Conv2d(cfg.mask_in_chans // 4, cfg.mask_in_chans, kernel_size=2, stride=2),
            LayerNorm2d(cfg.mask_in_chans), nn.GELU(), nn.Conv2d(cfg.mask_in_chans, dim, kernel_size=1))
        self.no_mask_embed = nn.Embedding(1, dim)

    def dense_pe(self) -> torch.Tensor:
        """(1, C, 64, 64): the positions of the image embedding."""
        return self.pe_layer.grid(self.grid)[None]

    def sparse(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Point tokens (B, N + 1, C): coordinates in the padded input's pixels, labels 1 / 0, and the
        appended pad point (label -1) the official encoder adds when there is no box."""
        b = coords.shape[0]
        coords = torch.cat([coords + 0.5, coords.new_zeros((b, 1, 2))], dim=1)
        labels = torch.cat([labels, -labels.new_ones((b, 1))], dim=1)
        pe = self.pe_layer.points(coords, self.image_size)
        pad, neg, pos = (labels == -1)[..., None], (labels == 0)[..., None], (labels == 1)[..., None]
        pe = torch.where(pad, self.not_a_point_embed.weight, pe)
        neg_embed = child(self.point_embeddings, 0, nn.Embedding).weight
        pos_embed = child(self.point_embeddings, 1, nn.Embedding).weight
        return (pe + neg * neg_embed + pos * pos_embed)

    def dense(self, mask_logits: torch.Tensor | None, batch: int = 1) -> torch.Tensor:
        """(B, C, 64, 64): the downscaled previous logits (B, 1, 256, 256), or the learnt no-mask embedding."""
        if mask_logits is not None:
            return self.mask_downscaling(mask_logits)
        return self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, self.grid, self.grid)


# --- mask decoder -------------------------------------------------------------------------------

class DecoderAttention(nn.Module):
    """Attention with its own q/k/v projections to ``dim / downsample`` channels."""

    engineered = True

    def __init__(self, dim: int, heads: int, downsample: int = 1) -> None:
        super().__init__()
        inner = dim // downsample
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(self.q_proj(q)), self._heads(self.k_proj(k)), self._heads(self.v_proj(v))
        if self.engineered:
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q @ k.permute(0, 1, 3, 2)) / math.sqrt(q.shape[-1])
            out = attn.softmax(dim=-1) @ v
        b, h, n, c = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * c))


class TwoWayBlock(nn.Module):
    """Token self-attention, token-to-image attention, MLP, image-to-token attention (post-norm)."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, skip_first_pe: bool) -> None:
        super().__init__()
        self.self_attn = DecoderAttention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn_token_to_image = DecoderAttention(dim, heads, 2)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, mlp_dim, nn.ReLU)
        self.norm3 = nn.LayerNorm(dim)
        self.norm4 = nn.LayerNorm(dim)
        self.cross_attn_image_to_token = DecoderAttention(dim, heads, 2)
        self.skip_first_pe = skip_first_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_pe:  # the first layer's self-attention replaces the queries
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        q, k = queries + query_pe, keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(q, k, keys))
        queries = self.norm3(queries + self.mlp(queries))
        q, k = queries + query_pe, keys + key_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(k, q, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, depth: int, dim: int, heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(TwoWayBlock(dim, heads, mlp_dim, i == 0) for i in range(depth))
        self.final_attn_token_to_image = DecoderAttention(dim, heads, 2)
        self.norm_final_attn = nn.LayerNorm(dim)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, tokens: torch.Tensor):
        keys = image.flatten(2).permute(0, 2, 1)
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        queries = queries + self.final_attn_token_to_image(queries + tokens, keys + key_pe, keys)
        return self.norm_final_attn(queries), keys


class MLP(nn.Module):
    """Linear layers with ReLU between them (the hypernetworks and the IoU head; no output activation)."""

    def __init__(self, dim_in: int, hidden: int, dim_out: int, depth: int) -> None:
        super().__init__()
        dims = [dim_in] + [hidden] * (depth - 1)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:] + [dim_out]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == len(self.layers) - 1 else F.relu(layer(x))
        return x


class MaskDecoder(nn.Module):
    """Four mask tokens and an IoU token attend to the image embedding; masks from hypernetworks on
    the 4x upscaled embedding (256 x 256 logits)."""

    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        dim = cfg.prompt_dim
        self.transformer = TwoWayTransformer(cfg.decoder_depth, dim, cfg.decoder_heads, cfg.decoder_mlp_dim)
        self.mask_count = cfg.multimask_outputs + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.mask_count, dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, kernel_size=2, stride=2), LayerNorm2d(dim // 4), nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, kernel_size=2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList(MLP(dim, dim, dim // 8, 3) for _ in range(self.mask_count))
        self.iou_prediction_head = MLP(dim, cfg.iou_hidden_dim, self.mask_count, cfg.iou_head_depth)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor,
                dense: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of all four masks (B, 4, 256, 256) and their predicted IoU (B, 4), unsliced."""
        b = sparse.shape[0]
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        tokens = torch.cat([output_tokens[None].expand(b, -1, -1), sparse], dim=1)
        src = image.expand(b, -1, -1, -1) + dense
        pos = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape
        hs, src = self.transformer(src, pos, tokens)
        upscaled = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        hyper = torch.stack([mlp(hs[:, 1 + i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1)
        _, cu, hu, wu = upscaled.shape
        masks = (hyper @ upscaled.reshape(b, cu, hu * wu)).reshape(b, -1, hu, wu)
        return masks, self.iou_prediction_head(hs[:, 0])


class Sam(nn.Module):
    """The whole model, named as the official checkpoints name it."""

    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        self.config = cfg
        self.image_encoder = ImageEncoderViT(cfg)
        self.prompt_encoder = PromptEncoder(cfg)
        self.mask_decoder = MaskDecoder(cfg)

    def logit_heads(self) -> tuple[LogitHead, ...]:
        """The mask logits: a product of each token's hypernetwork output with the upscaled embedding,
        scaled by the hypernetworks' last layers (``calibration``)."""
        last = [f"mask_decoder.output_hypernetworks_mlps.{i}.layers.{len(mlp.layers) - 1}"
                for i, mlp in enumerate(children(self.mask_decoder.output_hypernetworks_mlps, MLP))]
        return (LogitHead("mask_decoder", affine=tuple(last)),)

    @classmethod
    def named(cls, name: str) -> Sam:
        """One of the official models: ``vit_b``, ``vit_l`` or ``vit_h``."""
        return cls(CONFIGS[name])

    def decode(self, image_embedding: torch.Tensor, dense_pe: torch.Tensor, coords: torch.Tensor,
               labels: torch.Tensor, mask_logits: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One click's work after the image embedding: prompt encoder and mask decoder. ``coords``
        (B, N, 2) are (x, y) in the padded input's pixels, ``labels`` 1 / 0, ``mask_logits`` the
        previous low-resolution logits (B, 1, 256, 256) or None. All four masks and IoU predictions."""
        sparse = self.prompt_encoder.sparse(coords, labels)
        dense = self.prompt_encoder.dense(mask_logits, coords.shape[0])
        return self.mask_decoder(image_embedding, dense_pe, sparse, dense)

    def decode_recomputing_pe(self, image_embedding: torch.Tensor, coords: torch.Tensor, labels: torch.Tensor,
                              mask_logits: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``decode`` with the dense positional encoding recomputed, as the official predictor does per call."""
        return self.decode(image_embedding, self.prompt_encoder.dense_pe(), coords, labels, mask_logits)
