"""The optimiser and the exponential moving average of the weights that every export writes."""
from __future__ import annotations

import torch

from ..errors import UsageError


def make_optimizer(params, tcfg: dict) -> torch.optim.Optimizer:
    """``train.optimizer`` adamw (default) or adam (LEMMA/SGENet use Adam, beta1 0.5), with
    ``train.betas``."""
    kind = tcfg.get("optimizer", "adamw")
    options = {"lr": tcfg["lr"], "weight_decay": tcfg["weight_decay"], "betas": tuple(tcfg.get("betas", (0.9, 0.999)))}
    if kind == "adamw":
        return torch.optim.AdamW(params, **options)
    if kind == "adam":
        return torch.optim.Adam(params, **options)
    raise UsageError(f"train.optimizer must be adamw or adam, not {kind!r}")


class Ema:
    """Exponential moving average of the trainable parameters (the prior stays frozen)."""

    def __init__(self, named_params: dict[str, torch.nn.Parameter], decay: float):
        self.decay = decay
        self.params = named_params
        self.shadow = {k: p.detach().clone() for k, p in named_params.items()}

    @torch.no_grad()
    def update(self, step: int) -> None:
        # Short runs: ramp the decay up so early weights do not dominate the average.
        decay = min(self.decay, (1 + step) / (10 + step))
        for k, p in self.params.items():
            self.shadow[k].mul_(decay).add_(p.detach(), alpha=1 - decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange live and EMA weights (call twice to restore)."""
        for k, p in self.params.items():
            tmp = p.detach().clone()
            p.copy_(self.shadow[k])
            self.shadow[k].copy_(tmp)
