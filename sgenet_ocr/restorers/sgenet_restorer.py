"""The ``sgenet`` restorer: SGENet x2 on arbitrary text crops, with PyTorch.

Crop preparation and width bucketing live in :mod:`.bucketing` (shared with ``sgenet-onnx``):
each crop up to 16 px tall comes out 32 px tall and twice its resized width (48 px and three
times for weights with ``output_scale`` 3); taller crops get bicubic at the same factor.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..devices import parse_device
from ..models import create_model, resolve_weights
from ..options import check_count
from ..prior_probs import fit_steps
from . import Restorer
from .bucketing import batch_limit, restore_in_buckets


class SgenetRestorer(Restorer):
    """SGENet super-resolution of text crops (scale 2, output height 32; or the weights' ``output_scale``)."""

    name = "sgenet"
    scale = 2

    def __init__(self, weights: str | Path | bool | None = True, device: str = "cpu", batch_size: int = 32,
                 bucket: int = 16, int8: bool = False, channels_last: bool = False, threads: int | None = None):
        from .torch_speedups import apply_speedups

        self.batch_size = check_count(batch_size, "batch_size", "restorer 'sgenet' option ")
        self.bucket = check_count(bucket, "bucket", "restorer 'sgenet' option ")
        self.device = torch.device(str(parse_device(device)))
        resolved = resolve_weights(weights)
        self.weights_sha256, self.weights_source = resolved.sha256, resolved.source
        model = create_model("sgenet", pretrained=resolved)
        self.model = apply_speedups(model.to(self.device).eval(), int8=int8, channels_last=channels_last,
                                    threads=threads)
        self.input_height = self.model.config.input_height
        self.scale = self.model.output_scale  # 2, or 3 for weights that output PP-OCRv4's 48 px
        self.guided_by, self.prior_charset = self.model.config.prior, list(self.model.prior.charset)

    def restore(self, crops: Sequence[np.ndarray],
                prior_probs: Sequence[np.ndarray | None] | None = None) -> list[np.ndarray]:
        return restore_in_buckets(crops, self.run_batch, input_height=self.input_height, scale=self.scale,
                                  bucket=self.bucket, batch_for=self.batch_for, prior_probs=prior_probs,
                                  with_base=self.model.takes_base)

    @torch.inference_mode()
    def run_batch(self, batch: np.ndarray, prior_probs: Sequence[np.ndarray] | None = None,
                  base: np.ndarray | None = None) -> np.ndarray:
        """Float32 (N, 3, 16, W) in [0, 1] -> (N, 3, 16s, sW) (s = ``self.scale``), one model call. With
        ``prior_probs`` (one array per crop) the prior does not run: each array is laid out on
        the steps the prior would read from this padded batch. ``base``: the crops enlarged
        once, shaped like the output, for ``base="crop"`` weights."""
        lr = torch.from_numpy(batch).to(self.device)
        probs = None
        if prior_probs is not None:
            steps = self.model.prior.output_steps(*batch.shape[2:])
            probs = torch.from_numpy(np.stack([fit_steps(p, steps) for p in prior_probs])).to(self.device)
        if base is not None:
            base = torch.from_numpy(base).to(self.device)
        return self.model(lr, prior_probs=probs, base=base).float().cpu().numpy()

    def batch_for(self, width: int) -> int:
        """Crops per batch at ``width`` (see :func:`.bucketing.batch_limit`)."""
        return batch_limit(width, self.batch_size)

    def close(self) -> None:
        self.model = None
