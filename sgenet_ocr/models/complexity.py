"""Parameter and multiply-accumulate counts for SGENet's budget.

What is counted: multiply-accumulates (MACs) of convolutions, linear layers, attention
(QK^T and AV products) and the GRU gate matmuls, as measured by ``torch.utils.flop_counter`` (which reports
FLOPs = 2 x MACs for those ops). Element-wise ops, normalisation, activations and softmax are
not counted. The paper's "FLOPs" (0.98 G, measured with thop) are MACs in this sense, so the
budget "<= 1.0 G at 16x64" is checked on MACs; FLOPs are reported as 2 x MACs alongside.

The SR branch + alignment (everything trainable) is counted with precomputed prior outputs;
the frozen prior is counted separately at the input size it really sees.
"""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from .sgenet import SGENet


def _cpu_attention_flops(query_shape, key_shape, value_shape, *_, out_shape=None, **__) -> int:
    # torch counts the CUDA attention kernels but not the CPU flash kernel; same formula.
    return sdpa_flop_count(query_shape, key_shape, value_shape)


EXTRA_FORMULAS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_attention_flops}


def _macs(fn, *args, **kwargs) -> int:
    counter = FlopCounterMode(display=False, custom_mapping=EXTRA_FORMULAS)
    with torch.no_grad(), counter:
        fn(*args, **kwargs)
    return counter.get_total_flops() // 2


def trainable_parameters(model: SGENet) -> int:
    """Parameters outside the frozen prior (the SR branch and the semantic alignment)."""
    return sum(p.numel() for name, p in model.named_parameters() if not name.startswith("prior."))


def prior_parameters(model: SGENet) -> int:
    return sum(p.numel() for p in model.prior.parameters())


def model_macs(model: SGENet, width: int = 64, batch: int = 1) -> dict[str, int]:
    """MACs per crop of the SR branch + alignment and of the prior at LR size 16 x ``width``."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    lr = torch.rand(batch, 3, model.config.input_height, width, device=device)
    try:
        with torch.no_grad():
            probs = model.prior(lr)
        sr = _macs(model, lr, prior_probs=probs)
        prior = _macs(model.prior, lr)
    finally:
        model.train(was_training)
    return {"sr_macs": sr // batch, "prior_macs": prior // batch}
