"""Crop restorers: the stage between text detection and recognition."""
from __future__ import annotations

from typing import Sequence

import numpy as np


class Restorer:
    """Turns text crops into larger, more legible ones.

    Subclasses implement :meth:`restore`. Crops are RGB ``uint8`` arrays ``(h, w, 3)`` of any
    size; the result has one restored RGB ``uint8`` array per crop, usually ``scale`` times
    larger. Optional capabilities have defaults.
    """

    name: str = "restorer"
    scale: int = 2
    #: The semantic prior whose per-step probabilities :meth:`restore` accepts as ``prior_probs``
    #: (an engine whose ``recognizer_prior`` matches provides them), over :attr:`prior_charset`.
    #: ``None`` (the default): ``restore`` is called with the crops only.
    guided_by: str | None = None
    prior_charset: Sequence[str] = ()

    def restore(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Restore ``crops``. A restorer with :attr:`guided_by` also takes ``prior_probs``: one
        ``(T, len(prior_charset))`` array or ``None`` (run the prior) per crop."""
        raise NotImplementedError

    def prepare_guidance(self) -> None:
        """Load what restoring with ``prior_probs`` needs. Called once by a pipeline whose engine
        will provide them, so that no page pays for it; by default nothing to load."""

    def close(self) -> None:
        """Release resources; called once when the pipeline is closed."""


class IdentityRestorer(Restorer):
    """Returns crops unchanged: the engine-alone baseline."""

    name = "identity"
    scale = 1

    def restore(self, crops):
        return [np.ascontiguousarray(c) for c in crops]


def bicubic_upscale(crop: np.ndarray, scale: int) -> np.ndarray:
    """``crop`` resized bicubically to ``scale`` times its size."""
    from ..imaging import resize

    return resize(crop, crop.shape[1] * scale, crop.shape[0] * scale)


class BicubicRestorer(Restorer):
    """Bicubic x2 upscaling: the classical baseline every SR model must beat."""

    name = "bicubic"

    def __init__(self, scale: int = 2):
        self.scale = scale

    def restore(self, crops):
        return [bicubic_upscale(c, self.scale) for c in crops]
