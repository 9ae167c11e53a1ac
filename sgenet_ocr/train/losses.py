"""The training losses: the pixel term, and the text-focus terms read through a recogniser."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import UsageError
from ..metrics import word_correct


class TextFocus:
    """Recognition-guided losses through the frozen prior (CTC, distillation, feature matching)."""

    def __init__(self, prior):
        self.prior = prior
        self.index = {ch: i for i, ch in enumerate(prior.charset) if i > 0 and ch}

    def encode(self, labels: list[str], device: torch.device | str = "cpu"):
        """CTC targets on ``device``; a label with a character outside the charset is left out (mask)."""
        targets, lengths, keep = [], [], []
        for label in labels:
            ids = [self.index.get(ch) for ch in label]
            ok = bool(ids) and None not in ids
            keep.append(ok)
            if ok:
                targets.extend(ids)
                lengths.append(len(ids))
        return (torch.tensor(targets, dtype=torch.long, device=device),
                torch.tensor(lengths, dtype=torch.long, device=device),
                torch.tensor(keep, dtype=torch.bool, device=device))

    def ctc(self, probs: torch.Tensor, labels: list[str]) -> torch.Tensor:
        """Per-crop CTC divided by the label length, shape (N,); 0 where the label is unusable."""
        # On the probabilities' device: a CUDA loss divided by CPU lengths would raise.
        targets, lengths, keep = self.encode(labels, probs.device)
        losses = probs.new_zeros(probs.shape[0])
        if not keep.any():
            return losses + probs.sum() * 0.0
        log_probs = probs[keep].clamp_min(1e-8).log().transpose(0, 1)  # (T, N, C)
        steps = torch.full((log_probs.shape[1],), log_probs.shape[0], dtype=torch.long, device=probs.device)
        per_crop = F.ctc_loss(log_probs.float(), targets, steps, lengths, blank=0,
                              reduction="none", zero_infinity=True)
        return losses.masked_scatter(keep, per_crop / lengths.clamp_min(1))

    @staticmethod
    def distill(probs_sr: torch.Tensor, probs_hr: torch.Tensor) -> torch.Tensor:
        """Per-crop KL(prior(HR) || prior(SR)) averaged over time steps, shape (N,)."""
        p = probs_hr.clamp_min(1e-8)
        return (p * (p.log() - probs_sr.clamp_min(1e-8).log())).sum(-1).mean(-1)

    @staticmethod
    def feature_match(feats_sr: torch.Tensor, feats_hr: torch.Tensor) -> torch.Tensor:
        """Per-crop mean squared difference of the reader's sequence features on SR and on HR,
        shape (N,): how differently the recogniser sees the two, dense where CTC is sparse."""
        return (feats_sr - feats_hr).pow(2).flatten(1).mean(1)

    def legible(self, probs_hr: torch.Tensor, labels: list[str]) -> torch.Tensor:
        """(N,) mask: the prior reads the HR crop as its label. On the other crops even a
        perfect SR would leave the recogniser wrong, and their large losses only add noise."""
        texts = decoded_texts(self.prior.decode(probs_hr))
        return torch.tensor([bool(word_correct(t, l)) for t, l in zip(texts, labels)])


def pixel_loss(sr: torch.Tensor, hr: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "l1":
        return F.l1_loss(sr, hr)
    if kind == "l2":
        return F.mse_loss(sr, hr)
    raise UsageError(f"loss.pixel must be l1 or l2, not {kind!r}")


def at_size_of(hr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
    """The HR targets at the output's size: unchanged for x2 weights; bicubic-resized for
    weights whose output is the recogniser's input size (``output_scale``)."""
    if hr.shape[-2:] == sr.shape[-2:]:
        return hr
    return F.interpolate(hr, size=sr.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)


def decoded_texts(decoded) -> list[str]:
    """``prior.decode`` may return strings or ``(text, confidence)`` pairs."""
    return [d[0] if isinstance(d, (tuple, list)) else str(d) for d in decoded]
