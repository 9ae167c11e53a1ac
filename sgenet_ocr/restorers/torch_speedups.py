"""Optional CPU speed-ups of the PyTorch SGENet path, each behind a restorer option.

- ``threads``: intra-op threads (the stage passes ``--threads``; None leaves torch's setting,
  the physical core count unless the process changed it). torch's setting is process-wide.
- ``channels_last``: NHWC memory format for the convolutions (oneDNN's native layout).
- ``int8``: dynamic int8 quantisation of the GRUs and the guidance branch's Linear layers
  (weights int8, activations quantised per batch). The frozen prior and all convolutions stay
  fp32. It changes the output slightly: measure with ``benchmarks/torch_variants.py``.
"""
from __future__ import annotations

import torch
from torch import nn


def apply_speedups(model: nn.Module, *, int8: bool = False, channels_last: bool = False,
                   threads: int | None = None) -> nn.Module:
    """Return ``model`` (modified in place where possible) with the chosen speed-ups."""
    if threads:
        torch.set_num_threads(int(threads))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if int8:
        from torch.ao.quantization import quantize_dynamic

        if next(model.parameters()).device.type != "cpu":
            raise ValueError("int8 dynamic quantisation runs on the CPU only")
        # Only the trainable SR/guidance parts: the prior's own numerics stay untouched.
        model.guidance = quantize_dynamic(model.guidance, {nn.Linear}, dtype=torch.qint8)
        model.blocks = quantize_dynamic(model.blocks, {nn.GRU, nn.Linear}, dtype=torch.qint8)
    return model
