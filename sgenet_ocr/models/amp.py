"""Mixed precision: what must stay in fp32 when the trainer runs under bf16 autocast."""
from __future__ import annotations

from typing import Any, Callable

import torch


def fp32_recurrent(fn: Callable[..., Any], *inputs: Any) -> Any:
    """Call ``fn`` (an RNN, or a network holding one) in fp32 even under autocast.

    CUDA autocast runs cuDNN's RNNs in fp16 whatever dtype it was asked for (it has no bf16
    path for them), and without a gradient scaler the small gradients that reach a GRU or LSTM
    underflow there to zero: the layer stops learning and nothing raises. Floating-point tensor
    inputs are cast to fp32; anything else passes through. Outside autocast it is ``fn(*inputs)``.
    """
    device = next((t.device.type for t in inputs if torch.is_tensor(t)), "cpu")
    if not torch.is_autocast_enabled(device):
        return fn(*inputs)
    with torch.autocast(device, enabled=False):
        return fn(*(t.float() if torch.is_tensor(t) and t.is_floating_point() else t for t in inputs))
