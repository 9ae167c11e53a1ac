"""The interface an OCR engine plugin implements."""
from __future__ import annotations

from typing import Sequence

import numpy as np


class OcrEngine:
    """An OCR engine split into its two stages so a restorer can sit between them.

    Required: :meth:`detect` and :meth:`recognize`. Everything else is an optional capability
    with a default, so new capabilities can be added without breaking existing engines.

    Images and crops are ``uint8`` arrays in :attr:`color_order` ("RGB" or "BGR"); the core
    converts them before calling the engine.
    """

    name: str = "engine"
    color_order: str = "RGB"
    #: The restorer a :class:`~sgenet_ocr.pipeline.Pipeline` uses with this engine when the user
    #: names none; ``None`` means the package default (``sgenet`` once weights are shipped).
    #: An engine whose recogniser reads the default's output worse says so here.
    preferred_restorer: str | None = None
    #: The shipped weights (a name in :data:`sgenet_ocr.models.PRETRAINED`) the SGENet restorers
    #: use with this engine when the user names none (no ``weights=``, no ``$SGENET_WEIGHTS``):
    #: weights fine-tuned with this engine's own recogniser reading the SR output.
    #: ``None``: the generic weights.
    preferred_weights: str | None = None
    #: The semantic prior (a name in :data:`sgenet_ocr.models.prior.PRIORS`) this engine's
    #: recognition pass stands in for: its recogniser *is* that network (RapidOCR, PaddleOCR), or
    #: its probabilities, mapped onto the prior's charset and steps, were measured to guide as
    #: well (EasyOCR). When it matches the restorer's prior, the stage reads the small crops with
    #: :meth:`recognize_with_probs` first and hands those probabilities to SGENet, so the prior
    #: does not run a second time. ``None``: cannot stand in (the default).
    recognizer_prior: str | None = None
    #: Under a keep policy that reads the original crop (the default ``confident``), a reading
    #: of it at least this confident is kept and the crop is not restored: restoring it costs
    #: time and mostly swaps a right reading for a wrong but more confident one. Confidence
    #: scales differ per engine, so each measures its own; ``None``: restore every small crop.
    trusted_confidence: float | None = None

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Find text in a page.

        Args:
            image: ``(H, W, 3)`` ``uint8`` page in :attr:`color_order`.

        Returns:
            A list of ``(4, 2)`` float32 quads in page pixels, clockwise from top-left.
        """
        raise NotImplementedError

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Read a batch of rectified, horizontal text crops.

        Args:
            crops: ``(h, w, 3)`` ``uint8`` crops in :attr:`color_order`, of any sizes.

        Returns:
            One ``(text, confidence)`` per crop, confidence in ``[0, 1]``.
        """
        raise NotImplementedError

    # Optional capabilities ---------------------------------------------------------------

    def recognize_with_probs(self, crops: Sequence[np.ndarray], charset: Sequence[str]
                             ) -> tuple[list[tuple[str, float]], list[np.ndarray] | None]:
        """:meth:`recognize`, plus the recogniser's per-step character probabilities of each crop.

        Only called when :attr:`recognizer_prior` names the restorer's prior.

        Args:
            crops: as for :meth:`recognize`.
            charset: the prior's classes; index 0 is the CTC blank.

        Returns:
            ``(readings, probs)``: ``readings`` as :meth:`recognize` returns them; ``probs`` one
            float32 ``(T, len(charset))`` array per crop, the steps that cover the crop (padding
            steps dropped) laid out as the prior's (PP-OCRv4: one per 8 columns at height 48,
            :func:`sgenet_ocr.prior_probs.recognizer_steps`), each step renormalised over ``charset``
            (:func:`sgenet_ocr.models.charset.reduce_probs`), or ``None`` for "cannot" (the
            default). A crop the engine turned before reading gets ``None`` in place of its array.
        """
        return self.recognize(crops), None

    def version(self) -> str:
        """A version string for reports (engine package version and model names)."""
        return "unknown"

    def close(self) -> None:
        """Release resources (sessions, threads). Called once when the pipeline is closed."""
