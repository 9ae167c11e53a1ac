"""SGENet (arXiv 2403.13330): a TSRN-style super-resolution branch guided by a text prior.

Input ``lr``: ``(N, 3, 16, W)`` RGB in [0, 1], any W from 16 to 512. Output: ``(N, 3, 32, 2W)``
in [0, 1] (``(N, 3, 48, 3W)`` for crop-base weights with ``output_scale`` 3). Pipeline:

1. a binary text mask (pixels darker than the crop's mean grey) is appended as a 4th channel;
2. 9x9 conv head -> ``channels`` features at LR resolution;
3. the frozen semantic prior reads the LR crop (it resizes to its own input height) and the
   :class:`~sgenet_ocr.models.guidance.SemanticGuidance` branch turns its probabilities and the
   head features into a guidance map;
4. ``num_blocks`` recurrent residual blocks: conv-BN-Mish-conv-BN, guidance fusion,
   horizontal BiGRU, residual + BN, vertical BiGRU;
5. tail conv + BN with a global skip from the head, conv + PixelShuffle x2, 9x9 conv + tanh.

Deviations from the paper, all for arbitrary widths or easier training: the fusion's channel
attention pools globally instead of using a fixed 16x64 depthwise kernel; each BiGRU block
keeps a residual connection; with ``bicubic_residual`` (default) the tanh output is added to a
*base* image and clamped to [0, 1] (the paper maps tanh directly), and the final conv starts
near zero so an untrained model starts close to its base.

The base (``SGENetConfig.base``) is a bicubic x2 upscale of the input (``"bicubic"``), or, for
``"crop"`` weights, an image the caller makes from the raw crop in one bilinear step to the
output size (:func:`~sgenet_ocr.imaging.enlarge_once`) and passes as ``base=``. The 16 px input
already went through one resampling; a second one costs PP-OCRv4 words before the network
does anything (``benchmarks/results/resampling_paths.md``). With ``output_scale`` the crop base
is made at that multiple of the input (3: PP-OCRv4's 48 px recognition height) and the x2
correction is resized to it; PP-OCRv4 then reads the output without resizing it, so a zero
correction gives it exactly what it would make of the raw crop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .amp import fp32_recurrent
from .guidance import SemanticGuidance
from .prior import SemanticPrior, create_prior

MIN_WIDTH, MAX_WIDTH = 16, 512


@dataclass
class SGENetConfig:
    """Architecture hyper-parameters; saved next to the weights so a checkpoint rebuilds itself."""

    scale: int = 2
    input_height: int = 16
    channels: int = 64
    num_blocks: int = 2
    gru_hidden: int = 32
    guidance_dim: int = 64
    guidance_heads: int = 4
    guidance_ffn_mult: int = 2
    text_layers: int = 2
    text_to_image_layers: int = 3
    image_to_text_layers: int = 3
    attention_reduction: int = 8
    prior: str = "ppocrv4_rec"
    prior_kwargs: dict = field(default_factory=dict)
    finetune_prior: bool = False
    bicubic_residual: bool = True
    base: str = "bicubic"  # what the correction is added to: "bicubic" (of the input) or "crop" (given)
    output_scale: int = 0  # 0: ``scale``; else (``base="crop"`` only) the output size, the correction resized to it

    @property
    def output_factor(self) -> int:
        """Output size over input size: ``output_scale`` when set, else ``scale``."""
        return self.output_scale or self.scale


BASES = ("bicubic", "crop")


def text_mask(lr: torch.Tensor) -> torch.Tensor:
    """Binary mask of pixels darker than the crop's mean grey (TextZoom/TSRN-style 4th channel)."""
    grey = lr.mean(dim=1, keepdim=True)
    return (grey < grey.mean(dim=(2, 3), keepdim=True)).to(lr.dtype)


class ExpMish(nn.Module):
    """Mish written without Softplus, for export: ``tanh(softplus(x)) = n / (n + 2)`` with
    ``n = e^x (e^x + 2)``. ``x`` is clamped at 20 before ``exp`` (beyond it ``n / (n + 2)`` is 1
    in float32), so nothing overflows."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.exp(torch.clamp(x, max=20.0))
        n = t * (t + 2.0)
        return x * n / (n + 2.0)


class GuidanceFusion(nn.Module):
    """Affine modulation of block features by the guidance map, gated by channel attention."""

    def __init__(self, channels: int, guidance_dim: int, reduction: int):
        super().__init__()
        joint = channels + guidance_dim
        self.scale = nn.Conv2d(joint, channels, 1)
        self.shift = nn.Conv2d(joint, channels, 1)
        self.value = nn.Conv2d(joint, channels, 1)
        # Global average pooling keeps the attention width-agnostic.
        self.attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(joint, joint // reduction, 1), nn.Mish(),
            nn.Conv2d(joint // reduction, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        joint = torch.cat([x, guidance], dim=1)
        modulated = x * self.scale(joint) + self.shift(joint) + self.value(joint)
        return x + self.attention(joint) * modulated


class BiGRU2d(nn.Module):
    """1x1 conv then a bidirectional GRU along rows (``horizontal``) or columns, with a residual."""

    def __init__(self, channels: int, hidden: int, horizontal: bool):
        super().__init__()
        self.horizontal = horizontal
        self.proj = nn.Conv2d(channels, 2 * hidden, 1)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Identity() if 2 * hidden == channels else nn.Conv2d(2 * hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x)
        n, c, h, w = y.shape
        if self.horizontal:  # sequences run along the width, one per row
            seq = y.permute(0, 2, 3, 1).reshape(n * h, w, c)
            y = fp32_recurrent(self.gru, seq)[0].reshape(n, h, w, -1).permute(0, 3, 1, 2)
        else:
            seq = y.permute(0, 3, 2, 1).reshape(n * w, h, c)
            y = fp32_recurrent(self.gru, seq)[0].reshape(n, w, h, -1).permute(0, 3, 2, 1)
        return x + self.out(y.contiguous())


class RecurrentResidualBlock(nn.Module):
    """conv-BN-Mish-conv-BN, guidance fusion, horizontal BiGRU, residual + BN, vertical BiGRU."""

    def __init__(self, cfg: SGENetConfig):
        super().__init__()
        c = cfg.channels
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.Mish(),
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))
        self.fusion = GuidanceFusion(c, cfg.guidance_dim, cfg.attention_reduction)
        self.gru_h = BiGRU2d(c, cfg.gru_hidden, horizontal=True)
        self.norm = nn.BatchNorm2d(c)
        self.gru_v = BiGRU2d(c, cfg.gru_hidden, horizontal=False)

    def forward(self, x: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        r = self.gru_h(self.fusion(self.body(x), guidance))
        return self.gru_v(self.norm(x + r))


class SGENet(nn.Module):
    """Semantic-guided text super-resolution, x2, for crops of height 16 and any width."""

    def __init__(self, config: SGENetConfig | None = None, prior: SemanticPrior | None = None):
        super().__init__()
        cfg = config or SGENetConfig()
        if cfg.scale != 2:
            raise ValueError("only scale 2 is implemented")
        if cfg.base not in BASES:
            raise ValueError(f"base must be one of {BASES}, not {cfg.base!r}")
        if cfg.base == "crop" and not cfg.bicubic_residual:
            raise ValueError('base="crop" needs bicubic_residual (the correction is added to the base)')
        if cfg.output_scale not in (0, cfg.scale) and cfg.base != "crop":
            raise ValueError('output_scale needs base="crop" (the base is made at the output size)')
        if cfg.output_scale < 0:
            raise ValueError(f"output_scale must be 0 (= scale) or a positive factor, not {cfg.output_scale}")
        if cfg.guidance_dim != cfg.channels:
            raise ValueError("guidance_dim must equal channels (image tokens are the head features)")
        self.config = cfg
        c = cfg.channels
        self.prior = prior if prior is not None else create_prior(cfg.prior, **cfg.prior_kwargs)
        self.head = nn.Sequential(nn.Conv2d(4, c, 9, padding=4), nn.PReLU(c))
        self.guidance = SemanticGuidance(
            self.prior.num_classes, cfg.guidance_dim, cfg.guidance_heads, cfg.guidance_ffn_mult,
            cfg.text_layers, cfg.text_to_image_layers, cfg.image_to_text_layers)
        self.blocks = nn.ModuleList(RecurrentResidualBlock(cfg) for _ in range(cfg.num_blocks))
        self.tail = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))
        self.upsample = nn.Sequential(
            nn.Conv2d(c, c * cfg.scale ** 2, 3, padding=1), nn.PixelShuffle(cfg.scale), nn.Mish())
        self.to_rgb = nn.Conv2d(c, 3, 9, padding=4)
        if cfg.bicubic_residual:
            # Start near "bicubic + 0": the network learns a correction.
            nn.init.normal_(self.to_rgb.weight, std=1e-3)
            nn.init.zeros_(self.to_rgb.bias)
        self._set_prior_trainable(cfg.finetune_prior)

    # -- the prior stays frozen (eval, no grad) unless fine-tuning is asked for -------------
    def _set_prior_trainable(self, trainable: bool) -> None:
        for p in self.prior.parameters():
            p.requires_grad_(trainable)
        self.prior.train(self.training and trainable)

    def train(self, mode: bool = True) -> "SGENet":
        super().train(mode)
        self.prior.train(mode and self.config.finetune_prior)
        return self

    def state_dict(self, *args, **kwargs):
        """All weights and buffers except a frozen prior's (those come from its own package)."""
        state = super().state_dict(*args, **kwargs)
        if not self.config.finetune_prior:
            prefix = kwargs.get("prefix", "") + "prior."
            for key in [k for k in state if k.startswith(prefix)]:
                del state[key]
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        if not self.config.finetune_prior:
            state_dict = dict(state_dict)
            for key, value in super().state_dict().items():
                if key.startswith("prior."):
                    state_dict.setdefault(key, value)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # -- forward ---------------------------------------------------------------------------
    @property
    def takes_base(self) -> bool:
        """True when ``forward`` needs ``base=`` (weights trained with ``base="crop"``)."""
        return self.config.base == "crop"

    @property
    def output_scale(self) -> int:
        """Output size over input size: ``scale``, or the ``output_scale`` of crop-base weights."""
        return self.config.output_factor

    def forward(self, lr: torch.Tensor, prior_probs: torch.Tensor | None = None,
                base: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.config
        if lr.dim() != 4 or lr.shape[1] != 3 or lr.shape[2] != cfg.input_height:
            raise ValueError(f"expected lr (N, 3, {cfg.input_height}, W), got {tuple(lr.shape)}")
        out_shape = (lr.shape[0], 3, self.output_scale * lr.shape[2], self.output_scale * lr.shape[3])
        if self.takes_base and (base is None or tuple(base.shape) != out_shape):
            got = "none" if base is None else tuple(base.shape)
            raise ValueError(f'base="crop" weights need base {out_shape} (the crop enlarged once), got {got}')
        if base is not None and not self.takes_base:
            raise ValueError('base= was given to weights trained with base="bicubic"; they make their own')
        if prior_probs is None:
            prior_probs = self.prior(lr)
        features = self.head(torch.cat([lr, text_mask(lr)], dim=1))
        guidance = self.guidance(prior_probs, features)
        x = features
        for block in self.blocks:
            x = block(x, guidance)
        x = self.upsample(features + self.tail(x))
        residual = torch.tanh(self.to_rgb(x))
        if self.output_scale != cfg.scale:
            # The network works at x2; a crop base at the recogniser's own input size (x3 for
            # PP-OCRv4's 48 px) gets the correction resized to it, so a zero correction hands
            # the recogniser what it would make of the raw crop itself.
            residual = F.interpolate(residual, scale_factor=self.output_scale / cfg.scale, mode="bilinear",
                                     align_corners=False)
        if cfg.bicubic_residual:
            if base is None:
                base = F.interpolate(lr, scale_factor=cfg.scale, mode="bicubic", align_corners=False)
            return (base + residual).clamp(0.0, 1.0)
        return (residual + 1.0) / 2.0
