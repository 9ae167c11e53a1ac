"""SGENet's semantic guidance branch: aligns the prior's character sequence with image features.

Prior probabilities ``(N, T, C)`` are projected to ``d`` channels with a sinusoidal position
code, refined by a small self-attention text encoder, then aligned in two directions:
text queries attend to the image features (``text_to_image`` layers), and image features attend
to those aligned text tokens (``image_to_text`` layers). The image tokens come back as a
``d``-channel guidance map at the LR feature resolution. Position codes are computed on the fly
(1-D for text, 2-D for the image), so any width and any number of time steps work.

Attention uses ``F.scaled_dot_product_attention``: on CPU its fused kernel is 2-3x faster than
explicit matmuls for the 1000s of image tokens, gives the same result for a sample alone or in
a batch, and ``complexity.py`` teaches the MAC counter its cost.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal code of ``positions`` (any shape) with ``dim`` (even) channels, last axis."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=positions.device, dtype=torch.float32) * (-math.log(10000.0) / half))
    angles = positions.float().unsqueeze(-1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def image_position_code(height: int, width: int, dim: int, device) -> torch.Tensor:
    """(H*W, dim) code: half the channels encode the row, half the column."""
    rows = torch.arange(height, device=device).repeat_interleave(width)
    cols = torch.arange(width, device=device).repeat(height)
    return torch.cat([sinusoid(rows, dim // 2), sinusoid(cols, dim // 2)], dim=-1)


class Attention(nn.Module):
    """Multi-head attention from ``queries`` to ``context`` (fused SDPA kernel)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError("dim must be divisible by heads")
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, queries: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        n, lq, d = queries.shape
        h = self.heads
        q = self.to_q(queries).view(n, lq, h, d // h).transpose(1, 2)
        k, v = self.to_kv(context).view(n, context.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v)
        return self.out(attended.transpose(1, 2).reshape(n, lq, d))


class AttentionLayer(nn.Module):
    """Pre-norm transformer layer: attention (self or cross) then a feed-forward block."""

    def __init__(self, dim: int, heads: int, ffn_mult: int, cross: bool):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim) if cross else None
        self.attn = Attention(dim, heads)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_mult * dim), nn.GELU(), nn.Linear(ffn_mult * dim, dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        q = self.norm_q(x)
        kv = q if self.norm_kv is None else self.norm_kv(context)
        x = x + self.attn(q, kv)
        return x + self.ffn(self.norm_ffn(x))


class SemanticGuidance(nn.Module):
    """Prior probabilities + LR image features -> a ``dim``-channel guidance map."""

    def __init__(self, num_classes: int, dim: int = 64, heads: int = 4, ffn_mult: int = 2,
                 text_layers: int = 2, text_to_image_layers: int = 3, image_to_text_layers: int = 3):
        super().__init__()
        self.dim = dim
        self.embed = nn.Linear(num_classes, dim)
        def layers(count: int, cross: bool) -> nn.ModuleList:
            return nn.ModuleList(AttentionLayer(dim, heads, ffn_mult, cross) for _ in range(count))

        self.text_encoder = layers(text_layers, cross=False)
        self.text_to_image = layers(text_to_image_layers, cross=True)
        self.image_to_text = layers(image_to_text_layers, cross=True)
        self.norm_out = nn.LayerNorm(dim)

    def forward(self, prior_probs: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        n, c, h, w = features.shape
        steps = torch.arange(prior_probs.shape[1], device=features.device)
        text = self.embed(prior_probs) + sinusoid(steps, self.dim)
        for layer in self.text_encoder:
            text = layer(text)
        image = features.flatten(2).transpose(1, 2) + image_position_code(h, w, self.dim, features.device)
        for layer in self.text_to_image:
            text = layer(text, image)
        for layer in self.image_to_text:
            image = layer(image, text)
        return self.norm_out(image).transpose(1, 2).reshape(n, self.dim, h, w)
